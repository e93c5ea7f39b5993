"""Invariants every run must satisfy, shared by the rule tests and the property-based tests."""

from __future__ import annotations

import numpy as np

from workbench.simulation.schema import RunRecord, Stage
from workbench.observation.observe import stage_at
from workbench.inputs.parties import Pairings


def members_at(record: RunRecord, pairings: Pairings, review: int, day: float) -> list[int]:
    """The review's three parties at ``day``, replaying the redraws made up to then."""
    members = list(pairings.members(review))
    for when, r, slot, old, new in record.redraws:
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


def check_one_stage_each(record: RunRecord, pairings: Pairings, days: np.ndarray):
    """Every review is in exactly one stage (or not yet started) at every day."""
    stage = stage_at(record, days)
    counts = np.stack([(stage == s).sum(axis=0) for s in range(-1, len(Stage))])
    assert np.all(counts.sum(axis=0) == pairings.n_reviews)


def check_completions_monotone(record: RunRecord, days: np.ndarray):
    completed = (stage_at(record, days) == Stage.COMPLETED).sum(axis=0)
    assert np.all(np.diff(completed) >= 0)


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


def check_totals(record: RunRecord, pairings: Pairings, days: np.ndarray):
    """Totals are conserved: reviews by group and parties with or without a focal point."""
    stage = stage_at(record, days)
    for g in (1, 2, 3):
        in_group = stage[pairings.group == g]
        assert np.all(in_group.shape[0] == np.sum(pairings.group == g))
    nominated = (record.nominated_at[:, None] <= days[None, :]).sum(axis=0)
    assert np.all(np.diff(nominated) >= 0) and np.all(nominated <= pairings.n_parties)


def check_all(record: RunRecord, pairings: Pairings, target: int):
    days = np.linspace(max(record.start_day, 0.0), record.end_day, 60)
    check_focal_points_before_consultation(record, pairings)
    check_entries_ordered(record)
    check_one_stage_each(record, pairings, days)
    check_completions_monotone(record, days)
    check_threshold(record, pairings, target)
    check_no_move_without_focal_points(record, pairings)
    check_totals(record, pairings, days)
