"""The prior-predictive check: draws follow the priors and the structures, the implied quantities
are what the runs did, and the 'where' table finds the prior's corner that a bound rules out."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench.inference.prior_check import (
    BOUNDS,
    draw_parameters,
    implied,
    prior_predictive,
    slowest_party_factor,
    verdicts,
    where_implausible,
)
from workbench.inference.structures import ALL_STRUCTURES
from workbench.inputs.priors import load_priors

PRIORS = load_priors()


def test_draws_cover_each_prior_and_each_structure_fixes_its_parameters():
    rng = np.random.default_rng(3)
    n = 4000
    drawn = [draw_parameters(PRIORS, ALL_STRUCTURES, rng) for _ in range(n)]
    counts = pd.Series([s.name for s, _ in drawn]).value_counts()
    assert len(counts) == 8
    # Each structure 1/8 of the time: a chi-square test at the 0.1 % level on 4,000 draws.
    assert stats.chisquare(counts.to_numpy()).pvalue > 0.001
    for structure, values in drawn:
        for name, fixed in structure.fixed.items():
            assert values[name] == fixed
    free = [values["redraw_patience_months"] for _, values in drawn]  # loguniform 3..60: uniform on the log scale
    prior = PRIORS["redraw_patience_months"]
    logs = (np.log(free) - math.log(prior.low)) / (math.log(prior.high) - math.log(prior.low))
    assert stats.kstest(logs, "uniform").pvalue > 0.001


def test_the_slowest_partys_factor_is_the_gamma_minimum_to_the_minus_coupling():
    assert slowest_party_factor(2.0, 0.0, 189) == 1.0  # independent pace: no one is slower at the stages
    shape, coupling, n = 0.5, 1.0, 189
    u = 1 - 0.5 ** (1 / n)
    slowest = stats.gamma(shape, scale=1 / shape).ppf(u)
    assert slowest_party_factor(shape, coupling, n) == pytest.approx(slowest**-coupling, rel=1e-9)
    # The #21 audit's case: shape 0.2 and coupling 1.5 make the slowest party over 1,000 times slower.
    assert slowest_party_factor(0.2, 1.5, 189) > 1000


def test_the_implied_quantities_are_those_of_the_runs(snapshot):
    slow = {"redraw_patience_months": 3.0, "responsiveness_coupling": 0.0}  # asks for redraws early
    patient = {"redraw_patience_months": 60.0, "responsiveness_coupling": 0.0}  # waits five years
    table = implied([("a", slow), ("b", patient)], snapshot, seed=4, workers=1)
    assert table.loc[0, "redraws_by_dec_2023"] > table.loc[1, "redraws_by_dec_2023"] == 0
    assert table["never_finished_30y"].between(0, 1).all() and table["group1_completed_7y"].between(0, 1).all()
    for name, bound in BOUNDS.items():
        assert (table[f"{name}_plausible"] == table[name].between(bound.low, bound.high)).all()


def test_where_finds_the_end_of_a_prior_that_a_bound_rules_out():
    rng = np.random.default_rng(5)
    n = 600
    rows = {p.name: rng.uniform(p.low, p.high, n) for p in PRIORS.priors}
    table = pd.DataFrame(rows)
    patience = PRIORS["redraw_patience_months"]
    # Planted: a draw is outside the redraw bound exactly when its patience is in the lowest fifth.
    low_fifth = table["redraw_patience_months"] < patience.low + 0.2 * (patience.high - patience.low)
    for name in BOUNDS:
        table[name] = 0.0
        table[f"{name}_plausible"] = True
    table["redraws_by_dec_2023_plausible"] = ~low_fifth
    table["plausible"] = ~low_fifth
    where = where_implausible(table, PRIORS)
    redraws = where[where["bound"] == "redraws_by_dec_2023"].reset_index(drop=True)
    assert redraws.loc[0, "parameter"] == "redraw_patience_months" and redraws.loc[0, "difference"] < -0.4
    # Every other parameter is independent of the bound: its difference is noise, of the order of 1/sqrt(outside draws).
    assert redraws.loc[1:, "difference"].abs().max() < 4 / math.sqrt(low_fifth.sum())
    summary = verdicts(table, PRIORS).set_index("quantity")
    assert summary.loc["redraws_by_dec_2023", "share_outside"] == pytest.approx(low_fifth.mean(), abs=1e-4)


def test_a_small_prior_predictive_run_is_reproducible(snapshot):
    first = prior_predictive(PRIORS, snapshot, draws=12, seed=9, workers=1)
    again = prior_predictive(PRIORS, snapshot, draws=12, seed=9, workers=2)
    pd.testing.assert_frame_equal(first, again)
    assert set(first["structure"]) <= {s.name for s in ALL_STRUCTURES}


@pytest.mark.subprocess
def test_the_prior_check_command_sets_the_posterior_beside_the_priors(tmp_path):
    from conftest import run_workbench

    out = tmp_path / "pc"
    done = run_workbench("prior-check", "--draws", "40", "--workers", "1", "--output", out)
    assert done.returncode == 0, done.stderr
    assert "under the posterior" in done.stdout and "Why this range" in done.stdout and "The path (not a bound)" in done.stdout
    for name in ("prior_draws.csv", "posterior_draws.csv", "verdicts.csv", "where_implausible.csv", "prior_check.png"):
        assert (out / name).is_file(), name
    assert len(pd.read_csv(out / "prior_draws.csv")) == 40


def test_the_path_is_read_among_the_draws_that_match_the_report():
    """Of the runs holding 73-83 consultations in May 2024, the share already held in October
    2022; a run outside that range says nothing of the report's path and is left out."""
    from workbench.inference.prior_check import path_shape

    table = pd.DataFrame(
        {
            "consultations_oct_2022": [60.0, 20.0, 30.0, 40.0, 5.0],
            "consultations_may_2024": [80.0, 80.0, 75.0, 120.0, 10.0],
        }
    )
    path = path_shape(table)
    assert (path["draws"], path["matching"]) == (5, 3)
    assert path["share_median"] == pytest.approx(0.4) and path["share_max"] == pytest.approx(0.75)
    assert path["fast_then_slow"] == 1  # 60 of 80 by October 2022
