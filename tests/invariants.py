"""Invariants every run must satisfy, shared by the rule tests and the property-based tests."""

from __future__ import annotations

import numpy as np

from workbench.inputs.parties import Pairings
from workbench.simulation.schema import RunRecord, Stage


def members_at(record: RunRecord, pairings: Pairings, review: int, day: float) -> list[int]:
    """The review's three parties at ``day``, replaying the redraws made up to then."""
    members = list(pairings.members(review))
    for when, r, slot, _old, new in record.redraws:
        if r == review and when <= day:
            members[slot] = new
    return members


def check_focal_points_before_consultation(record: RunRecord, pairings: Pairings):
    """No review leaves nominations before all three focal points exist (¶26)."""
    for r in range(pairings.n_reviews):
        t = record.entered[r, Stage.CONSULTATION]
        if np.isnan(t):
            continue
        for p in members_at(record, pairings, r, t):
            assert record.nominated_at[p] <= t, (r, p, record.nominated_at[p], t)


def check_entries_ordered(record: RunRecord):
    """Stage entries are in pipeline order and never after the end of the run."""
    for row in record.entered:
        seen = row[~np.isnan(row)]
        assert np.all(np.diff(seen) >= 0), row
        assert np.all(seen <= record.end_day)


def check_threshold(record: RunRecord, pairings: Pairings, target: int):
    """The threshold date is exactly the date of the target-th group-1 completion."""
    done = np.sort(record.entered[pairings.group == 1, Stage.COMPLETED])
    done = done[~np.isnan(done)]
    if len(done) >= target:
        assert record.threshold_day == done[target - 1]
    else:
        assert np.isnan(record.threshold_day)


def check_no_move_without_focal_points(record: RunRecord, pairings: Pairings):
    """No review changes stage while one of its focal points is missing or handing over."""
    handovers: dict[int, list[tuple[float, float]]] = {}
    for party, start, end in record.handovers:
        handovers.setdefault(party, []).append((start, end))
    for r in range(pairings.n_reviews):
        for stage in range(Stage.CONSULTATION, Stage.COMPLETED + 1):
            t = record.entered[r, stage]
            if np.isnan(t) or t <= record.start_day:
                continue
            for p in members_at(record, pairings, r, t):
                assert record.nominated_at[p] <= t
                for start, end in handovers.get(p, []):
                    assert not (start < t < end), (r, stage, p, start, t, end)


def check_redraws(record: RunRecord, pairings: Pairings):
    """A redraw replaces a reviewing State still without a focal point by one that has one and is
    not already in the review (¶6)."""
    for when, r, slot, old, new in record.redraws:
        assert slot in (1, 2), (r, slot)
        assert not record.nominated_at[old] <= when, (r, old, when)
        assert record.nominated_at[new] <= when, (r, new, when)
        before = members_at(record, pairings, r, when - 1e-9)
        assert new not in before, (r, new, before)


def check_replacements(record: RunRecord):
    """Each replacement starts one handover of that party; handovers do not overlap; the first
    replacement of a party not replaced before the run is its first handover."""
    log = record.handover_log
    counts = np.bincount(log[:, 0].astype(int), minlength=len(record.replacements)) if len(log) else np.zeros_like(record.replacements)
    assert np.array_equal(counts, record.replacements)
    for party in np.unique(log[:, 0]).astype(int):
        rows = log[log[:, 0] == party]
        assert np.all(rows[:-1, 2] <= rows[1:, 1]), party  # one handover ends before the next begins
        assert np.all(rows[:, 1] <= rows[:, 2]), party
        assert record.first_replaced_at[party] <= rows[0, 1]


def check_all(record: RunRecord, pairings: Pairings, target: int):
    check_focal_points_before_consultation(record, pairings)
    check_entries_ordered(record)
    check_threshold(record, pairings, target)
    check_no_move_without_focal_points(record, pairings)
    check_redraws(record, pairings)
    check_replacements(record)
