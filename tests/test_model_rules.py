"""The rules of the review process hold in every run (unit tests of the model's behaviour)."""

import datetime as dt

import numpy as np
import pytest

from workbench.model import Stage
from workbench.observe import observe, stage_at
from workbench.parameters import Parameters
from workbench.runner import Setup, simulate
from workbench.streams import replication_seeds
from workbench.timeline import month_starts, to_day

from conftest import run_many

REPORT_STAGE_COUNTS = ["reviews_held_up_by_nominations", "reviews_not_commenced", "reviews_saq_in_preparation",
                       "reviews_written_feedback_in_progress", "reviews_lists_of_observations", "reviews_completed",
                       "consultations_held", "parties_without_focal_point", "parties_with_focal_point"]


def _all_runs(history_runs, report_runs):
    return [*history_runs, *report_runs]


def test_no_review_leaves_nominations_before_all_three_focal_points_exist(history_runs):
    for record, pairings, _ in history_runs:
        for r in range(pairings.n_reviews):
            consultation = record.entered[r, Stage.CONSULTATION]
            if np.isnan(consultation):
                continue
            nominated = [record.nominated_at[p] for p in pairings.members(r)]
            assert max(nominated) <= consultation, (r, nominated, consultation)


def test_stage_entries_are_in_order_and_never_in_the_future(history_runs, report_runs):
    for record, _, _ in _all_runs(history_runs, report_runs):
        known = np.where(np.isnan(record.entered), np.nan, record.entered)
        for row in known:
            seen = row[~np.isnan(row)]
            assert np.all(np.diff(seen) >= 0)
            assert np.all(seen <= record.end_day)


def test_every_review_is_in_exactly_one_stage_at_every_month(history_runs, report_runs):
    for record, pairings, _ in _all_runs(history_runs, report_runs):
        days = np.array([to_day(d) for d in month_starts(dt.date(2020, 12, 1), dt.date(2034, 12, 1))])
        stage = stage_at(record, days)
        counts = np.stack([(stage == s).sum(axis=0) for s in range(-1, 7)])
        assert np.all(counts.sum(axis=0) == pairings.n_reviews)


def test_completions_never_decrease(history_runs, report_runs):
    for record, _, _ in _all_runs(history_runs, report_runs):
        days = np.linspace(record.start_day, record.end_day, 200)
        completed = (stage_at(record, days) == Stage.COMPLETED).sum(axis=0)
        assert np.all(np.diff(completed) >= 0)


def test_threshold_is_the_date_of_the_44th_group1_completion(snapshot, history_runs, report_runs):
    fast = Setup(Parameters(redraw_after_months=12), snapshot, None, start="report", horizon=dt.date(2060, 1, 1))
    checked = 0
    for record, pairings, _ in [*_all_runs(history_runs, report_runs), *run_many(fast, 4, seed=3)]:
        done = np.sort(record.entered[pairings.group == 1, Stage.COMPLETED])
        done = done[~np.isnan(done)]
        if len(done) >= 44:
            assert record.threshold_day == done[43]
            checked += 1
        else:
            assert np.isnan(record.threshold_day)
    assert checked > 0


def test_no_review_moves_while_a_focal_point_is_missing_or_handing_over(history_runs, report_runs):
    for record, pairings, _ in _all_runs(history_runs, report_runs):
        by_party = {}
        for party, start, end in record.handovers:
            by_party.setdefault(party, []).append((start, end))
        for r in range(pairings.n_reviews):
            members = pairings.members(r)
            for stage in range(Stage.CONSULTATION, Stage.COMPLETED + 1):
                t = record.entered[r, stage]
                if np.isnan(t) or t <= record.start_day:
                    continue
                for p in members:
                    assert record.nominated_at[p] <= t
                    for start, end in by_party.get(p, []):
                        assert not (start < t < end), (r, stage, p, start, t, end)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_forecast_starts_from_the_reports_state(snapshot, seed):
    setup = Setup(Parameters(), snapshot, None, start="report", horizon=dt.date(2024, 5, 22))
    record, pairings, _ = simulate(setup, replication_seeds(seed, 1)[0])
    seen = observe(record, pairings, snapshot.as_at)
    for name in REPORT_STAGE_COUNTS:
        assert seen[(name, None)] == snapshot.value(name), name
    assert seen[("reviews_ready_no_consultation", None)] == 111 - 67  # see the observations file
    for g in (1, 2, 3):
        assert seen[("reviews_lists_of_observations", g)] == snapshot.value("reviews_lists_of_observations", g)


def test_the_forecast_start_reproduces_every_other_report_figure(snapshot):
    setup = Setup(Parameters(), snapshot, None, start="report", horizon=dt.date(2024, 5, 22))
    record, pairings, _ = simulate(setup, replication_seeds(9, 1)[0])
    seen = observe(record, pairings, snapshot.as_at)
    expressible = [k for k in snapshot.figures if k in seen and k[0] != "reviews_ready_no_consultation"]
    assert len(expressible) >= 30
    mismatched = {k: (seen[k], snapshot.figures[k].value) for k in expressible if seen[k] != snapshot.figures[k].value}
    assert not mismatched


def test_silent_reviewers_are_redrawn_when_redraws_are_enabled(snapshot):
    params = Parameters(redraw_after_months=12, redraw_delay_months=2)
    setup = Setup(params, snapshot, None, start="report", horizon=dt.date(2030, 1, 1))
    record, pairings, model = simulate(setup, replication_seeds(4, 1)[0])
    assert record.redraws, "silent reviewing States should have been redrawn"
    for day, review, slot, old, new in record.redraws:
        assert model.reviews[review].members[slot].index != old or any(
            later[1] == review and later[2] == slot for later in record.redraws if later[0] > day)
        assert record.nominated_at[new] <= day  # the new reviewer has a focal point
        assert day >= to_day(snapshot.as_at) + 30 * 2 - 1


def test_without_redraws_a_silent_reviewer_blocks_its_review_forever(snapshot):
    setup = Setup(Parameters(), snapshot, None, start="report", horizon=dt.date(2060, 1, 1))
    for record, pairings, model in run_many(setup, 3, seed=5):
        for review in model.reviews:
            if any(p.silent for p in review.members):
                assert review.stage == Stage.NOMINATIONS
