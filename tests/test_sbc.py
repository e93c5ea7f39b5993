"""Simulation-based calibration (#21): the check's own arithmetic against a case with a known answer,
and a small run of the real thing.  The full check is `make sbc` (20 truths), reported in the notes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from workbench.inference.prior_check import draw_parameters
from workbench.inference.sbc import LEVELS, SBCResult, _where_the_truth_falls, synthetic_snapshots, weighted_quantile
from workbench.inference.structures import ALL_STRUCTURES
from workbench.inputs.observations import load_observations
from workbench.inputs.parameters import Parameters
from workbench.inputs.priors import load_priors

PRIORS = load_priors()


def test_weighted_quantiles_are_those_of_the_repeated_sample():
    values, weights = np.array([3.0, 1.0, 2.0]), np.array([1.0, 2.0, 1.0])  # as the sample 1, 1, 2, 3
    assert weighted_quantile(values, weights, 0.25) == 1.0
    assert weighted_quantile(values, weights, 0.5) == 1.0
    assert weighted_quantile(values, weights, 0.75) == 2.0
    assert weighted_quantile(values, weights, 1.0) == 3.0


def test_a_posterior_equal_to_the_prior_covers_truths_from_the_prior_at_the_nominal_rates():
    """Where the data say nothing, the exact posterior is the prior: truths drawn from the prior then
    fall in its central 50 % and 80 % intervals at those rates, and their ranks are uniform.  The
    check must find exactly that, within binomial error (3 standard errors on 300 x 13 truths)."""
    rng = np.random.default_rng(8)
    draws = [draw_parameters(PRIORS, ALL_STRUCTURES, rng) for _ in range(2000)]
    particles = pd.DataFrame([{**values, "weight": 1.0} for _, values in draws[:1700]])
    rows = []
    for k, (structure, truth) in enumerate(draws[1700:]):
        rows += _where_the_truth_falls(particles, PRIORS, structure, truth, k)
    result = SBCResult(pd.DataFrame(rows), pd.DataFrame(), 300)
    coverage = result.coverage().set_index("interval")
    for level in LEVELS:
        row = coverage.loc[f"{level:.0%}"]
        assert abs(row["z"]) < 3, coverage
    ranks = result.parameters["rank"].to_numpy()
    from scipy import stats

    # Ranks of parameters a structure can fix at 0 are not uniform (an atom at 0): test the others.
    free = result.parameters["parameter"].isin(["saq_median_months", "nomination_rate", "redraw_patience_months"])
    assert stats.kstest(ranks[free.to_numpy()], "uniform").pvalue > 0.001


def test_a_posterior_centred_away_from_the_truth_is_found_overconfident():
    rng = np.random.default_rng(9)
    structure, truth = draw_parameters(PRIORS, ALL_STRUCTURES, rng)
    prior = PRIORS["saq_median_months"]
    # A narrow posterior far from the truth: outside both intervals, and a rank of 0 or 1.
    far = prior.high if truth["saq_median_months"] < (prior.low + prior.high) / 2 else prior.low
    particles = pd.DataFrame({**{p.name: np.full(50, truth[p.name]) for p in PRIORS.priors}, "weight": np.ones(50)})
    particles["saq_median_months"] = far + np.linspace(-0.01, 0.01, 50)
    row = next(r for r in _where_the_truth_falls(particles, PRIORS, structure, truth, 0) if r["parameter"] == "saq_median_months")
    assert not row["inside_50"] and not row["inside_80"] and row["rank"] in (0.0, 1.0)


def test_synthetic_figures_are_one_history_observed_on_every_date():
    snapshots = load_observations()
    synthetic = synthetic_snapshots(snapshots, Parameters(), seed=3)
    assert [s.as_at for s in synthetic] == [s.as_at for s in snapshots]
    consultations = [s.figures[("consultations_held", None)].value for s in synthetic if ("consultations_held", None) in s.figures]
    assert consultations == sorted(consultations)  # one history: a count that only grows does not fall
    assert all(fig.range == (fig.value, fig.value) for s in synthetic for fig in s.figures.values())  # point readings


@pytest.mark.slow
def test_a_small_simulation_based_calibration_reports_coverage_and_the_true_structure():
    from workbench.inference.sbc import simulation_based_calibration
    from workbench.inference.settings import Budget

    result = simulation_based_calibration(2, Budget(population=60, generations=2, watch_replications=0), seed=4, workers=2)
    coverage = result.coverage()
    assert list(coverage["interval"]) == ["50%", "80%"] and (coverage["truths"] > 20).all()
    assert coverage["covered"].between(0, 1).all() and math.isfinite(coverage["z"].iloc[0])
    share = result.structure_share()
    assert 0 <= share["true_structure_mean_probability"] <= 1 and share["prior_share"] == pytest.approx(1 / 8)
    assert set(result.by_parameter()["parameter"]) <= set(PRIORS.names)
