"""The Secretariat's own record of the reviews: what happened to each review and party, and when.

A public report gives counts; the Secretariat follows every review on RevMod and knows, for
each, when each focal point was nominated or replaced, which reviewers were redrawn, when the
consultation was held, when the SAQ and the written feedback arrived, when the lists were
agreed and when the review was completed.  A *review record* is that knowledge as three
files in one folder (format 1; ``docs/reference/record.md`` documents every field):

``record.toml``
    ``[record]``: ``format = 1``, ``as_at`` (the date the record is complete to), ``source``
    (where it comes from), ``synthetic`` (true for a record the model generated), an optional
    ``description`` and, for a synthetic record, a ``[record.generated]`` table saying how.
``pairings.csv``
    The reviews as they stand at ``as_at``, after any redraw: the pairing-list format
    (review, group, party_under_review, reviewer_1, reviewer_2), which ``--pairings`` also reads.
``events.csv``
    One row per event: review, party, role, event, date, detail (see :data:`EVENTS`).

Everything is checked before anything is used: an unknown column or event, a date after
``as_at`` or before the review's group started, an event twice, a stage before the one it
needs (an SAQ before the consultation; a consultation before all three focal points), a
redraw chain that does not end at the reviewer of ``pairings.csv``: each is an
:class:`~workbench.core.errors.InputError` naming the file, the line and the field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from workbench.core.errors import InputError, read_toml
from workbench.core.timeline import EPOCH, GROUP_STARTS, to_day
from workbench.core.timeline import today as todays_date
from workbench.inputs.csv_rows import read_rows
from workbench.inputs.parties import CSV_COLUMNS, Pairings, first_involvement, load_pairings

RECORD_FORMAT = 1
RECORD_FILE, PAIRINGS_FILE, EVENTS_FILE = "record.toml", "pairings.csv", "events.csv"
RECORD_FILES = (RECORD_FILE, PAIRINGS_FILE, EVENTS_FILE)
EVENT_COLUMNS = ("review", "party", "role", "event", "date", "detail")
REDRAW_ROLES = ("reviewer_1", "reviewer_2")
MAX_LANGUAGES = 3  # one, two or three working languages (¶28)
MAX_REDRAWS = 4  # a party may have the drawing of lots repeated up to four times (¶6)


@dataclass(frozen=True)
class EventKind:
    """One kind of event in ``events.csv``: about a party or a review, and what it means."""

    about: str  # "party" or "review"
    meaning: str
    paragraphs: str
    detail: str = ""  # what the detail column holds ("" : it must be empty)


#: Every event a record may hold.  The review's stage events come in this order, each needing
#: the one before it (:data:`REVIEW_STAGE_EVENTS`).
EVENTS: dict[str, EventKind] = {
    "focal_point_nominated": EventKind("party", "The party's first focal point is nominated.", "¶11-15"),
    "focal_point_replaced": EventKind(
        "party", "The party's focal point leaves: a new one takes over (a handover, its reviews stall).", "¶13-14"
    ),
    "focal_point_in_place": EventKind(
        "party", "The new focal point has taken over after a replacement (recorded where handovers_recorded = true).", "¶14"
    ),
    "reviewer_redrawn": EventKind(
        "review",
        "The drawing of lots is repeated for one reviewing State of the review: party is the new reviewer, role its position.",
        "¶6-7",
        "the party it replaces",
    ),
    "ready_for_consultation": EventKind(
        "review",
        "The review is formally ready: its three focal points are in place (optional; else the day of the last of them).",
        "¶26, ¶29",
    ),
    "consultation_scheduled": EventKind(
        "review",
        "The parties have agreed the consultation's date: the Secretariat organizes it (optional; without it a review "
        "ready at the record's date starts its scheduling afresh).",
        "¶26-27, ¶42-43",
    ),
    "consultation_held": EventKind(
        "review", "The preliminary consultation is held: the SAQ's six months begin.", "¶26-29", "the working languages agreed: 1, 2 or 3"
    ),
    "saq_submitted": EventKind("review", "The party under review submits its self-assessment questionnaire.", "¶30-32"),
    "feedback_sent": EventKind("review", "The reviewing States send their joint written feedback.", "¶34-36"),
    "lists_agreed": EventKind("review", "The three parties agree the lists of observations; the summaries begin.", "¶37-39"),
    "completed": EventKind("review", "The lists and summaries are finalized: the review counts towards the 70 %.", "¶24-25, ¶38"),
}
REVIEW_STAGE_EVENTS = ("consultation_held", "saq_submitted", "feedback_sent", "lists_agreed", "completed")


@dataclass(frozen=True)
class ReviewRecord:
    """A checked review record; days are simulation days (see :func:`workbench.core.timeline.to_day`)."""

    path: Path
    as_at: dt.date
    source: str
    synthetic: bool
    description: str
    pairings: Pairings  # the reviews as they stand at as_at
    stage_events: np.ndarray  # (n_reviews, len(REVIEW_STAGE_EVENTS)) day of each; NaN: not yet
    ready_at: np.ndarray  # (n_reviews,) the day it was formally ready, where the record says; NaN: not said
    ready_recorded: bool  # every ready review has its ready_for_consultation: one without is not ready
    scheduled_at: np.ndarray  # (n_reviews,) the day its consultation's date was agreed; NaN: not said
    languages: np.ndarray  # (n_reviews,) agreed at the consultation; 0: not yet
    nominated_at: np.ndarray  # (n_parties,) day of the first focal point; NaN: not yet
    handovers: np.ndarray  # (k, 3) rows of (party, day it left, day the new one took over: NaN not recorded, inf not yet)
    handovers_recorded: bool  # every replacement's end is recorded: one without is still under way
    redraws: np.ndarray  # (k, 5) rows of (day, review, slot, old party, new party), by date
    generated: dict = field(default_factory=dict)  # how a synthetic record was made

    @property
    def day(self) -> float:
        return float(to_day(self.as_at))

    @property
    def first_replaced_at(self) -> np.ndarray:
        """(n_parties,) the day each party's focal point was first replaced; NaN: never."""
        out = np.full(self.pairings.n_parties, np.nan)
        for p, left, _ in self.handovers:
            if not out[int(p)] <= left:
                out[int(p)] = left
        return out

    def in_handover_since(self) -> np.ndarray:
        """(n_parties,) the day a handover still under way at the record's date began; NaN: none
        (or not known, where the record does not follow handovers to their end)."""
        out = np.full(self.pairings.n_parties, np.nan)
        if self.handovers_recorded:
            for p, left, back in self.handovers:
                if back == np.inf:
                    out[int(p)] = left
        return out

    def first_involved(self) -> np.ndarray:
        """(n_parties,) the day each party was first asked to act: the start of the first group it
        took part in as the reviews were first drawn.  A reviewer drawn in later already had a focal
        point, and one drawn out had been asked from its group's start: read from today's pairings,
        the first would seem asked since the earlier group and the second only since a later one."""
        reviewers = self.pairings.reviewers.copy()
        for _, review, slot, old, _ in self.redraws[::-1]:  # undo the redraws, latest first
            reviewers[int(review), int(slot) - 1] = int(old)
        p = self.pairings
        as_drawn = Pairings(p.parties, p.review_ids, p.group, p.under_review, reviewers, source=p.source)
        return first_involvement(as_drawn, {g: to_day(d) for g, d in GROUP_STARTS.items()})

    def stage_event_day(self, event: str) -> np.ndarray:
        return self.stage_events[:, REVIEW_STAGE_EVENTS.index(event)]

    def redraws_used(self) -> tuple[np.ndarray, np.ndarray]:
        """Each review's redraws so far, and the day of its last (NaN: none)."""
        n = self.pairings.n_reviews
        used, last = np.zeros(n, np.int64), np.full(n, np.nan)
        for day, review, *_ in self.redraws:
            used[int(review)] += 1
            last[int(review)] = day
        return used, last

    def ready_day(self) -> np.ndarray:
        """The day each review was formally ready for its consultation (¶26): the record's
        ready_for_consultation where it gives one, else the day it had all three focal points (and
        its last redraw behind it); NaN if it is not yet."""
        members = np.column_stack([self.pairings.under_review, self.pairings.reviewers])
        ready = np.max(self.nominated_at[members], axis=1)  # NaN while any is missing
        _, last_redraw = self.redraws_used()
        derived = np.where(np.isnan(last_redraw), ready, np.maximum(ready, last_redraw))
        return self.ready_at.copy() if self.ready_recorded else np.where(np.isfinite(self.ready_at), self.ready_at, derived)

    def label(self) -> str:
        kind = "synthetic record" if self.synthetic else "record"
        return f"{kind} as at {self.as_at.isoformat()} ({self.path.name})"


# --- record.toml -------------------------------------------------------------------------
_HEAD_KEYS = ("format", "as_at", "source", "synthetic", "description", "ready_recorded", "handovers_recorded", "generated")


def _read_head(folder: Path, today: dt.date) -> dict:
    path = folder / RECORD_FILE
    table = read_toml(path, "record description")
    head = table.get("record")
    if not isinstance(head, dict) or set(table) != {"record"}:
        raise InputError(path, "(file)", "must hold one [record] table and nothing else", "[record] with " + ", ".join(_HEAD_KEYS))
    for key in head:
        if key not in _HEAD_KEYS:
            raise InputError(path, f"record.{key}", "unknown key", ", ".join(_HEAD_KEYS))
    if head.get("format") != RECORD_FORMAT:
        raise InputError(path, "record.format", f"{head.get('format')!r} is not a format this workbench reads", f"{RECORD_FORMAT}")
    as_at = head.get("as_at")
    first = min(GROUP_STARTS.values())
    if not isinstance(as_at, dt.date) or isinstance(as_at, dt.datetime) or not first < as_at <= today:
        raise InputError(path, "record.as_at", f"{as_at!r}", f"a date (YYYY-MM-DD) after {first} and not after today, {today}")
    source = head.get("source")
    if not isinstance(source, str) or not source.strip():
        raise InputError(path, "record.source", f"{source!r}", "a non-empty text")
    if not isinstance(head.get("synthetic"), bool):
        raise InputError(path, "record.synthetic", f"{head.get('synthetic')!r}", "true or false")
    for flag in ("ready_recorded", "handovers_recorded"):
        if not isinstance(head.get(flag, False), bool):
            raise InputError(path, f"record.{flag}", f"{head.get(flag)!r}", "true or false")
    if not isinstance(head.get("description", ""), str):
        raise InputError(path, "record.description", "must be a text", "a text")
    if not isinstance(head.get("generated", {}), dict):
        raise InputError(path, "record.generated", "must be a table", "[record.generated]")
    if head.get("synthetic") and not head.get("generated"):
        raise InputError(path, "record.generated", "a synthetic record must say how it was generated", "a [record.generated] table")
    return head


# --- events.csv ----------------------------------------------------------------------------
class _Events:
    """The events of one record as they are read, row by row, with the checks each row needs."""

    def __init__(self, path: Path, pairings: Pairings, as_at: dt.date, ready_recorded: bool, handovers_recorded: bool):
        self.path, self.pairings, self.as_at = path, pairings, as_at
        self.ready_recorded, self.handovers_recorded = ready_recorded, handovers_recorded
        self.handovers: list[tuple[float, float, float]] = []
        self.review_index = {r: i for i, r in enumerate(pairings.review_ids)}
        self.party_index = {p: i for i, p in enumerate(pairings.parties)}
        n, m = pairings.n_reviews, pairings.n_parties
        self.stage_events = np.full((n, len(REVIEW_STAGE_EVENTS)), np.nan)
        self.stage_lines = np.zeros((n, len(REVIEW_STAGE_EVENTS)), np.int64)
        self.ready_at, self.ready_line = np.full(n, np.nan), np.zeros(n, np.int64)
        self.scheduled_at, self.scheduled_line = np.full(n, np.nan), np.zeros(n, np.int64)
        self.languages = np.zeros(n, np.int64)
        self.nominated_at, self.nominated_line = np.full(m, np.nan), np.zeros(m, np.int64)
        self.replacements: list[tuple[int, float, int]] = []  # (party, day, line)
        self.in_place: list[tuple[int, float, int]] = []  # (party, day, line)
        self.redraws: list[tuple[float, int, int, int, int, int]] = []  # (day, review, slot, old, new, line)
        group_start = {g: d for g, d in GROUP_STARTS.items()}
        self.review_start = [group_start[int(g)] for g in pairings.group]
        self.party_start = [dt.date.max] * m
        for r in range(n):
            for p in pairings.members(r):
                self.party_start[p] = min(self.party_start[p], self.review_start[r])

    def error(self, line: int, column: str, problem: str, allowed: str) -> InputError:
        return InputError(self.path, f"line {line}, {column}", problem, allowed)

    def date(self, line: int, text: str, earliest: dt.date, what: str) -> float:
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise self.error(line, "date", f"{text!r} is not a date", "YYYY-MM-DD") from None
        if day > self.as_at:
            raise self.error(line, "date", f"{day} is after the record's as_at date", f"a date up to {self.as_at}")
        if day < earliest:
            raise self.error(line, "date", f"{day} is before {what} started", f"a date from {earliest} to {self.as_at}")
        return float(to_day(day))

    def read(self, line: int, row: dict[str, str]) -> None:
        event = row["event"]
        kind = EVENTS.get(event)
        if kind is None:
            raise self.error(line, "event", f"unknown event {event!r}", ", ".join(EVENTS))
        if row["detail"] and not kind.detail:
            raise self.error(line, "detail", f"{row['detail']!r} given for {event}", "empty for this event")
        if row["role"] and event != "reviewer_redrawn":
            raise self.error(line, "role", f"{row['role']!r} given for {event}", "empty except for reviewer_redrawn")
        if kind.about == "party":
            if row["review"]:
                raise self.error(line, "review", f"{row['review']!r} given for {event}, an event of a party", "empty")
            self._party_event(line, event, self._party(line, "party", row["party"]), row["date"])
            return
        r = self._review(line, row["review"])
        if event == "reviewer_redrawn":
            self._redraw(line, r, row)
            return
        if row["party"]:
            raise self.error(line, "party", f"{row['party']!r} given for {event}, an event of the review", "empty")
        day = self.date(line, row["date"], self.review_start[r], f"the review's group (group {self.pairings.group[r]})")
        if event in ("ready_for_consultation", "consultation_scheduled"):
            days, lines = (
                (self.ready_at, self.ready_line) if event == "ready_for_consultation" else (self.scheduled_at, self.scheduled_line)
            )
            if lines[r]:
                raise self.error(line, "event", f"{event} of {row['review']} is already on line {lines[r]}", "each once")
            days[r], lines[r] = day, line
            return
        k = REVIEW_STAGE_EVENTS.index(event)
        if self.stage_lines[r, k]:
            raise self.error(line, "event", f"{event} of {row['review']} is already on line {self.stage_lines[r, k]}", "each once")
        self.stage_events[r, k], self.stage_lines[r, k] = day, line
        if event == "consultation_held":
            text = row["detail"]
            if text not in [str(k) for k in range(1, MAX_LANGUAGES + 1)]:
                raise self.error(line, "detail", f"{text!r} working languages", f"a whole number from 1 to {MAX_LANGUAGES}")
            self.languages[r] = int(text)

    def _review(self, line: int, name: str) -> int:
        if name not in self.review_index:
            raise self.error(line, "review", f"{name!r} is not a review of {PAIRINGS_FILE}", "a review id of " + PAIRINGS_FILE)
        return self.review_index[name]

    def _party(self, line: int, column: str, name: str) -> int:
        if name not in self.party_index:
            raise self.error(line, column, f"{name!r} is not a party of {PAIRINGS_FILE}", "a party of " + PAIRINGS_FILE)
        return self.party_index[name]

    def _party_event(self, line: int, event: str, p: int, text: str) -> None:
        day = self.date(line, text, self.party_start[p], "the party's first group")
        if event in ("focal_point_replaced", "focal_point_in_place"):
            (self.replacements if event == "focal_point_replaced" else self.in_place).append((p, day, line))
            return
        if self.nominated_line[p]:
            raise self.error(
                line,
                "event",
                f"{self.pairings.parties[p]}'s first focal point is already on line {self.nominated_line[p]}",
                "one focal_point_nominated per party; later changes are focal_point_replaced",
            )
        self.nominated_at[p], self.nominated_line[p] = day, line

    def _redraw(self, line: int, r: int, row: dict[str, str]) -> None:
        if row["role"] not in REDRAW_ROLES:
            raise self.error(line, "role", f"{row['role']!r}", " or ".join(REDRAW_ROLES))
        new = self._party(line, "party", row["party"])
        old = self._party(line, "detail", row["detail"])
        if new == old or self.pairings.under_review[r] in (new, old):
            raise self.error(
                line, "party", "a redraw must replace one reviewing State by another", "two different parties, neither under this review"
            )
        day = self.date(line, row["date"], self.review_start[r], f"the review's group (group {self.pairings.group[r]})")
        self.redraws.append((day, r, REDRAW_ROLES.index(row["role"]) + 1, old, new, line))


def _check_consistency(ev: _Events) -> None:
    """What no single row shows: stages in order, each after the one it needs; replacements after
    nominations; redraw chains that end at today's reviewers; at most four redraws a review."""
    pairings, names = ev.pairings, ev.pairings.review_ids
    for p, day, line in ev.replacements:
        if not day >= ev.nominated_at[p]:  # NaN too: never nominated
            raise ev.error(
                line,
                "date",
                f"{pairings.parties[p]}'s focal point is replaced before it was first nominated",
                "a date after its focal_point_nominated",
            )
    ev.handovers = _handovers(ev)
    ev.redraws.sort()
    used = np.zeros(pairings.n_reviews, np.int64)
    for _day, r, *_, line in ev.redraws:
        used[r] += 1
        if used[r] > MAX_REDRAWS:
            raise ev.error(line, "event", f"a redraw for {names[r]} beyond the fourth", f"at most {MAX_REDRAWS} redraws a review (¶6)")
    _check_redraw_chains(ev)
    for r in range(pairings.n_reviews):
        _check_stages(ev, r)


def _handovers(ev: _Events) -> list[tuple[float, float, float]]:
    """Each party's replacements paired with the day the new focal point took over: (party, left,
    back), back NaN where the record does not follow handovers, inf while one is under way."""
    out: list[tuple[float, float, float]] = []
    events = sorted([(p, day, 0, line) for p, day, line in ev.replacements] + [(p, day, 1, line) for p, day, line in ev.in_place])
    open_since: dict[int, float] = {}
    for p, day, kind, line in events:
        name = ev.pairings.parties[p]
        if kind == 1:
            if not ev.handovers_recorded:
                raise ev.error(
                    line, "event", "focal_point_in_place where handovers are not followed", "handovers_recorded = true in record.toml"
                )
            if p not in open_since:
                raise ev.error(
                    line, "event", f"{name}'s new focal point takes over with no replacement under way", "a focal_point_replaced first"
                )
            out.append((p, open_since.pop(p), day))
        elif ev.handovers_recorded and p in open_since:
            raise ev.error(
                line, "event", f"{name}'s focal point is replaced again before the last one took over", "a focal_point_in_place between"
            )
        elif ev.handovers_recorded:
            open_since[p] = day
        else:
            out.append((p, day, np.nan))
    out += [(p, since, np.inf) for p, since in open_since.items()]
    return sorted(out)


def _check_redraw_chains(ev: _Events) -> None:
    """Each slot's redraws follow one another (each replaces the last one drawn) and end at the
    reviewer ``pairings.csv`` names."""
    pairings = ev.pairings
    last_new: dict[tuple[int, int], tuple[int, int]] = {}
    for _, r, slot, old, new, line in ev.redraws:
        before = last_new.get((r, slot))
        if before is not None and before[0] != old:
            raise ev.error(
                line,
                "detail",
                f"replaces {pairings.parties[old]}, but line {before[1]} drew {pairings.parties[before[0]]} there",
                "the party drawn by the slot's previous redraw",
            )
        last_new[(r, slot)] = (new, line)
    for (r, slot), (new, line) in last_new.items():
        current = int(pairings.reviewers[r, slot - 1])
        if new != current:
            raise ev.error(
                line,
                "party",
                f"{pairings.parties[new]} was drawn last, but {PAIRINGS_FILE} names {pairings.parties[current]}",
                f"the {REDRAW_ROLES[slot - 1]} of {PAIRINGS_FILE}",
            )


def _check_stages(ev: _Events, r: int) -> None:
    """The review's stage events each follow the one they need, and the consultation follows all
    three focal points and the last redraw."""
    days, lines = ev.stage_events[r], ev.stage_lines[r]
    for k in range(1, len(REVIEW_STAGE_EVENTS)):
        if lines[k] and not lines[k - 1]:
            raise ev.error(
                lines[k], "event", f"{REVIEW_STAGE_EVENTS[k]} without {REVIEW_STAGE_EVENTS[k - 1]}", f"{REVIEW_STAGE_EVENTS[k - 1]} first"
            )
        if lines[k] and days[k] < days[k - 1]:
            raise ev.error(
                lines[k],
                "date",
                f"{REVIEW_STAGE_EVENTS[k]} before {REVIEW_STAGE_EVENTS[k - 1]} (line {lines[k - 1]})",
                "a date on or after it",
            )
    _check_ready(ev, r)
    _check_scheduled(ev, r)
    if not lines[0]:
        return
    for p in ev.pairings.members(r):
        if not ev.nominated_at[p] <= days[0]:
            when = f"nominated only on line {ev.nominated_line[p]}" if ev.nominated_line[p] else "never nominated"
            raise ev.error(
                lines[0],
                "date",
                f"the consultation of {ev.pairings.review_ids[r]} is held before {ev.pairings.parties[p]} had a focal point ({when})",
                "a date after all three focal points",
            )
    for day, redrawn, *_, line in ev.redraws:
        if redrawn == r and day > days[0]:
            raise ev.error(
                line,
                "date",
                f"a redraw after the consultation of {ev.pairings.review_ids[r]} (line {lines[0]})",
                "a date before the consultation",
            )


def _check_ready(ev: _Events, r: int) -> None:
    """A review is ready once its three focal points are nominated and its last redraw is behind
    it, and before its consultation."""
    line = int(ev.ready_line[r])
    if not line:
        if ev.ready_recorded and ev.stage_lines[r, 0]:
            raise ev.error(
                int(ev.stage_lines[r, 0]),
                "event",
                f"a consultation of {ev.pairings.review_ids[r]}, never ready",
                "ready_for_consultation first (ready_recorded = true)",
            )
        return
    day, name = ev.ready_at[r], ev.pairings.review_ids[r]
    for p in ev.pairings.members(r):
        if not ev.nominated_at[p] <= day:
            raise ev.error(
                line, "date", f"{name} is ready before {ev.pairings.parties[p]} had a focal point", "a date after all three focal points"
            )
    for redraw_day, redrawn, *_, redraw_line in ev.redraws:
        if redrawn == r and redraw_day > day:
            raise ev.error(
                line, "date", f"{name} is ready before its redraw on line {redraw_line}", "a date after the review's last redraw"
            )
    consultation = ev.stage_lines[r, 0]
    if consultation and ev.stage_events[r, 0] < day:
        raise ev.error(
            line, "date", f"{name} is ready after its consultation (line {consultation})", "a date on or before the consultation"
        )
    scheduled = ev.scheduled_line[r]
    if scheduled and ev.scheduled_at[r] < day:
        raise ev.error(
            int(scheduled), "date", f"{name}'s consultation is scheduled before it was ready (line {line})", "a date on or after it"
        )


def _check_scheduled(ev: _Events, r: int) -> None:
    """A consultation's date is agreed once the three focal points are there, and before it is held."""
    line = int(ev.scheduled_line[r])
    if not line:
        return
    day, name = ev.scheduled_at[r], ev.pairings.review_ids[r]
    for p in ev.pairings.members(r):
        if not ev.nominated_at[p] <= day:
            raise ev.error(
                line,
                "date",
                f"{name}'s consultation is scheduled before {ev.pairings.parties[p]} had a focal point",
                "a date after all three focal points",
            )
    consultation = ev.stage_lines[r, 0]
    if consultation and ev.stage_events[r, 0] < day:
        raise ev.error(
            line, "date", f"{name}'s consultation is scheduled after it was held (line {consultation})", "a date on or before it"
        )


def load_record(folder: str | Path, today: dt.date | None = None) -> ReviewRecord:
    """Read and check the review record in ``folder`` (see the module's docstring)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(
            folder, "(folder)", "record folder not found", f"a folder holding {RECORD_FILE}, {PAIRINGS_FILE} and {EVENTS_FILE}"
        )
    head = _read_head(folder, today or todays_date())
    pairings = load_pairings(folder / PAIRINGS_FILE)
    path = folder / EVENTS_FILE
    ev = _Events(path, pairings, head["as_at"], head.get("ready_recorded", False), head.get("handovers_recorded", False))
    for line, row in read_rows(path, EVENT_COLUMNS, "event file", extra_columns=False):
        ev.read(line, row)
    _check_consistency(ev)
    redraws = np.array([row[:5] for row in ev.redraws], dtype=float).reshape(-1, 5)
    return ReviewRecord(
        path=folder,
        as_at=head["as_at"],
        source=head["source"],
        synthetic=head["synthetic"],
        description=head.get("description", ""),
        pairings=pairings,
        stage_events=ev.stage_events,
        ready_at=ev.ready_at,
        ready_recorded=head.get("ready_recorded", False),
        scheduled_at=ev.scheduled_at,
        languages=ev.languages,
        nominated_at=ev.nominated_at,
        handovers=np.array(ev.handovers, dtype=float).reshape(-1, 3),
        handovers_recorded=head.get("handovers_recorded", False),
        redraws=redraws,
        generated=head.get("generated", {}),
    )


# --- writing a record (the synthetic one; a RevMod export writes the same files) --------------
def _date_text(day: float) -> str:
    return (EPOCH + dt.timedelta(days=int(np.floor(day + 1e-9)))).isoformat()


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def record_files(record: ReviewRecord) -> dict[str, str]:
    """The three files of ``record`` as text: what :func:`load_record` reads back (dates to the day)."""
    head = ["[record]", f"format = {RECORD_FORMAT}", f"as_at = {record.as_at.isoformat()}", f"source = {_toml_value(record.source)}"]
    head += [f"synthetic = {_toml_value(record.synthetic)}", f"description = {_toml_value(record.description)}"]
    head += [f"ready_recorded = {_toml_value(record.ready_recorded)}", f"handovers_recorded = {_toml_value(record.handovers_recorded)}"]
    if record.generated:
        head += ["", "[record.generated]"] + [f"{k} = {_toml_value(v)}" for k, v in record.generated.items()]
    pairings, names = record.pairings, record.pairings.parties
    rows: list[tuple] = []
    for p in np.argsort(record.nominated_at, kind="stable"):
        if np.isfinite(record.nominated_at[p]):
            rows.append(("", names[p], "", "focal_point_nominated", _date_text(record.nominated_at[p]), ""))
        for _, left, back in record.handovers[record.handovers[:, 0] == p]:
            rows.append(("", names[p], "", "focal_point_replaced", _date_text(left), ""))
            if np.isfinite(back):
                rows.append(("", names[p], "", "focal_point_in_place", _date_text(back), ""))
    for day, r, slot, old, new in record.redraws:
        rows.append(
            (
                pairings.review_ids[int(r)],
                names[int(new)],
                REDRAW_ROLES[int(slot) - 1],
                "reviewer_redrawn",
                _date_text(day),
                names[int(old)],
            )
        )
    for r in range(pairings.n_reviews):
        if np.isfinite(record.ready_at[r]):
            rows.append((pairings.review_ids[r], "", "", "ready_for_consultation", _date_text(record.ready_at[r]), ""))
        if np.isfinite(record.scheduled_at[r]):
            rows.append((pairings.review_ids[r], "", "", "consultation_scheduled", _date_text(record.scheduled_at[r]), ""))
        for k, event in enumerate(REVIEW_STAGE_EVENTS):
            if np.isfinite(record.stage_events[r, k]):
                detail = str(int(record.languages[r])) if event == "consultation_held" else ""
                rows.append((pairings.review_ids[r], "", "", event, _date_text(record.stage_events[r, k]), detail))
    reviews = [
        (pairings.review_ids[r], int(pairings.group[r]), *(names[p] for p in pairings.members(r))) for r in range(pairings.n_reviews)
    ]
    return {
        RECORD_FILE: "\n".join(head) + "\n",
        PAIRINGS_FILE: _csv_text(CSV_COLUMNS, reviews),
        EVENTS_FILE: _csv_text(EVENT_COLUMNS, rows),
    }


def _csv_text(header: tuple[str, ...], rows: list[tuple]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
