"""Statistical checks of model components against analytic results.

Tolerances come from the sample size: a binomial proportion from n draws has standard error
sqrt(p(1-p)/n), a mean of waits estimated by batch means has the batch means' standard
error; each check allows four standard errors (a 1-in-15,000 false alarm per comparison at
a fixed seed, never retried).
"""

import datetime as dt
import math

import numpy as np
import pytest
import simpy
from numba import njit
from scipy import stats

from workbench.core.timeline import months
from workbench.inputs.levers import Levers
from workbench.inputs.parameters import Parameters
from workbench.inputs.parties import first_involvement, synthetic_pairings
from workbench.simulation import rules
from workbench.simulation.calendar import WHAT_KIND, WHAT_SUBJECT, has_events, new_calendar, next_event, schedule
from workbench.simulation.layout import LeverArrays, pack_levers
from workbench.simulation.model import Secretariat
from workbench.simulation.rules import exponential_draw
from workbench.simulation.snapshot import group_start_days
from workbench.simulation.streams import UniformStream, lognormal_beyond_from, lognormal_from, replication_seeds, stream_seed

from conftest import make_setup, run_many


def erlang_c_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean wait in queue of an M/M/c queue (Erlang C formula)."""
    a = arrival_rate / service_rate
    rho = a / servers
    assert rho < 1
    terms = sum(a**k / math.factorial(k) for k in range(servers))
    top = a**servers / (math.factorial(servers) * (1 - rho))
    p_wait = top / (terms + top)
    return p_wait / (servers * service_rate - arrival_rate)


def test_nominations_alone_are_exponential(snapshot):
    """With identical parties, no silent ones and nothing else, P(nominated by t) = 1 - exp(-rate t)."""
    rate = 0.25  # per month
    params = Parameters(nomination_rate=rate, responsiveness_shape=math.inf, silent_share=0.0)
    setup = make_setup(params, "history", horizon=dt.date(2023, 12, 1))
    runs = run_many(setup, 20, seed=3)
    delays = []
    for record, pairings, _ in runs:
        first_involved = first_involvement(pairings, group_start_days(snapshot))
        delays.extend((record.nominated_at - first_involved) / months(1))
    delays = np.array(delays)
    n = len(delays)
    for t in (1.0, 3.0, 6.0, 12.0):
        expected = 1 - math.exp(-rate * t)
        observed = np.mean(delays <= t)
        tolerance = 4 * math.sqrt(expected * (1 - expected) / n)
        assert abs(observed - expected) < tolerance, (t, observed, expected, tolerance)


def _batch_means_check(waits: np.ndarray, expected: float, warmup: int = 2000) -> None:
    """The mean wait after a warm-up against ``expected``, within four batch-means standard errors."""
    kept = waits[warmup:]
    batches = kept[: len(kept) // 50 * 50].reshape(50, -1).mean(axis=1)
    standard_error = batches.std(ddof=1) / math.sqrt(len(batches))
    assert abs(kept.mean() - expected) < 4 * standard_error, (kept.mean(), expected, standard_error)


def _no_levers() -> LeverArrays:
    return pack_levers(Levers(), synthetic_pairings(np.random.SeedSequence(0)))


@pytest.mark.parametrize("servers,utilization", [(1, 0.7), (3, 0.8)])
def test_secretariat_queue_matches_erlang_c_in_the_simpy_model(servers, utilization):
    """The Secretariat as c officers with Poisson arrivals and exponential service is M/M/c."""
    service_mean, n_customers = 1.0, 60000
    arrival_rate = utilization * servers / service_mean
    env = simpy.Environment()
    secretariat = Secretariat(env, n_customers, servers, _no_levers())
    rng = np.random.default_rng(7 + servers)
    waits = np.empty(n_customers)
    service = rng.exponential(service_mean, n_customers)

    def customer(i):
        arrived = env.now
        yield from secretariat.assist(i, service[i])
        waits[i] = env.now - arrived - service[i]  # the time it waited for an officer

    def arrivals():
        for i in range(n_customers):
            env.process(customer(i))
            yield env.timeout(rng.exponential(1 / arrival_rate))

    env.process(arrivals())
    env.run()
    _batch_means_check(waits, erlang_c_wait(arrival_rate, 1 / service_mean, servers))


@pytest.mark.parametrize("servers,utilization", [(1, 0.7), (3, 0.8)])
def test_secretariat_queue_matches_erlang_c_in_the_compiled_engine(servers, utilization):
    """The compiled engine's queue, its calendar and the Secretariat's rules, is M/M/c too."""
    service_mean, n_customers = 1.0, 60000
    arrival_rate = utilization * servers / service_mean
    rng = np.random.default_rng(7 + servers)
    gaps = rng.exponential(1 / arrival_rate, n_customers)
    service = rng.exponential(service_mean, n_customers)
    waits = _compiled_queue_waits(servers, np.cumsum(gaps), service)
    _batch_means_check(waits, erlang_c_wait(arrival_rate, 1 / service_mean, servers))


@njit
def _compiled_queue_waits(servers: int, arrivals: np.ndarray, service: np.ndarray) -> np.ndarray:
    """Customers arriving at ``arrivals``, each needing an officer for ``service``, through the
    compiled engine's calendar and the Secretariat's rules (what its handlers call): how long each waited."""
    n = arrivals.shape[0]
    calendar = new_calendar(0.0, arrivals[-1] + 1e6, 2 * n + 16, 16)
    desks = np.zeros(rules.N_DESK_COUNTS, np.int64)
    queue = np.empty(n, np.int64)
    rules.secretariat_opens(desks, servers, 0)
    served_from = np.empty(n)
    arrive, done = 0, 1
    for i in range(n):
        schedule(calendar, arrivals[i], arrive, i, 0, 0)
    now = 0.0
    while has_events(calendar):
        now, k = next_event(calendar, now)
        i = calendar.what[k, WHAT_SUBJECT]
        if calendar.what[k, WHAT_KIND] == arrive:
            if not rules.officer_requested(desks, queue, i):
                continue
        else:
            i = rules.desk_freed(desks, queue)
            if i < 0:
                continue
        served_from[i] = now
        schedule(calendar, now + service[i], done, i, 0, 0)
    return served_from - arrivals


def test_secretariat_assist_holds_an_officer_for_the_duration():
    env = simpy.Environment()
    secretariat = Secretariat(env, 3, 1, _no_levers())
    finished = []

    def job(k, name):
        yield from secretariat.assist(k, 10.0)
        finished.append((name, env.now))

    for k, name in enumerate("abc"):
        env.process(job(k, name))
    env.run()
    assert finished == [("a", 10.0), ("b", 20.0), ("c", 30.0)]


def test_staffing_changes_take_desks_ahead_of_the_queue():
    """Recruits arrive on their day and serve the queue; leavers take the next free desks first."""
    desks, queue = np.zeros(rules.N_DESK_COUNTS, np.int64), np.empty(4, np.int64)
    rules.secretariat_opens(desks, 1, 2)  # one officer now, two recruits to come
    assert desks[rules.DESK_CAPACITY] == 3 and desks[rules.DESK_BUSY] == 2
    assert rules.officer_requested(desks, queue, 0)
    assert not rules.officer_requested(desks, queue, 1) and not rules.officer_requested(desks, queue, 2)
    assert [rules.desk_freed(desks, queue) for _ in range(2)] == [1, 2]  # the recruits arrive: first come, first served
    rules.secretariat_opens(desks, 2, -1)  # two officers, one to leave
    assert rules.officer_requested(desks, queue, 0) and rules.officer_requested(desks, queue, 1)
    assert not rules.officer_requested(desks, queue, 2)
    rules.officers_leave(desks, 1)  # no desk free: the leaver waits for the next
    assert rules.desk_freed(desks, queue) == -1  # taken by the leaver, ahead of review 2
    assert rules.desk_freed(desks, queue) == 2


def test_stream_draws_have_the_stated_distributions():
    """Inversion sampling as the rules draw: lognormal median, exponential mean, and a
    lognormal conditioned on its age, on 20,000 draws each."""
    stream = UniformStream(np.uint64(stream_seed(np.uint64(1), 1, 0)))
    n = 20000
    logn = np.array([lognormal_from(stream.uniform(), 8.0, 0.8) for _ in range(n)])
    assert abs(np.mean(logn <= 8.0) - 0.5) < 4 * math.sqrt(0.25 / n)
    expo = np.array([stream.draw(exponential_draw, 3.0) for _ in range(n)])
    assert abs(expo.mean() - 3.0) < 4 * 3.0 / math.sqrt(n)
    # Conditioned on exceeding 12 months: P(X <= 16 | X > 12) from the lognormal's CDF.
    beyond = np.array([lognormal_beyond_from(stream.uniform(), 8.0, 0.8, 12.0) for _ in range(n)])
    cdf = stats.lognorm(0.8, scale=8.0).cdf
    expected = (cdf(16.0) - cdf(12.0)) / (1 - cdf(12.0))
    assert abs(np.mean(beyond <= 16.0) - expected) < 4 * math.sqrt(expected * (1 - expected) / n)
    assert stream.used == 3 * n


def test_replication_seeds_are_independent_of_the_count():
    a = replication_seeds(5, 3)
    b = replication_seeds(5, 10)
    for x, y in zip(a, b):
        assert np.array_equal(x.generate_state(4), y.generate_state(4))
