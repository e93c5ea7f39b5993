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
from scipy import stats

from workbench.core.timeline import months
from workbench.inputs.parameters import Parameters
from workbench.inputs.parties import first_involvement
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


@pytest.mark.parametrize("servers,utilization", [(1, 0.7), (3, 0.8)])
def test_secretariat_queue_matches_erlang_c(servers, utilization):
    """The Secretariat as c officers with Poisson arrivals and exponential service is M/M/c."""
    service_mean = 1.0
    arrival_rate = utilization * servers / service_mean
    env = simpy.Environment()
    secretariat = Secretariat(env, servers)
    rng = np.random.default_rng(7 + servers)
    n_customers, warmup = 60000, 2000
    waits = np.empty(n_customers)

    def customer(i):
        arrived = env.now
        with secretariat.officers.request() as request:
            yield request
            waits[i] = env.now - arrived
            yield env.timeout(rng.exponential(service_mean))

    def arrivals():
        for i in range(n_customers):
            env.process(customer(i))
            yield env.timeout(rng.exponential(1 / arrival_rate))

    env.process(arrivals())
    env.run()
    kept = waits[warmup:]
    batches = kept[: len(kept) // 50 * 50].reshape(50, -1).mean(axis=1)
    standard_error = batches.std(ddof=1) / math.sqrt(len(batches))
    expected = erlang_c_wait(arrival_rate, 1 / service_mean, servers)
    assert abs(kept.mean() - expected) < 4 * standard_error, (kept.mean(), expected, standard_error)


def test_secretariat_assist_holds_an_officer_for_the_duration():
    env = simpy.Environment()
    secretariat = Secretariat(env, 1)
    finished = []

    def job(name):
        yield from secretariat.assist(10.0)
        finished.append((name, env.now))

    for name in "abc":
        env.process(job(name))
    env.run()
    assert finished == [("a", 10.0), ("b", 20.0), ("c", 30.0)]


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
    assert beyond.min() >= 12.0
    cdf = stats.lognorm(0.8, scale=8.0).cdf
    expected = (cdf(16.0) - cdf(12.0)) / (1 - cdf(12.0))
    assert abs(np.mean(beyond <= 16.0) - expected) < 4 * math.sqrt(expected * (1 - expected) / n)
    assert stream.used == 3 * n


def test_replication_seeds_are_independent_of_the_count():
    a = replication_seeds(5, 3)
    b = replication_seeds(5, 10)
    for x, y in zip(a, b):
        assert np.array_equal(x.generate_state(4), y.generate_state(4))
