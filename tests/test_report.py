"""The delegation report is valid, self-contained HTML; comparisons and hubverse exports are sound."""

import dataclasses
import datetime as dt
import os
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from workbench.analysis.compare import comparison_table, critical_reviews, time_in_stage
from workbench.core.timeline import DAYS_PER_MONTH
from workbench.experiments.replications import run_replications
from workbench.faces.hubverse import hubverse_table
from workbench.inputs.levers import Levers, Redraw
from workbench.inputs.parties import synthetic_pairings

from conftest import ROOT, make_setup

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.external, self.stack, self.errors = [], [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        for key in ("src", "href"):
            if attrs.get(key, "").startswith(("http:", "https:", "//")):
                self.external.append(attrs[key])
        if tag not in ("img", "meta", "br", "hr", "link", "input"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


def test_report_is_valid_self_contained_html(tmp_path):
    out = tmp_path / "report.html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench",
            "report",
            str(ROOT / "scenarios" / "redraw-silent-reviewers.toml"),
            str(ROOT / "scenarios" / "condition-50-percent.toml"),
            "--replications",
            "12",
            "--check-replications",
            "12",
            "--sensitivity-draws",
            "40",
            "--plan-trials",
            "4",
            "--horizon",
            "2050-12-31",
            "--output",
            str(out),
        ],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(text)
    assert text.startswith("<!DOCTYPE html>") and not parser.errors and parser.stack == []
    assert len(parser.images) >= 7 and all(src.startswith("data:image/png;base64,") for src in parser.images)
    assert not parser.external  # opens without a network
    for heading in (
        "Headline projection",
        "Scenario comparison",
        "Assumptions of each scenario",
        "Calibration check",
        "What would it take?",  # the verified frontier and the Conference-decision curve
        "The Conference's decision",
        "What the answer rests on",  # each structure beside the model average, and the top drivers in plain words
        "model average",
        "What most drives",
        "How far to trust this forecast",  # the hindcast of every dated figure, with its chart
        "2022-11-01",
        "Method in plain language",
        "STRESS-DES",
        "The outside view",  # the forecast beside UNCAC's pace, with the differences said
        "Not like for like",
    ):
        assert heading in text
    assert "2024-05-21" in text and "@media print" in text


@pytest.mark.subprocess
def test_compare_command_prints_a_ranked_table(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench",
            "compare",
            str(ROOT / "scenarios" / "redraw-silent-reviewers.toml"),
            str(ROOT / "scenarios" / "training.toml"),
            "--replications",
            "10",
            "--horizon",
            "2050-12-31",
            "--output",
            str(tmp_path / "c.csv"),
        ],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    assert "months gained" in done.stdout and "redraw silent reviewers" in done.stdout
    assert "WARNING: 10 paired replications" in done.stdout and "± " in done.stdout  # the noise is said, not hidden
    table = pd.read_csv(tmp_path / "c.csv")
    assert list(table["months_gained_median"]) == sorted(table["months_gained_median"], reverse=True)


def _pair(snapshot, n=12):
    setup = make_setup(pairings=synthetic_pairings(3))
    base = run_replications(setup, n, seed=2, workers=1)
    scen = run_replications(
        make_setup(
            pairings=synthetic_pairings(3),
            levers=Levers(redraw=Redraw(dt.date(2025, 1, 1), after_months=12, delay_months=3)),
        ),
        n,
        seed=2,
        workers=1,
    )
    return base, scen


def test_comparison_counts_runs_that_never_reach_on_known_outcomes(snapshot):
    """Four paired runs with hand-set outcomes, one of each kind: the shares, the gains
    (censored at the horizon) and the probabilities are the ones worked out by hand."""
    base, scen = _pair(snapshot, n=4)
    horizon = pd.Timestamp(base.setup.horizon)
    when = pd.Timestamp("2040-01-01")
    year = pd.Timedelta(days=365)  # whole days: the comparison counts in days

    def outcome(dates):
        return pd.DataFrame(
            {
                "replication": range(4),
                "reached": [d is not None for d in dates],
                "date": pd.to_datetime([d for d in dates]),
                "years_from_start": 0.0,
            }
        )

    # both reach (scenario 12 months earlier), only the scenario, only the baseline, neither
    b = dataclasses.replace(base, threshold=outcome([when, None, when, None]))
    s = dataclasses.replace(scen, threshold=outcome([when - year, when, None, None]))
    row = comparison_table(b, {"s": s}).iloc[0]
    assert (row.both_reach, row.only_scenario_reaches, row.only_baseline_reaches, row.neither_reaches) == (0.25, 0.25, 0.25, 0.25)
    assert row.months_gained_if_both_median == pytest.approx(365 / DAYS_PER_MONTH)
    to_horizon = (horizon - when).days / DAYS_PER_MONTH
    gains = [365 / DAYS_PER_MONTH, to_horizon, -to_horizon, 0.0]
    assert row.months_gained_median == pytest.approx(np.median(gains))
    assert (row.p_within_horizon_baseline, row.p_within_horizon) == (0.5, 0.5)
    assert row.p_by_2030 == 0.0
    # Paired differences in "met by the horizon": 0, +1, -1, 0; their standard error is sd / sqrt(4).
    assert row.p_within_horizon_change == 0.0
    assert row.p_within_horizon_change_se == pytest.approx(np.std([0, 1, -1, 0], ddof=1) / 2)


def test_critical_reviews_name_parties_with_a_real_pairing_list(snapshot):
    base, _ = _pair(snapshot)
    table = critical_reviews(base)
    assert len(table) == 62 and {"party_under_review", "reviewers", "p_among_first_44"} <= set(table.columns)
    assert table["p_among_first_44"].between(0, 1).all()
    stages = time_in_stage(base)
    assert (stages["mean_months"] >= 0).all()


def test_hubverse_export_is_coherent(snapshot):
    base, _ = _pair(snapshot)
    table = hubverse_table(base)
    assert set(table["output_type"]) == {"cdf", "quantile", "sample"}
    cdf = table[table["output_type"] == "cdf"]["value"].to_numpy()
    assert np.all(np.diff(cdf) >= 0) and cdf.min() >= 0 and cdf.max() <= 1
    q = table[table["output_type"] == "quantile"]
    for _, frame in q.groupby(["group", "stage", "target_date"]):
        assert np.all(np.diff(frame.sort_values("output_type_id")["value"].to_numpy()) >= 0)
    assert (table["output_type"] == "sample").sum() == base.replications


def test_the_excel_forecast_keeps_numbers_as_numbers_and_dates_as_dates(tmp_path):
    import openpyxl

    from workbench.analysis.forecast import forecast, forecast_setup
    from workbench.faces.output_folder import write_forecast

    fc = forecast(forecast_setup(posterior=None), 12, 3, keep_events=False, keep_monthly=False, workers=1)
    write_forecast(fc, tmp_path / "fc", xlsx=True)
    book = openpyxl.load_workbook(tmp_path / "fc" / "forecast.xlsx")
    rows = {r[0]: r[1:] for r in book["summary"].iter_rows(min_row=2, values_only=True)}
    probability, date, count, note = rows["P(met before the 2030 session, 1 Oct 2030)"]
    assert isinstance(probability, (int, float)) and probability == fc.summary["p_before_session"][2030]
    median = rows["median"]
    assert (median[1] is not None and median[1].date() == fc.summary["median"].date()) or "beyond the horizon" in median[3]
    assert rows["replications"][2] == 12
    threshold = list(book["threshold"].iter_rows(min_row=2, values_only=True))
    assert len(threshold) == 12 and all(isinstance(r[3], float) for r in threshold)
