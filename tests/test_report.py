"""The delegation report is valid, self-contained HTML; comparisons and hubverse exports are sound."""

import datetime as dt
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.analysis.compare import comparison_table, critical_reviews, time_in_stage
from workbench.faces.hubverse import hubverse_table
from workbench.inputs.levers import Levers, Redraw
from workbench.inputs.parameters import Parameters
from workbench.inputs.parties import synthetic_pairings
from workbench.experiments.runner import Setup, run_replications

ROOT = Path(__file__).resolve().parent.parent
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
    done = subprocess.run([sys.executable, "-m", "workbench", "report", str(ROOT / "scenarios" / "redraw-silent-reviewers.toml"),
                           str(ROOT / "scenarios" / "condition-50-percent.toml"), "--replications", "12",
                           "--check-replications", "12", "--horizon", "2050-12-31", "--output", str(out)],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(text)
    assert text.startswith("<!DOCTYPE html>") and not parser.errors and parser.stack == []
    assert len(parser.images) >= 7 and all(src.startswith("data:image/png;base64,") for src in parser.images)
    assert not parser.external  # opens without a network
    for heading in ("Headline projection", "Scenario comparison", "Assumptions of each scenario", "Calibration check",
                    "Method in plain language", "STRESS-DES"):
        assert heading in text
    assert "2024-05-21" in text and "@media print" in text


def test_compare_command_prints_a_ranked_table(tmp_path):
    done = subprocess.run([sys.executable, "-m", "workbench", "compare", str(ROOT / "scenarios" / "redraw-silent-reviewers.toml"),
                           str(ROOT / "scenarios" / "training.toml"), "--replications", "10", "--horizon", "2050-12-31",
                           "--output", str(tmp_path / "c.csv")], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert "months gained" in done.stdout and "redraw silent reviewers" in done.stdout
    table = pd.read_csv(tmp_path / "c.csv")
    assert list(table["months_gained_median"]) == sorted(table["months_gained_median"], reverse=True)


def _pair(snapshot, n=12):
    setup = Setup(Parameters(), snapshot, synthetic_pairings(3), "report", dt.date(2060, 12, 31))
    base = run_replications(setup, n, seed=2, workers=1)
    scen = run_replications(Setup(Parameters(), snapshot, synthetic_pairings(3), "report", dt.date(2060, 12, 31),
                                  levers=Levers(redraw=Redraw(dt.date(2025, 1, 1), after_months=12, delay_months=3))),
                            n, seed=2, workers=1)
    return base, scen


def test_comparison_keeps_runs_that_never_reach(snapshot):
    base, scen = _pair(snapshot)
    row = comparison_table(base, {"redraw": scen}).iloc[0]
    shares = row.both_reach + row.only_scenario_reaches + row.only_baseline_reaches + row.neither_reaches
    assert np.isclose(shares, 1.0)
    assert row.p_within_horizon_change == row.p_within_horizon - row.p_within_horizon_baseline
    assert row.months_gained_median >= 0


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
