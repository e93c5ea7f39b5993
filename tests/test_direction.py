"""Direction of effect on common random numbers.

Scenarios share every random number with the baseline, so a change's effect shows as a
paired difference.  Each check compares the mean 70 % date (runs that do not reach it count
at the horizon) and allows three standard errors of the paired differences.
"""

import datetime as dt
import math

import numpy as np
import pytest

from workbench.core.timeline import to_day
from workbench.experiments.replications import run_replications
from workbench.experiments.setup import initial_state, pairings_for
from workbench.inputs.levers import Levers, Redraw
from workbench.inputs.parameters import Parameters
from workbench.simulation.model import Mechanism
from workbench.simulation.streams import ReplicationStreams, replication_seeds

from conftest import make_setup

HORIZON = dt.date(2060, 12, 31)
# Redraws make most runs reach the condition, so the mean date is informative.
BASE = Parameters()
REDRAW = Levers(redraw=Redraw(dt.date(2024, 5, 21), after_months=12, delay_months=3))


def _threshold_days(snapshot, params, n=24, seed=41, levers=REDRAW):
    res = run_replications(make_setup(params, horizon=HORIZON, levers=levers), n, seed=seed, workers=1, keep_events=False)
    days = (res.threshold["date"] - dt.datetime(2024, 5, 21)).dt.days.to_numpy(dtype=float)
    return np.where(res.threshold["reached"], days, to_day(HORIZON) - to_day("2024-05-21"))


def _paired(snapshot, changed):
    base = _threshold_days(snapshot, BASE)
    other = _threshold_days(snapshot, BASE.updated(changed))
    diff = other - base
    return diff.mean(), diff.std(ddof=1) / math.sqrt(len(diff)), base


def test_more_secretariat_capacity_never_delays_the_mean_date(snapshot):
    mean_diff, se, _ = _paired(snapshot, {"secretariat_officers": 8, "consultation_preparation_months": 0.5})
    assert mean_diff <= 3 * se


def test_less_secretariat_capacity_never_speeds_it_up(snapshot):
    # One officer who needs three months per consultation: a real bottleneck.
    mean_diff, se, _ = _paired(snapshot, {"secretariat_officers": 1, "consultation_preparation_months": 3.0})
    assert mean_diff >= -3 * se
    assert mean_diff > 0  # the bottleneck is visible


def test_slower_questionnaires_never_speed_it_up(snapshot):
    mean_diff, se, _ = _paired(snapshot, {"saq_median_months": 16.0})
    assert mean_diff >= -3 * se
    assert mean_diff > 0


def test_redraws_bring_the_date_forward(snapshot):
    """Against no redraws at all (neither a party's own request, ¶6, nor the lever), redrawing
    silent reviewing States after a year brings the mean date forward, by more than three
    standard errors of the paired differences.  (Against today's practice, which already has the
    parties' own redraws, the lever's effect is too small to test on 24 runs.)"""
    no_requests = BASE.updated({"redraw_patience_months": math.inf})
    never = _threshold_days(snapshot, no_requests, levers=Levers())
    redraw = _threshold_days(snapshot, no_requests)
    diff = redraw - never
    assert diff.mean() < -3 * diff.std(ddof=1) / math.sqrt(len(diff))


@pytest.mark.parametrize("seed", [0, 1])
def test_one_partys_behaviour_leaves_other_reviews_untouched_without_capacity_coupling(snapshot, seed):
    """A party made ten times slower changes only the reviews it takes part in.

    With ample Secretariat capacity nothing couples reviews (no queue); each review and
    party draws from its own stream, so every other review's history is identical.
    """
    params = Parameters(secretariat_officers=100)
    setup = make_setup(params, horizon=dt.date(2045, 1, 1))
    rep_seed = replication_seeds(seed, 1)[0]

    def run(slow_party=None):
        pairings = pairings_for(setup, rep_seed)
        streams = ReplicationStreams(rep_seed, pairings.n_parties, pairings.n_reviews)
        model = Mechanism(params, pairings, initial_state(setup, pairings, streams, params), streams, to_day(setup.horizon))
        if slow_party is not None:
            model.parties[slow_party].responsiveness *= 0.1
        return model.run(), pairings

    base, pairings = run()
    # A nominated party in a review that moves on after the start, so its speed matters.
    day0 = to_day(snapshot.as_at)
    party = next(
        p
        for p in range(pairings.n_parties)
        if np.isinf(base.nominated_at[p])
        and any(p in pairings.members(r) and np.any(base.entered[r, 2:] > day0) for r in range(pairings.n_reviews))
    )
    slowed, _ = run(party)
    involved = np.array([party in pairings.members(r) for r in range(pairings.n_reviews)])
    np.testing.assert_array_equal(base.entered[~involved], slowed.entered[~involved])
    assert not np.array_equal(np.nan_to_num(base.entered[involved]), np.nan_to_num(slowed.entered[involved]))
