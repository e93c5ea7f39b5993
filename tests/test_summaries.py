"""The monthly summary that streams from the workers is exact: its quantiles are numpy's on the full table."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pytest

from workbench.experiments.replications import run_replications
from workbench.observation.observe import monthly_counts, stage_at
from workbench.observation.summaries import COLUMNS
from workbench.simulation.schema import N_STAGES

from conftest import make_setup


@pytest.fixture(scope="module")
def kept(snapshot):
    setup = make_setup(horizon=dt.date(2040, 12, 31))
    return run_replications(setup, 37, seed=4, workers=2, keep_events=False, keep_monthly=True)


@pytest.mark.parametrize("group", [None, 1, 2, 3])
def test_quantiles_equal_numpy_on_the_per_replication_table(kept, group):
    levels = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
    table = kept.monthly if group is None else kept.monthly[kept.monthly["group"] == group]
    per_rep = table.groupby(["date", "replication"])[list(COLUMNS)].sum()
    for column in COLUMNS:
        wide = per_rep[column].unstack("replication")  # date x replication
        expected = np.quantile(wide.to_numpy(), levels, axis=1).T
        got = kept.monthly_summary.quantiles(group, column, levels).to_numpy()
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9, err_msg=f"group {group}, {column}")
        np.testing.assert_allclose(kept.monthly_summary.mean(group, column).to_numpy(), wide.mean(axis=1).to_numpy())


def test_a_summaries_only_run_keeps_no_per_replication_table_and_the_same_summary(snapshot, kept):
    setup = make_setup(horizon=dt.date(2040, 12, 31))
    lean = run_replications(setup, 37, seed=4, workers=1, keep_events=False, keep_monthly=False)
    assert lean.monthly is None and lean.events is None
    assert lean.monthly_summary.replications == 37
    np.testing.assert_array_equal(lean.monthly_summary.by_group, kept.monthly_summary.by_group)
    np.testing.assert_array_equal(lean.monthly_summary.overall, kept.monthly_summary.overall)


def test_every_replication_is_counted_once_in_every_month(kept):
    summary = kept.monthly_summary
    assert (summary.by_group.sum(axis=-2) == 37).all() and (summary.overall.sum(axis=-2) == 37).all()
    tidy = summary.to_frame()
    assert set(tidy["group"]) == {0, 1, 2, 3} and set(tidy["stage"]) == set(COLUMNS)


def _tally(stage: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """The plain count of a stage_at table: reviews by (group, day, stage + 1)."""
    counts = np.zeros((n_groups, stage.shape[1], N_STAGES + 1), np.int64)
    for r in range(stage.shape[0]):
        for d in range(stage.shape[1]):
            counts[group[r] - 1, d, stage[r, d] + 1] += 1
    return counts


def test_monthly_counts_equal_a_tally_of_each_review_on_each_day(report_runs, history_runs):
    days = np.arange(19000.0, 26000.0, 30.4)
    for record, pairings, _ in [*report_runs, *history_runs]:
        expected = _tally(stage_at(record, days), pairings.group, 3)
        np.testing.assert_array_equal(monthly_counts(record, days, pairings.group, 3), expected)


def test_monthly_counts_follow_stage_at_for_entries_in_any_order_and_on_the_same_day(rng):
    """Entries out of stage order, several on one day, missing ones, and days before and after all
    of them: a later-numbered stage overrides from its entry on, as in stage_at."""
    days = np.linspace(0.0, 100.0, 41)
    entered = rng.choice([np.nan, *rng.uniform(-20, 120, 6), 50.0], size=(300, N_STAGES))
    group = rng.integers(1, 4, 300)
    record = SimpleNamespace(entered=entered)
    np.testing.assert_array_equal(monthly_counts(record, days, group, 3), _tally(stage_at(record, days), group, 3))


def test_a_chunk_sends_its_summary_or_its_counts_whichever_is_smaller_and_both_add_up_the_same():
    """Up to about 500 replications a chunk sends each replication's counts (18 kB each), beyond
    it its summary (about 9 MB); the summaries the parent builds are the same either way."""
    setup = make_setup(horizon=dt.date(2028, 1, 1))
    one_big_chunk = run_replications(setup, 600, seed=9, workers=1, keep_events=False, keep_monthly=False)  # sends a summary
    small_chunks = run_replications(setup, 600, seed=9, workers=2, keep_events=False, keep_monthly=False)  # 8 chunks: counts
    np.testing.assert_array_equal(one_big_chunk.monthly_summary.by_group, small_chunks.monthly_summary.by_group)
    np.testing.assert_array_equal(one_big_chunk.monthly_summary.overall, small_chunks.monthly_summary.overall)
    assert one_big_chunk.monthly_summary.replications == 600
