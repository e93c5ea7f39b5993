"""The nowcast: where the model believes the reviews stand on the forecast's date, since no status
figure is public after the report's.  It is read from the monthly counts every forecast keeps, so it
must equal what the per-replication table says, month for month."""

import datetime as dt
import json

import numpy as np
import pytest

from workbench.analysis.forecast import forecast
from workbench.analysis.nowcast import NOWCAST_INTERVAL, nowcast
from workbench.core.errors import InputError
from workbench.experiments.replications import run_replications
from workbench.faces.output_folder import write_forecast
from workbench.observation.summaries import COLUMNS

from conftest import FORECAST_DAY, make_setup

RUNS = 40


@pytest.fixture(scope="module")
def results():
    return run_replications(make_setup(), RUNS, seed=11, workers=1)


def test_the_nowcast_is_the_runs_own_counts_on_the_month_of_the_forecast(results):
    table = nowcast(results.monthly_summary, FORECAST_DAY, group=1)
    assert table.attrs["as_at"] == dt.date(2026, 12, 1) and table.attrs["replications"] == RUNS
    month = results.monthly[(results.monthly["group"] == 1) & (results.monthly["date"] == "2026-12-01")]
    assert len(month) == RUNS
    low, high = NOWCAST_INTERVAL
    for row in table.itertuples():
        counts = month[row.stage].to_numpy()
        assert row.median == np.quantile(counts, 0.5)
        assert (row.low, row.high) == (np.quantile(counts, low), np.quantile(counts, high))
        assert row.mean == pytest.approx(counts.mean(), abs=1e-12)
        assert row.mean_se == pytest.approx(counts.std(ddof=1) / np.sqrt(RUNS), abs=1e-12)


def test_every_review_is_in_exactly_one_stage(results):
    """The stages' mean counts add up to the group's size (62 in group 1) and, for all groups, to 189."""
    assert nowcast(results.monthly_summary, FORECAST_DAY, 1)["mean"].sum() == pytest.approx(62, abs=1e-9)
    assert nowcast(results.monthly_summary, FORECAST_DAY, None)["mean"].sum() == pytest.approx(189, abs=1e-9)
    assert list(nowcast(results.monthly_summary, FORECAST_DAY)["stage"]) == list(COLUMNS)


def test_completed_reviews_only_grow_with_the_day(results):
    days = [dt.date(2024, 6, 1), dt.date(2025, 6, 1), FORECAST_DAY, dt.date(2030, 1, 1)]
    means = [nowcast(results.monthly_summary, day).set_index("stage").loc["completed", "mean"] for day in days]
    assert means == sorted(means)


def test_a_day_before_the_first_month_is_an_error(results):
    with pytest.raises(InputError, match=r"nowcast: day: 2024-05-21 is before the forecast's first month"):
        nowcast(results.monthly_summary, dt.date(2024, 5, 21))


def test_a_forecast_records_its_day_and_writes_its_nowcast(tmp_path):
    fc = forecast(make_setup(), 12, 5, workers=1, keep_events=False)
    assert fc.made_on == FORECAST_DAY  # WORKBENCH_TODAY, as conftest sets it
    out = write_forecast(fc, tmp_path / "out")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["made_on"] == manifest["inputs"]["made_on"] == FORECAST_DAY.isoformat()
    written = (out / "nowcast.csv").read_text().splitlines()
    assert written[0] == "as_at,group,stage,median,low,high,mean,mean_se"
    assert len(written) == 1 + 2 * len(COLUMNS) and written[1].startswith("2026-12-01,1,held_up_by_nominations,")
