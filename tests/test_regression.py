"""The fixed-seed forecast still matches the committed baseline (see tests/regression.py)."""

import json

import numpy as np

from regression import BASELINE_FILE, summarize


def test_fixed_seed_forecast_matches_the_committed_baseline():
    expected = json.loads(BASELINE_FILE.read_text(encoding="utf-8"))
    got = summarize()
    assert got["reached"] == expected["reached"]
    np.testing.assert_allclose(got["threshold_days_after_report"], expected["threshold_days_after_report"], rtol=0, atol=1)
    assert got["group1_completed_mean"] == expected["group1_completed_mean"]
    assert got["stage_entries"] == expected["stage_entries"]
    assert got["simulated_events"] == expected["simulated_events"]
