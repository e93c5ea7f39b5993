"""The analyst's path on a record, from the command line: check it, forecast from it, rank its
reviews, and rerun the forecast from its manifest (the README's three commands)."""

import json
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from conftest import ROOT

pytestmark = pytest.mark.subprocess  # starts processes: left out of make test-fast

RECORD = "calibration/record-synthetic"


def _run(*args):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "workbench", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_the_shipped_record_checks_clean_and_says_it_is_synthetic():
    done = _run("record-check", RECORD)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SYNTHETIC" in done.stdout and "beside the figures as at 2024-05-21: 35 of 35 agree" in done.stdout


def test_a_record_that_disagrees_with_a_report_exits_1_naming_the_figure(tmp_path):
    shutil.copytree(ROOT / RECORD, tmp_path / "r")
    events = tmp_path / "r" / "events.csv"
    text = events.read_text()
    one_language = next(line for line in text.splitlines() if ",consultation_held," in line and line.endswith(",1"))
    events.write_text(text.replace(one_language, one_language[:-1] + "2"))  # a valid record, one language count off
    done = _run("record-check", str(tmp_path / "r"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "consultations_one_language, ¶28: the report 49, the record 48" in done.stdout


def test_forecast_from_a_record_and_reproduce_it(tmp_path):
    out = tmp_path / "fc"
    done = _run("forecast", "--record", RECORD, "--replications", "12", "--seed", "2", "--output", str(out), "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert "SYNTHETIC" in done.stderr and "start: the synthetic record as at 2024-05-21" in done.stdout
    again = _run("reproduce", str(out), "--workers", "1")
    assert again.returncode == 0, again.stdout + again.stderr
    refused = _run("forecast", "--record", RECORD, "--pairings", f"{RECORD}/pairings.csv", "--output", str(tmp_path / "x"))
    assert refused.returncode == 2 and "--pairings" in refused.stderr


def test_the_critical_path_from_a_record(tmp_path):
    out = tmp_path / "cp"
    done = _run("critical-path", "--record", RECORD, "--replications", "40", "--output", str(out), "--workers", "1", "--top", "5")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "critical_path.csv")  # a folder, as every other command's tables
    settings = json.loads((out / "settings.json").read_text(encoding="utf-8"))
    assert settings["command"] == "critical-path" and settings["replications"] == 40 and settings["record"] == RECORD
    assert len(table) == 62 and "p_among_first_44_se" in table.columns
    assert "Group 1 review by review" in done.stdout and "R1-" in done.stdout


def test_record_fit_writes_a_posterior_a_forecast_can_use(tmp_path):
    out = tmp_path / "posterior"
    done = _run("record-fit", "--record", RECORD, "--output", str(out), "--replications", "0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "log evidence" in done.stdout and "pace: coupled" in done.stdout and "sd_ratio" in done.stdout
    particles = pd.read_csv(out / "particles.csv")
    assert len(particles) == 2000 and particles["weight"].sum() == pytest.approx(1.0)
    forecast = _run("forecast", "--record", RECORD, "--posterior", str(out), "--replications", "8", "--output", str(tmp_path / "fc"))
    assert forecast.returncode == 0, forecast.stderr


def test_forecast_from_the_histories_that_lead_to_the_report_and_reproduce_it(tmp_path):
    out = tmp_path / "matched"
    done = _run("forecast", "--start", "matched", "--histories", "20", "--replications", "12", "--output", str(out), "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert "histories from 2020 that lead to the report's state as at 2024-05-21: one for each of" in done.stdout
    assert "of 20 found none in" in done.stdout
    again = _run("reproduce", str(out), "--workers", "1")
    assert again.returncode == 0, again.stdout + again.stderr


def test_record_fit_never_replaces_the_shipped_posterior():
    done = _run("record-fit", "--record", RECORD, "--output", "calibration/posterior", "--replications", "0")
    assert done.returncode == 2 and "shipped data" in done.stderr
