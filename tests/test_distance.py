"""The calibration's distance: each fact of a report enters once, a part of a total as its share,
each statistic is scaled by the runs' own spread, and no one report carries more than the cap."""

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from workbench.inference.distance import REPORT_SHARE_CAP, spread_weights
from workbench.inference.simulator import REDUNDANT_FIGURES, StatisticTable
from workbench.inputs.observations import Figure, Snapshot, load_observations
from workbench.inputs.report_categories import SPLITS


def _names(table: StatisticTable, d: int = 0) -> set[str]:
    return {key.split("|", 1)[1] for key, date in zip(table.keys, table.date) if date == d}


def test_a_figure_and_its_complement_never_both_enter():
    """Of 163 parties with a focal point and 26 without (of 189), 78 consultations held and 111
    reviews not commenced, 78 advancing and 0 completed: one of each pair enters."""
    for snapshot in load_observations():
        names = _names(StatisticTable.of([snapshot]))
        for figure, carried_by in REDUNDANT_FIGURES.items():
            assert not ({figure, *carried_by} <= names), (snapshot.as_at, figure)
    may = StatisticTable.of([load_observations()[-1]])
    assert {"parties_with_focal_point", "consultations_held", "reviews_completed"} <= _names(may)
    assert not {"parties_without_focal_point", "reviews_not_commenced", "reviews_advancing"} & _names(may)


def test_a_split_given_whole_enters_as_shares_less_its_last_part():
    """The 43 SAQs by lateness add up to 43: they enter as shares of the SAQs a run has, and the
    last bucket (one less the others) does not enter; a split that does not add up enters whole."""
    may = load_observations()[-1]
    table = StatisticTable.of([may])
    lateness = next(parts for total, parts in SPLITS if total == "saq_submitted")
    entered = [p for p in lateness if p in _names(table)]
    assert entered == list(lateness[:-1])
    for part in entered:
        k = table.keys.index(f"{may.as_at.isoformat()}|{part}")
        assert table.is_share[k] and table.low[k] == pytest.approx(may.figures[(part, None)].value / 43)
    # 67 held up and 46 ready exceed the 111 not commenced (¶15, ¶29): both enter
    assert {"reviews_held_up_by_nominations", "reviews_ready_no_consultation"} <= _names(table)
    # the lists by group (4, 0, 2 of 6): groups 1 and 2 enter, group 3 is the rest
    assert {k for k in table.keys if "lists_of_observations|group" in k} == {
        f"{may.as_at.isoformat()}|reviews_lists_of_observations|group {g}" for g in (1, 2)
    }
    broken = dataclasses.replace(
        may, figures={**may.figures, ("saq_on_time", None): dataclasses.replace(may.figures[("saq_on_time", None)], value=15.0)}
    )
    assert "saq_over_6_months" in _names(StatisticTable.of([broken]))


def _reports(counts: list[int]) -> tuple[StatisticTable, int]:
    """A table of count statistics, ``counts[r]`` of them from report r, each reported as 10."""
    snapshots = []
    for r, n in enumerate(counts):
        names = ["reviews_completed", "consultations_held", "saq_submitted", "feedback_concluded", "reviewers_redrawn"][:n]
        figures = {(name, None): Figure(name, 10.0, "1", "d") for name in names}
        snapshots.append(Snapshot(dt.date(2021 + r, 1, 1), "test", Path(f"r{r}.toml"), {}, figures))
    return StatisticTable.of(snapshots), len(counts)


def test_scales_are_the_runs_spread_floored_at_half_a_count():
    table, n = _reports([2])
    rng = np.random.default_rng(1)
    values = np.column_stack([rng.normal(10, 4, 4001), np.full(4001, 10.0)])
    w = spread_weights(values, table, n)
    # the median absolute deviation of a normal is 0.6745 sd; the sample's is within 3 % of it at n = 4001
    assert w.scales[0] == pytest.approx(0.6745 * 4, rel=0.03)
    assert w.scales[1] == 0.5  # every run alike: half a count, not zero
    assert w.weights == pytest.approx(1 / w.scales)


def test_no_report_carries_more_than_the_cap():
    """Four statistics of one report and one of another, all missing alike: uncapped the first
    would carry 80 % of the distance; capped it carries half, and the shares add up to one."""
    table, n = _reports([4, 1])
    rng = np.random.default_rng(2)
    values = rng.normal(14, 2, (500, 5))  # every statistic about 4 above its reported 10
    w = spread_weights(values, table, n)
    assert w.shares.sum() == pytest.approx(1.0)
    assert w.shares.max() <= REPORT_SHARE_CAP + 1e-9
    assert w.shares[0] == pytest.approx(REPORT_SHARE_CAP)
    uncapped = spread_weights(values, table, n, cap=1.0)
    assert uncapped.shares[0] == pytest.approx(0.8, abs=0.02)
    # where the other report carries nothing (every run inside its range), there is nothing to cap against
    values[:, 4] = 10.0
    assert spread_weights(values, table, n).shares[0] == pytest.approx(1.0)


def test_each_shipped_report_has_statistics_and_the_may_2024_report_most():
    table = StatisticTable.of(load_observations())
    per_report = np.bincount(table.date)
    assert (per_report >= 1).all() and per_report.argmax() == len(per_report) - 1
