"""The README's forecast command runs end to end; bad input exits 2 with one clear line."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT

pytestmark = pytest.mark.subprocess  # starts processes: left out of make test-fast


def _run(*args, cwd=ROOT):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "workbench", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_forecast_command_end_to_end(tmp_path):
    out = tmp_path / "fc"
    done = _run("forecast", "--replications", "8", "--seed", "3", "--horizon", "2050-12-31", "--output", str(out), "--workers", "2")
    assert done.returncode == 0, done.stderr
    assert "median" in done.stdout and "P(reached before the 2026 Conference session" in done.stdout
    assert "parameters: posterior posterior/ (model average, ABC-SMC" in done.stdout  # the shipped posterior, named
    for name in ("threshold.csv", "monthly.csv.gz", "events.csv.gz", "summary.csv", "nowcast.csv", "manifest.json"):
        assert name in done.stdout, name  # the summary lists every file written
        assert (out / name).is_file(), name
    threshold = pd.read_csv(out / "threshold.csv")
    assert list(threshold.columns) == ["replication", "reached", "date", "years_from_start"] and len(threshold) == 8
    monthly = pd.read_csv(out / "monthly.csv.gz")
    assert monthly.groupby(["replication", "date"]).size().eq(3).all()
    # summary.csv is typed: probabilities are numbers, dates are dates, words only in the note.
    summary = pd.read_csv(out / "summary.csv", parse_dates=["date"])
    assert list(summary.columns) == ["quantity", "probability", "date", "count", "note"]
    assert summary["probability"].dtype == float and summary["probability"].dropna().between(0, 1).all()
    assert pd.api.types.is_datetime64_any_dtype(summary["date"])
    assert summary.set_index("quantity").loc["replications", "count"] == 8
    assert all(len(v.split(".")[-1]) <= 4 for v in threshold["years_from_start"].dropna().astype(str))  # no 16 digits
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["replications"] == 8 and manifest["parameters"]["completion_share"] == 0.7
    assert manifest["posterior"]["provenance"]["seed"] == 2024
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left behind


def test_forecast_with_a_scenario_names_it(tmp_path):
    done = _run(
        "forecast",
        "--replications",
        "3",
        "--horizon",
        "2040-01-01",
        "--output",
        str(tmp_path / "o"),
        "--scenario",
        str(ROOT / "scenarios" / "secretariat-up.toml"),
        "--no-events",
        "--workers",
        "1",
    )
    assert done.returncode == 0, done.stderr
    assert "scenario: Secretariat +2 officers" in done.stdout


def test_bad_scenario_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "typo.toml"
    bad.write_text("[parameters]\nsaq_median_month = 3\n")
    done = _run("forecast", "--replications", "2", "--scenario", str(bad), "--output", str(tmp_path / "o"))
    assert done.returncode == 2
    assert "typo.toml" in done.stderr and "saq_median_month" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "o").exists()


def test_missing_pairing_file_exits_2(tmp_path):
    done = _run("forecast", "--replications", "2", "--pairings", str(tmp_path / "none.csv"), "--output", str(tmp_path / "o"))
    assert done.returncode == 2 and "pairing file not found" in done.stderr


def test_horizon_before_the_snapshot_is_refused(tmp_path):
    done = _run("forecast", "--horizon", "2020-01-01", "--output", str(tmp_path / "o"))
    assert done.returncode == 2 and "horizon" in done.stderr


def _small_forecast(tmp_path, *extra):
    """A two-replication forecast to 2030 on one worker, into tmp_path/o."""
    return _run("forecast", "--replications", "2", "--horizon", "2030-01-01", "--output", str(tmp_path / "o"), "--workers", "1", *extra)


def test_hand_set_forecast_says_it_is_not_calibrated(tmp_path):
    done = _small_forecast(tmp_path, "--hand-set", "--no-events")
    assert done.returncode == 0 and "not yet calibrated" in done.stdout


def test_forecast_with_a_real_pairing_file(tmp_path):
    from workbench.inputs.parties import synthetic_pairings

    synthetic_pairings(12).to_csv(tmp_path / "pairs.csv")
    done = _small_forecast(tmp_path, "--pairings", str(tmp_path / "pairs.csv"))
    assert done.returncode == 0, done.stderr
    assert "pairs.csv" in done.stdout


def test_parameters_command_lists_every_parameter():
    done = _run("parameters")
    assert done.returncode == 0 and "nomination_rate" in done.stdout and "¶14" in done.stdout


def test_summaries_only_and_the_simpy_engine_give_the_same_numbers(tmp_path):
    """--summaries-only keeps only the monthly distribution; --engine simpy reproduces the compiled run."""
    common = ("forecast", "--replications", "4", "--seed", "5", "--horizon", "2045-12-31", "--workers", "1", "--summaries-only")
    fast = _run(*common, "--output", str(tmp_path / "fast"))
    slow = _run(*common, "--output", str(tmp_path / "slow"), "--engine", "simpy")
    assert fast.returncode == 0 and slow.returncode == 0, fast.stderr + slow.stderr
    for out in (tmp_path / "fast", tmp_path / "slow"):
        assert (out / "monthly_quantiles.csv.gz").is_file()
        assert not (out / "monthly.csv.gz").exists() and not (out / "events.csv.gz").exists()
    for name in ("threshold.csv", "monthly_quantiles.csv.gz", "summary.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "fast" / name), pd.read_csv(tmp_path / "slow" / name))
    assert json.loads((tmp_path / "slow" / "manifest.json").read_text())["engine"] == "simpy"


def test_every_option_says_its_default_from_the_library():
    """--help gives each default, and the defaults are the library's own (here: plan's search, the calibration budget)."""
    from workbench.analysis.plan import PlanSearch
    from workbench.faces.cli import build_parser
    from workbench.inference.calibrate import Budget

    commands = build_parser()._subparsers._group_actions[0].choices
    plan_help, calibrate_help = commands["plan"].format_help(), commands["calibrate"].format_help()
    assert f"(default: {PlanSearch().trials})" in plan_help and f"(default: {PlanSearch().earliest_start})" in plan_help
    assert f"(default: {Budget().population})" in " ".join(calibrate_help.split())
    assert "(default: None)" not in plan_help and "(default: False)" not in plan_help


def test_the_installed_command_starts():
    """The README runs `.venv/bin/workbench`: the console script must point at the command line."""
    command = Path(sys.executable).parent / "workbench"
    done = subprocess.run([str(command), "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "forecast" in done.stdout


@pytest.mark.subprocess
def test_forecast_and_compare_side_by_side_per_structure(tmp_path):
    out = tmp_path / "fc"
    done = _run("forecast", "--replications", "8", "--by-structure", "--output", str(out), "--workers", "2")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "structures.csv")
    assert table["structure"].iloc[0] == "model average" and len(table) == 9
    assert table["probability"].iloc[1:].sum() == pytest.approx(1.0)
    one = _run("forecast", "--replications", "8", "--structure", "tail-independent-smooth", "--output", str(tmp_path / "one"))
    assert one.returncode == 0 and "structure tail-independent-smooth" in one.stdout
    bad = _run("forecast", "--replications", "8", "--structure", "nonsense", "--output", str(tmp_path / "bad"))
    assert bad.returncode == 2 and "no particles of structure 'nonsense'" in bad.stderr
    compared = _run("compare", str(ROOT / "scenarios" / "training.toml"), "--replications", "8", "--by-structure", "--workers", "2")
    assert compared.returncode == 0, compared.stderr
    assert "on each model structure alone" in compared.stdout and "tail-independent-smooth (" in compared.stdout


@pytest.mark.subprocess
def test_structures_sensitivity_and_backtest_commands(tmp_path):
    listed = _run("structures")
    assert listed.returncode == 0 and "silent-coupled-clustered" in listed.stdout and "fixes saq_deadline_pull = 0" in listed.stdout
    sens = _run("sensitivity", "--draws", "30", "--replications", "2", "--output", str(tmp_path / "s"), "--workers", "2")
    assert sens.returncode == 0, sens.stderr
    assert "What most drives" in sens.stdout and (tmp_path / "s" / "sensitivity.png").is_file()
    back = _run("backtest", "--no-rolling", "--replications", "20", "--output", str(tmp_path / "b"), "--workers", "2")
    assert back.returncode == 0, back.stderr
    scores = pd.read_csv(tmp_path / "b" / "scores.csv")
    assert set(scores["as_at"]) == {"2022-11-01", "2023-05-29", "2023-12-05", "2024-04-05", "2024-05-21"}
    assert (tmp_path / "b" / "band.png").is_file() and "PIT uniformity" in back.stdout


@pytest.mark.parametrize("command", ["forecast", "check", "start-check", "compare", "calibrate", "sensitivity", "backtest"])
def test_a_negative_seed_is_refused_before_any_work(command, tmp_path):
    done = _run(command, "--seed", "-1", cwd=tmp_path)
    assert done.returncode == 2 and "--seed: -1 is negative (allowed: a whole number from 0 up)" in done.stderr
    assert "Traceback" not in done.stderr and not any(tmp_path.iterdir())  # nothing left behind


def test_calibrate_replaces_the_shipped_posterior_only_when_asked(tmp_path):
    shipped = (ROOT / "calibration" / "posterior" / "particles.csv").read_bytes()
    done = _run("calibrate", "--population", "10", "--generations", "1", "--db", str(tmp_path / "abc.db"))
    assert done.returncode == 2 and "calibrate replaces the shipped posterior" in done.stderr and "--update-shipped" in done.stderr
    assert (ROOT / "calibration" / "posterior" / "particles.csv").read_bytes() == shipped and not (tmp_path / "abc.db").exists()


def test_structures_prints_the_weight_the_evidence_gives_each():
    """The README sends readers to `workbench structures` for the weights: it prints them, each
    structure and each question's answers, summing to the whole."""
    from workbench.inputs.posterior import shipped_posterior

    done = _run("structures")
    assert done.returncode == 0, done.stderr
    weights = shipped_posterior().structure_probabilities()
    for name, p in weights.items():
        assert re.search(rf"{name}\s+{100 * p:.1f}%", done.stdout), name
    silent = sum(p for name, p in weights.items() if name.startswith("silent"))
    assert f"nominations: silent {silent:.0%}, tail {1 - silent:.0%}" in done.stdout
