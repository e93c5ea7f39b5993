"""The backtest's scores, against synthetic truth: a correctly specified model gives uniform PITs
and nominal coverage, a deliberately biased one is caught; ranges and lower bounds are scored
as the source gives them; a new status file becomes scored rows without code changes."""

import math

import numpy as np
import pytest

from workbench.inference.backtest import (
    coverage_summary,
    pit_uniformity,
    randomized_pit,
    replace_figures,
    score_figure,
    score_snapshots,
)
from workbench.inference.diagnostics import simulate_observations
from workbench.inputs.observations import load_observations
from workbench.inputs.parameters import Parameters

from conftest import ROOT

SNAPSHOTS = load_observations()
TRUTH = Parameters()
#: Questionnaires and consultations twice as slow as the truth: a misspecified model.
BIASED = TRUTH.updated({"consultation_scheduling_months": 20.0, "saq_median_months": 16.0})


def test_randomized_pit_of_a_point_lies_between_the_cdf_steps():
    sample = np.array([0, 1, 1, 2, 3])
    assert randomized_pit(sample, 1, 1, 0.0) == pytest.approx(0.2)  # F(0)
    assert randomized_pit(sample, 1, 1, 1.0) == pytest.approx(0.6)  # F(1)
    assert randomized_pit(sample, 5, math.inf, 0.5) == pytest.approx(1.0)  # at least 5: above every draw
    assert randomized_pit(sample, 2, math.inf, 0.0) == pytest.approx(0.6)  # at least 2: anywhere from F(1) up


def test_a_range_is_covered_when_any_reading_lies_in_the_interval():
    sample = np.arange(100, dtype=float)
    row = score_figure(sample, 140, 150, 142, 0.5)  # persons for parties: 132-142 vs a model of 0-99
    assert not row["covered_95%"]
    row = score_figure(sample, 90, 150, 142, 0.5)
    assert row["covered_95%"] and row["covered_50%"] is False
    assert score_figure(sample, 5, math.inf, 5, 0.5)["covered_95%"]  # "at least 5" holds


@pytest.mark.slow
def test_pits_are_uniform_for_the_true_model_and_not_for_a_biased_one():
    """300 synthetic status reports drawn from the truth; one figure of each is scored (figures
    of one run are dependent, so one per run keeps the PITs independent for the KS test)."""
    n = 300
    truths = simulate_observations(SNAPSHOTS, n, seed=101, params=TRUTH, workers=2)
    right = simulate_observations(SNAPSHOTS, 400, seed=7, params=TRUTH, workers=2)
    wrong = simulate_observations(SNAPSHOTS, 400, seed=7, params=BIASED, workers=2)
    pits = {"right": [], "wrong": []}
    covered = []
    for k, observed in enumerate(truths):
        synthetic = [replace_figures(s, observed[s.as_at]) for s in SNAPSHOTS]
        for name, runs in (("right", right), ("wrong", wrong)):
            scores = score_snapshots(synthetic, runs, seed=k)
            row = scores.iloc[k % len(scores)]
            pits[name].append(row["pit"])
            if name == "right":
                covered.append(row["covered_80%"])
    # Kolmogorov-Smirnov at the 1 % level: fixed seeds, so the outcome is fixed too.
    assert pit_uniformity(pits["right"]) > 0.01
    assert pit_uniformity(pits["wrong"]) < 0.001
    # 80 % intervals of a discrete sample hold at least 80 % of draws; 3 binomial sd below for n = 300.
    assert np.mean(covered) >= 0.80 - 3 * math.sqrt(0.8 * 0.2 / n)


@pytest.mark.slow  # 0.1 s after the suite's other simulations of history, 7 s when first to load them in the fast lane
def test_every_snapshot_file_is_scored_without_code_changes(tmp_path):
    runs = simulate_observations(SNAPSHOTS, 20, seed=3, params=TRUTH, workers=1)
    scores = score_snapshots(SNAPSHOTS, runs)
    assert set(scores["as_at"]) == {s.as_at for s in SNAPSHOTS}
    assert "5 to 63" in set(scores["reported"])  # the redraw bounds of ¶7: at least five, "some" parties
    assert "132 to 142" in set(scores["reported"])  # persons read as a range of parties
    summary = coverage_summary(scores)
    assert summary.loc[0, "figures"] == len(scores) and 0 <= summary.loc[0, "covered_95%"] <= 1
    # A file dropped into a copy of the folder becomes rows of its own.
    folder = tmp_path / "observations"
    folder.mkdir()
    for f in (ROOT / "calibration" / "observations").glob("*.toml"):
        (folder / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "2024-09-01.toml").write_text(
        '[snapshot]\nas_at = 2024-09-01\nsource = "a later status note"\n\n'
        '[[figure]]\nname = "reviews_completed"\nvalue = 0\nparagraph = "1"\ndefinition = "none finalized"\n',
        encoding="utf-8",
    )
    more = load_observations(folder)
    runs = simulate_observations(more, 20, seed=3, params=TRUTH, workers=1)
    later = score_snapshots(more, runs)
    assert len(later) == len(scores) + 1 and str(later["as_at"].max()) == "2024-09-01"


def test_the_predictive_check_and_the_backtest_score_the_same_figures():
    """The check once said '38 of 40 figures' where the backtest and the README said 37: both now
    leave out the constants of the set-up (the 189 reviews and parties), which the model holds by
    construction."""
    from workbench.inference.backtest import score_snapshots
    from workbench.inference.diagnostics import predictive_check, simulate_observations
    from workbench.inputs.observations import load_observations

    snapshots = load_observations()
    runs = simulate_observations(snapshots, 4, seed=2, workers=1)
    check = predictive_check(snapshots, runs)
    scored = check[check["inside"].notna()]
    assert len(scored) == len(score_snapshots(snapshots, runs))
    constants = check[check["note"].str.startswith("a constant")]
    assert len(constants) >= 1 and constants["median"].notna().all()  # shown beside the report, not scored
