"""Where two runs part ways: the first recorded event on which two engines disagree.

Both engines must produce the same record for the same seed (they share every rule and
every draw).  When a change to a rule breaks that, a field-by-field comparison says only
*which* array differs; :func:`first_divergence` says *when* and *where*: it lays each
record out as a time-ordered list of events (nominations, replacements and handovers,
redraws, stage entries with their deadlines) and returns the first that differs, with both
versions.  Use it when changing a rule::

    from workbench.experiments.setup import engines_diverge
    print(engines_diverge(setup, seed) or "identical")
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from workbench.core.timeline import EPOCH
from workbench.simulation.schema import RunRecord
from workbench.simulation.stages import STAGES

_SUMMARY_FIELDS = ("threshold_day", "end_day", "events", "draws")


@dataclass(frozen=True)
class Event:
    """One recorded happening: ``day``, what (``kind``), to whom (``entity``) and any values."""

    day: float
    kind: str
    entity: int
    detail: tuple[float, ...] = ()

    def __str__(self) -> str:
        when = "before the records" if not math.isfinite(self.day) else str(EPOCH + dt.timedelta(days=self.day))
        who = "party" if self.kind in ("nominated", "handover began", "handover ended") else "review"
        extra = f" {tuple(round(x, 6) for x in self.detail)}" if self.detail else ""
        return f"{when} (day {self.day:.6f}): {who} {self.entity} {self.kind}{extra}"

    def same_as(self, other: Event) -> bool:
        return (
            (self.kind, self.entity) == (other.kind, other.entity)
            and _same(self.day, other.day)
            and len(self.detail) == len(other.detail)
            and all(_same(x, y) for x, y in zip(self.detail, other.detail))
        )


def _same(x: float, y: float) -> bool:
    return x == y or (math.isnan(x) and math.isnan(y))


def event_log(record: RunRecord) -> list[Event]:
    """The record as events in time order (ties in a fixed order of kind and entity)."""
    events: list[Event] = []
    for p in np.flatnonzero(np.isfinite(record.nominated_at)):
        events.append(Event(float(record.nominated_at[p]), "nominated", int(p)))
    for party, began, ended in record.handover_log.tolist():
        events.append(Event(began, "handover began", int(party)))
        if math.isfinite(ended):
            events.append(Event(ended, "handover ended", int(party)))
    for day, review, slot, old, new in record.redraw_log.tolist():
        events.append(Event(day, "reviewer redrawn", int(review), (slot, old, new)))
    reviews, stages = np.nonzero(np.isfinite(record.entered))
    for r, s in zip(reviews.tolist(), stages.tolist()):
        detail = (float(record.deadline[r, s]), float(record.languages[r]), float(record.saq_lateness[r]))
        events.append(Event(float(record.entered[r, s]), f"entered {STAGES[s].name.lower()}", r, detail))
    kind_order = {"nominated": 0, "handover began": 1, "handover ended": 2, "reviewer redrawn": 3}
    return sorted(events, key=lambda e: (e.day, kind_order.get(e.kind, 4), e.kind, e.entity, e.detail))


@dataclass(frozen=True)
class Divergence:
    """The first difference between two records: an event, or a summary field when all events agree."""

    index: int  # position in the event lists (-1: a summary field)
    first: Event | str | None  # what the first record has there (None: its list has ended)
    second: Event | str | None
    labels: tuple[str, str] = ("first", "second")

    def __str__(self) -> str:
        where = "summary" if self.index < 0 else f"event {self.index}"
        return f"{where}: {self.labels[0]}: {self.first or 'nothing'} | {self.labels[1]}: {self.second or 'nothing'}"


def first_divergence(a: RunRecord, b: RunRecord, labels: tuple[str, str] = ("first", "second")) -> Divergence | None:
    """The first event (then summary field) where records ``a`` and ``b`` differ; None if they agree."""
    log_a, log_b = event_log(a), event_log(b)
    for k, (x, y) in enumerate(zip(log_a, log_b)):
        if not x.same_as(y):
            return Divergence(k, x, y, labels)
    if len(log_a) != len(log_b):
        k = min(len(log_a), len(log_b))
        return Divergence(k, log_a[k] if k < len(log_a) else None, log_b[k] if k < len(log_b) else None, labels)
    for name in _SUMMARY_FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        if not _same(float(x), float(y)):
            return Divergence(-1, f"{name} = {x}", f"{name} = {y}", labels)
    if not np.array_equal(a.replacements, b.replacements):
        return Divergence(-1, "replacements per party differ", "replacements per party differ", labels)
    return None
