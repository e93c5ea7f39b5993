"""A replication's start (parameters, pairings, initial state) is drawn once and shared by every
scenario run on its seed: a run that finds its starts kept gives the numbers of one that draws them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import pickle

import numpy as np
import pandas as pd
import pytest

from workbench.experiments import replications
from workbench.experiments.replications import StartCache, run_replications
from workbench.experiments.setup import replication_start, simulate, start_key
from workbench.experiments.workers import iter_map
from workbench.inputs.levers import Condition, Levers, NominationFollowUp, Redraw
from workbench.inputs.parameters import Parameters
from workbench.inputs.posterior import shipped_posterior
from workbench.simulation.streams import replication_seeds

from conftest import make_setup

HORIZON = dt.date(2045, 1, 1)
LEVERS = Levers(
    redraw=Redraw(dt.date(2025, 1, 1), after_months=6.0),
    nomination_follow_up=NominationFollowUp(dt.date(2025, 1, 1), rate_multiplier=4.0, silent_rate_per_month=0.2),
)


def _start_arrays(start) -> dict[str, np.ndarray]:
    initial = start.initial
    return {
        **{f.name: getattr(initial, f.name) for f in dataclasses.fields(initial) if isinstance(getattr(initial, f.name), np.ndarray)},
        "reviewers": start.pairings.reviewers,
        "under_review": start.pairings.under_review,
    }


def test_the_key_ignores_levers_condition_horizon_and_engine_and_survives_a_trip_to_a_worker():
    setup = make_setup(posterior=shipped_posterior())
    same = [
        dataclasses.replace(setup, levers=LEVERS),
        dataclasses.replace(setup, condition=Condition(share=0.5)),
        dataclasses.replace(setup, horizon=dt.date(2030, 1, 1), engine="simpy"),
        pickle.loads(pickle.dumps(setup)),
    ]
    assert {start_key(s) for s in same} == {start_key(setup)}
    different = [
        dataclasses.replace(setup, params=dataclasses.replace(Parameters(), secretariat_officers=5)),
        dataclasses.replace(setup, posterior=None),
        dataclasses.replace(setup, posterior=shipped_posterior().restricted(shipped_posterior().structure_names()[0])),
        dataclasses.replace(setup, fixed=("secretariat_officers",)),
        make_setup(start="history"),
    ]
    assert len({start_key(s) for s in different} | {start_key(setup)}) == len(different) + 1


def test_neither_engine_changes_a_start_so_one_start_serves_every_scenario():
    for engine in ("compiled", "simpy"):
        setup = make_setup(horizon=HORIZON, levers=LEVERS, engine=engine)
        seed = replication_seeds(3, 1)[0]
        start = replication_start(setup, seed)
        before = {name: array.copy() for name, array in _start_arrays(start).items()}
        first, _, _ = simulate(setup, seed, start)
        again, _, _ = simulate(setup, seed, start)
        for name, array in _start_arrays(start).items():
            np.testing.assert_array_equal(array, before[name], err_msg=f"{engine} changed the start's {name}")
        np.testing.assert_array_equal(first.entered, again.entered)
        np.testing.assert_array_equal(first.entered, simulate(setup, seed)[0].entered)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_scenario_that_finds_its_starts_kept_gives_the_numbers_of_a_fresh_start(workers):
    """The explorer's case: the baseline, then a scenario on the same seeds (kept starts), against the
    scenario alone in a process that keeps nothing."""
    baseline = make_setup(horizon=HORIZON, posterior=shipped_posterior())
    scenario = dataclasses.replace(baseline, levers=LEVERS)
    replications.STARTS.clear()
    run_replications(baseline, 24, seed=5, workers=workers, keep_events=True)
    kept = run_replications(scenario, 24, seed=5, workers=workers, keep_events=True)
    replications.STARTS.clear()
    fresh = run_replications(scenario, 24, seed=5, workers=1, keep_events=True)
    pd.testing.assert_frame_equal(kept.threshold, fresh.threshold)
    pd.testing.assert_frame_equal(kept.events, fresh.events)
    np.testing.assert_array_equal(kept.monthly_summary.by_group, fresh.monthly_summary.by_group)


def test_a_process_keeps_at_most_its_capacity_of_starts_the_latest_used():
    setup = make_setup(horizon=HORIZON)
    cache = StartCache(capacity=3)
    seeds = replication_seeds(1, 5)
    key = start_key(setup)
    first = cache.start(setup, key, 1, 0, seeds[0])
    for i in range(1, 4):
        cache.start(setup, key, 1, i, seeds[i])
    assert len(cache) == 3
    assert cache.start(setup, key, 1, 3, seeds[3]) is cache.start(setup, key, 1, 3, seeds[3])  # kept
    assert cache.start(setup, key, 1, 0, seeds[0]) is not first  # the oldest went, and is drawn again ...
    np.testing.assert_array_equal(first.pairings.reviewers, cache.start(setup, key, 1, 0, seeds[0]).pairings.reviewers)  # ... the same


def _pid(_task: int) -> int:
    return os.getpid()


def test_pinned_tasks_go_to_the_same_process_every_time():
    tasks = [(k,) for k in range(8)]
    first = list(iter_map(_pid, tasks, workers=2, pinned=True))
    again = list(iter_map(_pid, tasks, workers=2, pinned=True))
    assert first == again
    assert len(set(first)) == 2 and first[0::2] == [first[0]] * 4
