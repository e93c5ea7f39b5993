"""The rules of the review process hold in every run (unit tests of the model's behaviour)."""

import datetime as dt
import math

import numpy as np
import pytest

from workbench.core.timeline import month_starts, to_day
from workbench.experiments.setup import simulate
from workbench.inputs.levers import Levers, Redraw
from workbench.inputs.parameters import Parameters
from workbench.observation.observe import observe, stage_at
from workbench.simulation.stages import Stage
from workbench.simulation.streams import replication_seeds

from conftest import make_setup, run_many
from invariants import (
    check_entries_ordered,
    check_focal_points_before_consultation,
    check_no_move_without_focal_points,
    check_redraws,
    check_replacements,
    check_threshold,
    members_at,
)

REPORT_STAGE_COUNTS = [
    "reviews_held_up_by_nominations",
    "reviews_not_commenced",
    "reviews_saq_in_preparation",
    "reviews_written_feedback_in_progress",
    "reviews_lists_of_observations",
    "reviews_completed",
    "consultations_held",
    "parties_without_focal_point",
    "parties_with_focal_point",
]


def _all_runs(history_runs, report_runs):
    return [*history_runs, *report_runs]


MONTHS = np.array([to_day(d) for d in month_starts(dt.date(2020, 12, 1), dt.date(2034, 12, 1))])


def test_no_review_leaves_nominations_before_all_three_focal_points_exist(history_runs):
    for record, pairings, _ in history_runs:
        check_focal_points_before_consultation(record, pairings)


def test_stage_entries_are_in_order_and_never_in_the_future(history_runs, report_runs):
    for record, _, _ in _all_runs(history_runs, report_runs):
        check_entries_ordered(record)


def test_replacements_start_one_handover_each_and_handovers_do_not_overlap(history_runs, report_runs):
    for record, _, _ in _all_runs(history_runs, report_runs):
        check_replacements(record)


def test_redraws_replace_a_silent_reviewer_by_one_with_a_focal_point(snapshot):
    setup = make_setup(
        Parameters(silent_share=0.2),
        horizon=dt.date(2032, 1, 1),
        levers=Levers(redraw=Redraw(snapshot.as_at, after_months=6, delay_months=1)),
    )
    runs = run_many(setup, 4, seed=5)
    assert sum(len(record.redraws) for record, _, _ in runs) > 0
    for record, pairings, _ in runs:
        check_redraws(record, pairings)


def test_threshold_is_the_date_of_the_44th_group1_completion(snapshot, history_runs, report_runs):
    fast = make_setup(
        horizon=dt.date(2060, 1, 1),
        levers=Levers(redraw=Redraw(snapshot.as_at, after_months=12, delay_months=3)),
    )
    runs = [*_all_runs(history_runs, report_runs), *run_many(fast, 4, seed=3)]
    for record, pairings, _ in runs:
        check_threshold(record, pairings, 44)
    assert any(np.isfinite(record.threshold_day) for record, _, _ in runs)


def test_no_review_moves_while_a_focal_point_is_missing_or_handing_over(history_runs, report_runs):
    for record, pairings, _ in _all_runs(history_runs, report_runs):
        check_no_move_without_focal_points(record, pairings)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_forecast_starts_from_the_reports_state(snapshot, seed):
    setup = make_setup(horizon=dt.date(2024, 5, 22))
    record, pairings, _ = simulate(setup, replication_seeds(seed, 1)[0])
    seen = observe(record, pairings, snapshot.as_at)
    for name in REPORT_STAGE_COUNTS:
        assert seen[(name, None)] == snapshot.value(name), name
    assert seen[("reviews_ready_no_consultation", None)] == 111 - 67  # see the observations file
    for g in (1, 2, 3):
        assert seen[("reviews_lists_of_observations", g)] == snapshot.value("reviews_lists_of_observations", g)


def test_the_forecast_start_reproduces_every_other_report_figure(snapshot):
    setup = make_setup(horizon=dt.date(2024, 5, 22))
    record, pairings, _ = simulate(setup, replication_seeds(9, 1)[0])
    seen = observe(record, pairings, snapshot.as_at)
    expressible = [k for k in snapshot.figures if k in seen and k[0] != "reviews_ready_no_consultation"]
    assert len(expressible) >= 30
    mismatched = {k: (seen[k], snapshot.figures[k].value) for k in expressible if seen[k] != snapshot.figures[k].value}
    assert not mismatched


def test_silent_reviewers_are_redrawn_when_redraws_are_enabled(snapshot):
    setup = make_setup(
        horizon=dt.date(2030, 1, 1),
        levers=Levers(redraw=Redraw(snapshot.as_at, after_months=12, delay_months=2)),
    )
    record, pairings, _ = simulate(setup, replication_seeds(4, 1)[0])
    assert record.redraws, "silent reviewing States should have been redrawn"
    for day, review, slot, old, new in record.redraws:
        assert members_at(record, pairings, review, day - 1e-9)[slot] == old  # the redrawn party was the reviewer
        assert new not in members_at(record, pairings, review, day - 1e-9)
        assert record.nominated_at[new] <= day  # the new reviewer has a focal point
        assert day >= to_day(snapshot.as_at) + 30 * 2 - 1


def test_without_redraws_a_silent_reviewer_blocks_its_review_forever(snapshot):
    setup = make_setup(Parameters(redraw_patience_months=math.inf), horizon=dt.date(2060, 1, 1))
    blocked = 0
    for record, pairings, _ in run_many(setup, 3, seed=5):
        for r in range(pairings.n_reviews):
            if any(np.isnan(record.nominated_at[p]) for p in pairings.members(r)):
                blocked += 1
                assert np.isnan(record.entered[r, Stage.CONSULTATION :]).all()
    assert blocked >= 3 * 40  # the silent parties hold up most of the 67 reviews of ¶15 for good


def test_with_the_parties_own_redraws_only_a_silent_party_under_review_blocks_for_good(snapshot):
    setup = make_setup(horizon=dt.date(2060, 1, 1))
    end = to_day(dt.date(2060, 1, 1))
    for record, pairings, _ in run_many(setup, 3, seed=5):
        stage = stage_at(record, np.array([end]))[:, 0]
        for r in np.flatnonzero(stage == Stage.NOMINATIONS):
            under_review, *reviewers = members_at(record, pairings, r, end)
            assert np.isnan(record.nominated_at[under_review]) or any(np.isnan(record.nominated_at[q]) for q in reviewers)
