"""Policy levers: what a planner can change, from when, for whom, and by how much.

Every lever of the domain brief is here, each grounded in the report (¶ in its doc).  A
lever has a **start date** (it acts on work begun on or after it), optionally a **target**
(all reviews, some groups, or named parties) and an **effect size** that the scenario file
states explicitly; nothing is hidden in code.  The model asks the levers at its decision
points (:class:`Levers` methods); with no lever, or a lever of zero effect, it takes exactly
the baseline's path and draws, replication by replication.

The Conference's decision on the completion condition (¶25) is not a model lever: it
changes how completions are counted, so it lives in :class:`Condition` and is applied to
the recorded stage entries.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import NamedTuple

from workbench.core.errors import InputError
from workbench.core.timeline import CONFERENCE_SESSIONS, REPORT_DATE, earliest_start, to_day


class StartBound(NamedTuple):
    """The earliest day a scenario's levers and decisions may start, and what that day is (for
    the message): today for a forecast's options, the snapshot date for a hindcast."""

    day: dt.date
    meaning: str
    otherwise: str = ""  # how a file may go earlier, if it can

    def check(self, day: dt.date, source: str, where: str) -> None:
        if day < self.day:
            raise InputError(
                source,
                where,
                f"{day} is before {self.meaning} ({self.day})",
                f"on or after {self.day}{self.otherwise}",
            )


#: No bound but the snapshot's (a hindcast).
SNAPSHOT_BOUND = StartBound(REPORT_DATE, "the snapshot date")

#: A lever's ``start`` written as this word starts as early as a decision taken on the forecast's
#: date can act (the first of the next month, :func:`workbench.core.timeline.earliest_start`): a
#: shipped option then never falls into the past as the calendar moves on.
EARLIEST = "earliest"
#: ... or so many months after it, for an option that takes time to set up (a recruitment, a
#: workshop programme): "earliest + 6 months".
_EARLIEST_PLUS = re.compile(r"earliest\s*\+\s*(\d{1,3})\s*months?")


def _start_of(value: object, earliest: StartBound) -> object:
    """A lever's ``start`` as a date: "earliest" and "earliest + N months" counted from the
    forecast's date; anything else as written (checked by the caller)."""
    if value == EARLIEST:
        return earliest_start(earliest.day)
    match = _EARLIEST_PLUS.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        return value
    first, months = earliest_start(earliest.day), int(match.group(1))
    index = first.month - 1 + months
    return dt.date(first.year + index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Target:
    """Whom a lever reaches: every review, the reviews of some groups, or some named parties."""

    groups: tuple[int, ...] = (1, 2, 3)
    parties: tuple[str, ...] = ()  # if given, only reviews/parties involving these names


ALL = Target()


@dataclass(frozen=True)
class Lever:
    start: dt.date
    target: Target = ALL

    @property
    def start_day(self) -> float:
        return to_day(self.start)


@dataclass(frozen=True)
class NominationFollowUp(Lever):
    """Missions, field offices and the President's reminders (¶15-17).

    Parties without a focal point nominate ``rate_multiplier`` times faster from the start
    date, and parties that would never act alone ("silent") acquire a hazard of
    ``silent_rate_per_month``.
    """

    rate_multiplier: float = 1.0
    silent_rate_per_month: float = 0.0


@dataclass(frozen=True)
class HandoverProtocol(Lever):
    """An internal handover when a focal point changes (¶14): stalls scaled by ``duration_factor``."""

    duration_factor: float = 1.0


@dataclass(frozen=True)
class Redraw(Lever):
    """The Secretariat has a reviewing State that has not nominated after ``after_months`` redrawn, ``delay_months``
    later, sooner than the parties themselves would ask (¶6-7; the baseline's own redraws are parameters)."""

    after_months: float = math.inf
    delay_months: float = 3.0


@dataclass(frozen=True)
class SchedulingSupport(Lever):
    """The Secretariat proposes default dates for preliminary consultations (¶26, ¶29)."""

    duration_factor: float = 1.0


@dataclass(frozen=True)
class Training(Lever):
    """Training, e-learning and national workshops (¶44-49): SAQ and feedback times scaled."""

    saq_factor: float = 1.0
    feedback_factor: float = 1.0


@dataclass(frozen=True)
class TaskSplit(Lever):
    """Agreed task split and time-boxing between the two reviewers (¶34-36)."""

    drafting_factor: float = 1.0
    coordination_factor: float = 1.0


@dataclass(frozen=True)
class ConsensusFacilitation(Lever):
    """Facilitation of consensus on the lists of observations and summaries (¶37-39)."""

    duration_factor: float = 1.0


@dataclass(frozen=True)
class MachineTranslation(Lever):
    """Machine translation for multilingual reviews (¶27-28, ¶55): extra time per language scaled."""

    extra_language_factor: float = 1.0


@dataclass(frozen=True)
class SecretariatStaffing(Lever):
    """Officers added (positive) or lost (negative) from the start date (¶42-43)."""

    officers_change: int = 0


#: Effects a lever cannot do without (its default means "never"): a redraw needs its patience.
REQUIRED_EFFECTS: dict[str, tuple[str, ...]] = {"redraw": ("after_months",)}


def check_named_targets(levers: Levers, party_names: tuple[str, ...] | None, pairings_source: str) -> None:
    """Every party a lever names must be in the pairing list; with synthetic pairings (no names)
    a named target would silently reach no one."""
    for name, lever in levers.active().items():
        wanted = lever.target.parties
        if not wanted:
            continue
        if party_names is None:
            raise InputError(
                f"levers.{name}.target", "parties", "names parties, but the pairings are synthetic", "the real pairing list (--pairings)"
            )
        unknown = sorted(set(wanted) - set(party_names))
        if unknown:
            raise InputError(
                f"levers.{name}.target",
                "parties",
                f"{', '.join(unknown)} not in the pairing list {pairings_source}",
                "names from that list",
            )


def check_staffing(officers: int, levers: Levers, source: str = "scenario") -> None:
    """A staffing lever may not leave the Secretariat without officers: ``officers`` today, and
    the lever's change from its start date (``source``: the scenario file, for the message)."""
    staffing = levers.secretariat_staffing
    if staffing is not None and officers + staffing.officers_change < 1:
        raise InputError(
            source,
            "levers.secretariat_staffing.officers_change",
            f"{staffing.officers_change} would leave {officers + staffing.officers_change} officers",
            f"at least {1 - officers} with {officers} officers",
        )


#: The stages the Conference's condition may count reviews at (¶25): completed, or an earlier stage
#: reached (the names of Stage, in lower case).
COUNTED_STAGES = ("completed", "summaries", "lists")


@dataclass(frozen=True)
class Condition:
    """When the next cluster may start (¶25), possibly changed by the Conference.

    Until ``decided`` the rule is 70 % of group 1 completed; from ``decided`` on it is
    ``share`` of the reviews of ``groups`` having reached ``counted_stage``.
    """

    share: float = 0.70
    groups: tuple[int, ...] = (1,)
    counted_stage: str = "completed"  # or "lists" (lists of observations begun) or "summaries"
    decided: dt.date | None = None

    @property
    def is_default(self) -> bool:
        return self.share == 0.70 and self.groups == (1,) and self.counted_stage == "completed"


#: Each lever's table name in scenario files, class, and allowed ranges of its effect fields.
LEVER_TYPES: dict[str, tuple[type, dict[str, tuple[float, float, str]]]] = {
    "nomination_follow_up": (
        NominationFollowUp,
        {"rate_multiplier": (1.0, 20.0, "times the nomination hazard"), "silent_rate_per_month": (0.0, 1.0, "per month")},
    ),
    "handover_protocol": (HandoverProtocol, {"duration_factor": (0.0, 1.0, "times the handover stall")}),
    "redraw": (Redraw, {"after_months": (1.0, 120.0, "months"), "delay_months": (0.0, 36.0, "months")}),
    "scheduling_support": (SchedulingSupport, {"duration_factor": (0.05, 1.0, "times the scheduling time")}),
    "training": (Training, {"saq_factor": (0.3, 1.0, "times SAQ time"), "feedback_factor": (0.3, 1.0, "times feedback time")}),
    "task_split": (
        TaskSplit,
        {"drafting_factor": (0.3, 1.0, "times each reviewer's drafting"), "coordination_factor": (0.0, 1.0, "times the merging")},
    ),
    "consensus_facilitation": (ConsensusFacilitation, {"duration_factor": (0.2, 1.0, "times lists and summaries time")}),
    "machine_translation": (MachineTranslation, {"extra_language_factor": (0.0, 1.0, "times the extra time per language")}),
    "secretariat_staffing": (SecretariatStaffing, {"officers_change": (-10, 20, "officers")}),
}


@dataclass(frozen=True)
class Levers:
    """The set of levers of a scenario; each is None when not used."""

    nomination_follow_up: NominationFollowUp | None = None
    handover_protocol: HandoverProtocol | None = None
    redraw: Redraw | None = None
    scheduling_support: SchedulingSupport | None = None
    training: Training | None = None
    task_split: TaskSplit | None = None
    consensus_facilitation: ConsensusFacilitation | None = None
    machine_translation: MachineTranslation | None = None
    secretariat_staffing: SecretariatStaffing | None = None

    def active(self) -> dict[str, Lever]:
        return {name: getattr(self, name) for name in LEVER_TYPES if getattr(self, name) is not None}

    def merged(self, other: Levers) -> Levers:
        """``other``'s levers over ours (a scenario extending another)."""
        return Levers(**{name: getattr(other, name) or getattr(self, name) for name in LEVER_TYPES})


NO_LEVERS = Levers()


def parse_target(value: object, source: str, where: str) -> Target:
    """``"all"``, ``"group 1"``, ``[1, 3]`` (groups) or ``{parties = ["A", "B"]}``."""
    if value is None or value == "all":
        return ALL
    if isinstance(value, str) and value.startswith("group ") and value[6:].strip() in ("1", "2", "3"):
        return Target(groups=(int(value[6:]),))
    if isinstance(value, list) and value and all(isinstance(g, int) and not isinstance(g, bool) and g in (1, 2, 3) for g in value):
        return Target(groups=tuple(sorted(set(value))))
    if (
        isinstance(value, dict)
        and set(value) == {"parties"}
        and isinstance(value["parties"], list)
        and value["parties"]
        and all(isinstance(p, str) and p for p in value["parties"])
    ):
        return Target(parties=tuple(value["parties"]))
    raise InputError(
        source,
        f"{where}.target",
        f"{value!r} is not a target",
        '"all", "group N", a list of groups such as [1, 2], or {parties = ["name", ...]}',
    )


def parse_levers(table: object, source: str, earliest: StartBound = SNAPSHOT_BOUND) -> Levers:
    """Validate the ``[levers.*]`` tables of a scenario file."""
    if not isinstance(table, dict):
        raise InputError(source, "levers", "must be a table of lever tables", ", ".join(LEVER_TYPES))
    chosen = {}
    for name, spec in table.items():
        if name not in LEVER_TYPES:
            raise InputError(source, f"levers.{name}", "unknown lever", ", ".join(LEVER_TYPES))
        cls, effects = LEVER_TYPES[name]
        where = f"levers.{name}"
        if not isinstance(spec, dict):
            raise InputError(source, where, "must be a table", f"start, target, {', '.join(effects)}")
        for key in spec:
            if key not in ("start", "target", *effects):
                raise InputError(source, f"{where}.{key}", "unknown key", f"start, target, {', '.join(effects)}")
        start = _start_of(spec.get("start"), earliest)
        if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
            raise InputError(
                source,
                f"{where}.start",
                f"expected a date, got {start!r}",
                f"a date such as {earliest.day.isoformat()}, {EARLIEST!r} or '{EARLIEST} + 6 months'",
            )
        earliest.check(start, source, f"{where}.start")
        values = {}
        for key, (low, high, unit) in effects.items():
            if key not in spec:
                continue
            value = spec[key]
            integer = isinstance(low, int) and isinstance(high, int) and not isinstance(low, bool)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
                raise InputError(
                    source, f"{where}.{key}", f"expected a {'whole ' if integer else ''}number, got {value!r}", f"{low} to {high} {unit}"
                )
            if not (low <= value <= high) or (isinstance(value, float) and math.isnan(value)):
                raise InputError(source, f"{where}.{key}", f"{value!r} is out of range", f"{low} to {high} {unit}")
            values[key] = value
        if not values:
            raise InputError(source, where, "no effect given", f"at least one of {', '.join(effects)}")
        for key in REQUIRED_EFFECTS.get(name, ()):
            if key not in values:
                low, high, unit = effects[key]
                raise InputError(source, f"{where}.{key}", "missing: without it the lever would never act", f"{low} to {high} {unit}")
        chosen[name] = cls(start=start, target=parse_target(spec.get("target"), source, where), **values)
    return Levers(**chosen)


def parse_condition(table: object, source: str, earliest: StartBound = SNAPSHOT_BOUND) -> Condition:
    """The ``[condition]`` table: share, groups, counted_stage, decided_at (a session year or date,
    not before ``earliest``: a session already held has decided what it decided)."""
    if not isinstance(table, dict):
        raise InputError(source, "condition", "must be a table", "share, groups, counted_stage, decided_at")
    allowed = ("share", "groups", "counted_stage", "decided_at")
    for key in table:
        if key not in allowed:
            raise InputError(source, f"condition.{key}", "unknown key", ", ".join(allowed))
    share = table.get("share", 0.70)
    # Above 0: a share of 0 would be "met" on the first day, while every face says "44 of 62".
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0.0 < share <= 1.0:
        raise InputError(source, "condition.share", f"{share!r} is not a share above 0", "above 0, up to 1 (0.7 is the rule of ¶25)")
    groups = table.get("groups", [1])
    if (
        not isinstance(groups, list)
        or not groups
        or not all(isinstance(g, int) and not isinstance(g, bool) and g in (1, 2, 3) for g in groups)
    ):
        raise InputError(source, "condition.groups", f"{groups!r}", "a list of groups, e.g. [1] or [1, 2, 3]")
    stage = table.get("counted_stage", "completed")
    if stage not in COUNTED_STAGES:
        raise InputError(source, "condition.counted_stage", f"{stage!r}", ", ".join(f'"{s}"' for s in COUNTED_STAGES))
    decided = table.get("decided_at")
    if decided is None:
        decided_date = None
    elif isinstance(decided, int) and not isinstance(decided, bool):
        open_sessions = [year for year, day in CONFERENCE_SESSIONS.items() if day >= earliest.day]
        if decided not in CONFERENCE_SESSIONS:
            raise InputError(
                source,
                "condition.decided_at",
                f"{decided} is not a Conference session year",
                ", ".join(str(y) for y in open_sessions) + " or a date",
            )
        if decided not in open_sessions:
            raise InputError(
                source,
                "condition.decided_at",
                f"the {decided} session ({CONFERENCE_SESSIONS[decided]}) is before {earliest.meaning} ({earliest.day})",
                ", ".join(str(y) for y in open_sessions) + f" or a later date{earliest.otherwise}",
            )
        decided_date = CONFERENCE_SESSIONS[decided]
    elif isinstance(decided, dt.date) and not isinstance(decided, dt.datetime):
        earliest.check(decided, source, "condition.decided_at")
        decided_date = decided
    else:
        raise InputError(source, "condition.decided_at", f"{decided!r}", "a Conference session year (2028) or a date")
    return Condition(float(share), tuple(sorted(set(groups))), stage, decided_date)
