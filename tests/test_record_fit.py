"""The record's likelihood against closed forms, and its fit against the truth that made a record.

The nomination delays alone are a cure model with a gamma frailty: the marginal survival of a
party that will act is Lomax, (1 + rate t / shape)^(-shape), and the likelihood must equal it.
The SAQ time, with its deadline effect, must be a proper distribution.  And the fit must tell
coupled from independent on records made by the model under each, while a record of the first
six months, which holds almost no SAQ, must not claim to know.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy import integrate

import workbench.inference.record_likelihood as likelihood
from workbench.inference.record_likelihood import RecordDelays, log_likelihood
from workbench.inference.record_recovery import pace_evidence, synthetic_records
from workbench.inference.structures import ALL_STRUCTURES
from workbench.inputs.parameters import Parameters

STRUCTURES = {s.name: s for s in ALL_STRUCTURES}


def _nominations_only(nominated: np.ndarray, months: np.ndarray) -> RecordDelays:
    n = len(months)
    return RecordDelays(nominated, months, np.ones(n, bool), np.zeros(n, bool), np.zeros(n, bool), np.ones(n), np.ones(n), np.zeros(n))


def _nominated_then_saq(months: float, saq_months: float, handovers_before: int) -> RecordDelays:
    one = np.ones(1, bool)
    return RecordDelays(one, np.array([months]), one, one, one, np.array([saq_months]), np.ones(1), np.array([float(handovers_before)]))


@pytest.mark.parametrize("shape", [0.3, 1.0, 4.0])
@pytest.mark.parametrize("silent", [0.0, 0.1])
def test_the_nomination_likelihood_is_the_lomax_cure_model(shape, silent, monkeypatch):
    monkeypatch.setattr(likelihood, "FRAILTY_POINTS", 20_000)  # the midpoint rule, fine enough to compare to 1e-3
    rate = 0.5
    params = Parameters().updated({"responsiveness_shape": shape, "silent_share": silent, "nomination_rate": rate})
    for t in (0.5, 3.0, 24.0):
        acted = log_likelihood(_nominations_only(np.array([True]), np.array([t])), params)
        waiting = log_likelihood(_nominations_only(np.array([False]), np.array([t])), params)
        lomax_density = rate * (1 + rate * t / shape) ** (-shape - 1)
        lomax_survival = (1 + rate * t / shape) ** (-shape)
        assert acted == pytest.approx(math.log1p(-silent) + math.log(lomax_density), abs=1e-3)
        assert waiting == pytest.approx(math.log(silent + (1 - silent) * lomax_survival), abs=1e-3)


@pytest.mark.parametrize("pull", [0.0, 0.4])
def test_the_saq_time_with_its_deadline_effect_is_a_distribution(pull):
    """Its density integrates to one, and its survival at c is the density's integral beyond c."""
    median, sigma, deadline = np.full((1, 1, 1), 7.0), np.full((1, 1, 1), 0.8), 6.0  # one set, one party, one frailty point

    def saq(months: float, done: bool) -> float:
        log_saq = likelihood._log_saq(np.full((1, 1, 1), months), np.array([done]), median, sigma, np.full((1, 1, 1), pull), deadline)
        return float(np.exp(log_saq)[0, 0, 0])

    window = (deadline, deadline + likelihood.GRACE_MONTHS)
    pieces = [(1e-9, window[0]), window, (window[1], 400.0)]
    total = sum(integrate.quad(lambda m: saq(m, True), a, b, limit=200)[0] for a, b in pieces)
    assert total == pytest.approx(1.0, abs=1e-6)
    for c in (3.0, deadline + 0.1, 9.0):
        beyond = sum(integrate.quad(lambda m: saq(m, True), max(a, c), b, limit=200)[0] for a, b in pieces if b > c)
        assert saq(c, False) == pytest.approx(beyond, abs=1e-6)


@pytest.mark.parametrize("revive", [0.0, 0.5, 1.0])
def test_a_new_focal_point_before_the_saq_may_bring_a_pace_of_its_own(revive):
    """Coupled pace: without a handover, how soon a party nominated says how fast its SAQ goes, so
    the SAQ changes what the nomination's timing is worth.  After a handover that surely renewed
    the pace (revive_probability = 1) the two are independent: the nomination's timing is worth
    what it is worth alone; with a chance of renewal, something in between."""
    params = Parameters().updated({"responsiveness_coupling": 1.0, "revive_probability": revive})

    def timing_worth(handovers: int) -> float:  # log L(nominated at 1 month) - log L(at 12 months), SAQ of 3 months
        early, late = _nominated_then_saq(1.0, 3.0, handovers), _nominated_then_saq(12.0, 3.0, handovers)
        return log_likelihood(early, params) - log_likelihood(late, params)

    alone = log_likelihood(_nominations_only(np.array([True]), np.array([1.0])), params) - log_likelihood(
        _nominations_only(np.array([True]), np.array([12.0])), params
    )
    assert timing_worth(0) != pytest.approx(alone, abs=0.05)  # shared pace: a fast SAQ makes an early nomination likelier
    if revive == 1.0:
        assert timing_worth(1) == pytest.approx(alone, abs=1e-9)
    elif revive == 0.0:
        assert timing_worth(1) == pytest.approx(timing_worth(0), abs=1e-9)
    else:
        assert min(alone, timing_worth(0)) < timing_worth(1) < max(alone, timing_worth(0))


def test_an_saq_stands_still_while_one_of_its_three_parties_hands_over():
    """The days taken out of an SAQ's time are the union of its three parties' handovers inside it;
    another party's handover, and one whose end the record does not give, take nothing out."""
    handovers = np.array(
        [
            [0, 90.0, 120.0],  # the party under review: 20 days inside
            [1, 110.0, 130.0],  # a reviewer, overlapping it: 10 more
            [2, 250.0, np.inf],  # still under way at the record's day (300): runs to the SAQ's end (280)
            [7, 150.0, 200.0],  # not one of the three
            [1, 60.0, np.nan],  # its end not recorded
        ]
    )
    assert likelihood._paused(handovers, (0, 1, 2), begin=100.0, end=280.0, day0=300.0) == pytest.approx(20.0 + 10.0 + 30.0)


def test_the_importance_sampler_finds_a_skewed_posterior_and_its_evidence():
    """Where the Gaussian at the mode is wrong (a skewed posterior), the weighted draws still give
    its mean and the evidence its normalizing constant, within their Monte Carlo error."""
    from scipy import optimize, stats

    skewed, constant = stats.skewnorm(6.0, loc=0.0, scale=2.0), 1e-40  # an unnormalized posterior in one coordinate
    log_target = lambda u: np.log(constant) + skewed.logpdf(u[:, 0])  # noqa: E731
    mode = optimize.minimize_scalar(lambda x: -skewed.logpdf(x), bounds=(-5, 10), method="bounded").x
    curvature = -(skewed.logpdf(mode + 1e-3) - 2 * skewed.logpdf(mode) + skewed.logpdf(mode - 1e-3)) / 1e-6
    u, log_w = likelihood._importance_sample(log_target, np.array([mode]), np.array([[1.0 / curvature]]))
    w = np.exp(log_w - np.max(log_w))
    w /= w.sum()
    effective = 1.0 / np.sum(w**2)
    assert effective > 0.3 * len(w)
    assert w @ u[:, 0] == pytest.approx(skewed.mean(), abs=4 * skewed.std() / math.sqrt(effective))
    log_evidence = np.log(np.mean(np.exp(log_w - np.max(log_w)))) + np.max(log_w)
    assert log_evidence == pytest.approx(math.log(constant), abs=4 / math.sqrt(effective))


def test_the_fit_tells_coupled_from_independent_on_records_of_the_mechanisms_size(monkeypatch):
    """Records of 189 reviews on 21 May 2024 from runs under each truth (fixed seeds): the evidence
    favours the truth on each.  The full check is `make record-recovery` (every structure)."""
    monkeypatch.setattr(likelihood, "IMPORTANCE_DRAWS", 300)  # the evidence's sign, not its last decimal: fewer draws do
    coupled = [pace_evidence(r) for r in synthetic_records(STRUCTURES["silent-coupled-clustered"], 2, 11)]
    independent = [pace_evidence(r) for r in synthetic_records(STRUCTURES["silent-independent-clustered"], 2, 11)]
    assert min(coupled) > 0 > max(independent), (coupled, independent)


def test_a_record_too_short_to_decide_does_not_claim_to(monkeypatch):
    """Six months in, with almost no SAQ under way, the evidence stays near even: odds within 1 : e."""
    monkeypatch.setattr(likelihood, "IMPORTANCE_DRAWS", 300)
    short = synthetic_records(STRUCTURES["silent-coupled-clustered"], 2, 11, as_at=dt.date(2021, 6, 1))
    assert all(abs(pace_evidence(r)) < 1.0 for r in short), [pace_evidence(r) for r in short]


@pytest.mark.slow  # 10-15 s
def test_the_importance_sampler_agrees_with_metropolis_on_a_record():
    """The same posterior drawn two ways: the sampler's 80 % bounds and Metropolis's (32 chains of
    150 steps, 3,200 kept, about 200 effective at acceptance 0.25) on a record of 1 June 2022.  A
    10 % quantile from about 200 effective draws has a standard error near 0.055 of the 80 % width
    (the sampler's, from about 400, near 0.04): a quarter of the width is 3.5 joint standard errors.
    `make record-recovery ARGS="--mcmc 600"` makes the same check on every recovery record."""
    from workbench.inference.record_recovery import metropolis_draws
    from workbench.inputs.priors import load_priors

    priors = load_priors()
    structure = STRUCTURES["tail-independent-clustered"]
    (record,) = synthetic_records(structure, 1, 5, as_at=dt.date(2022, 6, 1))
    delays = RecordDelays.from_record(record)
    fit = likelihood.fit_structure(delays, structure, priors, Parameters())
    chains = metropolis_draws(fit, delays, priors, Parameters(), 150, seed=3)
    draws = fit.draws(priors, np.random.default_rng(4), 6400)
    for name in fit.free:
        low, high = np.quantile(draws[name], [0.1, 0.9])
        mc_low, mc_high = np.quantile(chains[name], [0.1, 0.9])
        assert max(abs(mc_low - low), abs(mc_high - high)) < 0.25 * (high - low), (name, (low, high), (mc_low, mc_high))
