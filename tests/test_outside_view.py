"""The outside view: the reference-class file is read and checked, and the forecast is set beside it
at the right ages, as shares of group 1's reviews."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from workbench.analysis.outside_view import age_reaching, comparison, model_band, plan_share
from workbench.core.errors import InputError
from workbench.core.timeline import DAYS_PER_YEAR, EPOCH
from workbench.inputs.reference_class import REFERENCE_CLASS_FILE, load_reference_class
from workbench.observation.summaries import COLUMNS, MonthlySummary

SHIPPED = REFERENCE_CLASS_FILE.read_text(encoding="utf-8")


def test_the_shipped_reference_class_reads_as_the_sources_give_it():
    reference = load_reference_class()
    first, second = reference.mechanisms
    assert [(p.finished, p.of) for p in first.points][:3] == [(0, 26), (19, 68), (69, 104)]
    assert round(first.points[1].share, 2) == 0.28  # "two years in, 19/68 = 28 %" (reference-class.md)
    assert [round(p.share, 2) for p in second.points] == [0.23, 0.16, 0.39, 0.57]
    assert round(second.years(second.points[2]), 0) == 7  # "39 % after 7" years
    assert reference.plan_years_per_review == 2.0 and reference.untoc.launched == EPOCH
    assert all(p.share == 0 for p in reference.untoc.points)  # ¶24: none completed as at 21 May 2024
    assert len(reference.differences) >= 1 and all(p.source for m in reference.mechanisms for p in m.points)


@pytest.mark.parametrize(
    "old, new, field",
    [
        ("finished = 19\n", "finished = 90\n", "mechanism[0].point[1].finished"),
        ("as_at = 2012-07-04", "as_at = 2009-07-04", "mechanism[0].point[1].as_at"),
        ("as_at = 2025-06-15", "as_at = 2099-06-15", "mechanism[1].point[3].as_at"),
        ("launched = 2020-12-01", "launched = 2021-12-01", "plan.launched"),
        ("years_per_review = 2.0", "years_per_review = 0", "plan.years_per_review"),
        ("counts = ", "count = ", "mechanism[0].count"),
        ("differences = [", "differences_ = [", "reference.differences_"),
    ],
    ids=[
        "more finished than reviews",
        "before the launch",
        "after today",
        "not group 1's launch",
        "no plan",
        "unknown key",
        "no differences",
    ],
)
def test_a_damaged_reference_class_is_refused_naming_the_field(tmp_path, old, new, field):
    assert old in SHIPPED
    path = tmp_path / "reference-class.toml"
    path.write_text(SHIPPED.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError) as refused:
        load_reference_class(path)
    assert refused.value.source == str(path) and refused.value.field == field


def _summary(counts: np.ndarray, dates: list[dt.date]) -> MonthlySummary:
    """A monthly summary of replications whose group 1 has ``counts[r, m]`` reviews completed."""
    summary = MonthlySummary.empty(dates, 64, 189)
    stage = COLUMNS.index("completed")
    for row in counts:
        one = np.zeros((3, len(dates), len(COLUMNS)), np.int64)
        one[0, :, stage] = row
        summary.add(one)
    return summary


def test_the_models_band_is_group_1s_share_completed_by_years_since_its_launch():
    dates = [dt.date(2024, 6, 1), dt.date(2030, 12, 1), dt.date(2040, 12, 1)]
    counts = np.array([[0, 10, 40], [0, 20, 44], [0, 30, 50], [2, 40, 62], [4, 50, 62]])
    band = model_band(_summary(counts, dates), group_size=62)
    assert band["years"].round(6).tolist() == [round((d - EPOCH).days / DAYS_PER_YEAR, 6) for d in dates]
    for column, q in (("low", 0.1), ("median", 0.5), ("high", 0.9)):
        assert np.allclose(band[column], np.quantile(counts, q, axis=0) / 62)  # numpy's own quantiles, as shares
    assert age_reaching(band, 0.70) == pytest.approx(band["years"].iloc[2])  # median 50 of 62 = 81 % by 2040
    assert age_reaching(band, 0.99) is None


def test_each_reference_point_meets_the_model_at_the_same_age_and_only_there():
    reference = load_reference_class()
    years = np.array([4.0, 8.0, 12.0])
    band = pd.DataFrame({"years": years, "low": [0.0, 0.1, 0.2], "median": [0.1, 0.3, 0.5], "high": [0.2, 0.5, 0.8]})
    table = comparison(reference, band)
    seven = table[(table["mechanism"] == "UNCAC, second cycle") & (table["finished"] == 73)].iloc[0]
    expected = np.interp(seven["years_since_launch"], years, band["median"])
    assert seven["model_median"] == pytest.approx(expected, abs=1e-3) and seven["share"] == pytest.approx(73 / 188, abs=1e-4)
    early = table[table["years_since_launch"] < 4.0]
    assert early["model_median"].isna().all()  # before the forecast starts, nothing is read off the model
    assert len(table) == sum(len(m.points) for m in reference.mechanisms) + len(reference.untoc.points)


def test_the_plan_is_all_of_group_1_two_years_in():
    assert plan_share(np.array([0.0, 1.99, 2.0, 30.0]), 2.0).tolist() == [0.0, 0.0, 1.0, 1.0]


@pytest.mark.subprocess
def test_the_outside_view_command_writes_its_chart_and_tables(tmp_path):
    from conftest import run_workbench

    out = tmp_path / "ov"
    done = run_workbench("outside-view", "--replications", "20", "--workers", "1", "--output", out)
    assert done.returncode == 0, done.stderr
    assert "Not like for like" in done.stdout and "not an observation of this Mechanism" in done.stdout
    for name in ("outside_view.png", "outside_view.csv", "model_band.csv"):
        assert (out / name).is_file(), name
    table = pd.read_csv(out / "outside_view.csv")
    assert set(table["mechanism"]) == {"UNCAC, first cycle", "UNCAC, second cycle", "UNTOC group 1 so far"}
    assert table["model_median"].dropna().between(0, 1).all()
