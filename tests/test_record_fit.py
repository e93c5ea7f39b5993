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
    return RecordDelays(nominated, months, np.ones(n, bool), np.zeros(n, bool), np.zeros(n, bool), np.ones(n), np.ones(n))


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
    median, sigma, deadline = np.array([[7.0]]), 0.8, 6.0

    def saq(months: float, done: bool) -> float:
        d = RecordDelays(np.ones(1, bool), np.ones(1), np.ones(1, bool), np.ones(1, bool), np.array([done]), np.array([months]), np.ones(1))
        return float(np.exp(likelihood._log_saq(d, median, sigma, pull, deadline))[0, 0])

    window = (deadline, deadline + likelihood.GRACE_MONTHS)
    pieces = [(1e-9, window[0]), window, (window[1], 400.0)]
    total = sum(integrate.quad(lambda m: saq(m, True), a, b, limit=200)[0] for a, b in pieces)
    assert total == pytest.approx(1.0, abs=1e-6)
    for c in (3.0, deadline + 0.1, 9.0):
        beyond = sum(integrate.quad(lambda m: saq(m, True), max(a, c), b, limit=200)[0] for a, b in pieces if b > c)
        assert saq(c, False) == pytest.approx(beyond, abs=1e-6)


def test_the_fit_tells_coupled_from_independent_on_records_of_the_mechanisms_size():
    """Records of 189 reviews on 21 May 2024 from runs under each truth (fixed seeds): the evidence
    favours the truth on each.  The full check is `make record-recovery` (every structure)."""
    coupled = [pace_evidence(r) for r in synthetic_records(STRUCTURES["silent-coupled-clustered"], 2, 11)]
    independent = [pace_evidence(r) for r in synthetic_records(STRUCTURES["silent-independent-clustered"], 2, 11)]
    assert min(coupled) > 0 > max(independent), (coupled, independent)


def test_a_record_too_short_to_decide_does_not_claim_to():
    """Six months in, with almost no SAQ under way, the evidence stays near even: odds within 1 : e."""
    short = synthetic_records(STRUCTURES["silent-coupled-clustered"], 2, 11, as_at=dt.date(2021, 6, 1))
    assert all(abs(pace_evidence(r)) < 1.0 for r in short), [pace_evidence(r) for r in short]
