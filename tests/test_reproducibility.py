"""Same seed, same results: whatever the number of worker processes."""

import datetime as dt

import pandas as pd

from workbench.experiments.replications import run_replications

from conftest import make_setup


def _setup(snapshot):
    return make_setup(horizon=dt.date(2045, 1, 1))


def test_same_seed_same_results(snapshot):
    a = run_replications(_setup(snapshot), 4, seed=21, workers=1)
    b = run_replications(_setup(snapshot), 4, seed=21, workers=1)
    pd.testing.assert_frame_equal(a.monthly, b.monthly)
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.threshold, b.threshold)


def test_different_seeds_differ(snapshot):
    a = run_replications(_setup(snapshot), 3, seed=21, workers=1)
    b = run_replications(_setup(snapshot), 3, seed=22, workers=1)
    assert not a.events.equals(b.events)


def test_one_and_two_workers_give_identical_tables(snapshot):
    serial = run_replications(_setup(snapshot), 6, seed=33, workers=1)
    parallel = run_replications(_setup(snapshot), 6, seed=33, workers=2)
    assert parallel.workers == 2
    pd.testing.assert_frame_equal(serial.threshold, parallel.threshold)
    pd.testing.assert_frame_equal(serial.monthly, parallel.monthly)
    pd.testing.assert_frame_equal(serial.events, parallel.events)


def test_a_replication_does_not_depend_on_how_many_are_run(snapshot):
    few = run_replications(_setup(snapshot), 2, seed=8, workers=1)
    many = run_replications(_setup(snapshot), 5, seed=8, workers=1)
    pd.testing.assert_frame_equal(few.events, many.events[many.events.replication < 2].reset_index(drop=True))


def test_the_rest_of_a_run_from_first_is_the_runs_own_tail(snapshot):
    """A screening runs the first replications; the rest, run from ``first``, are the very same
    replications as in one run of all of them (so planning never runs any twice)."""
    setup = _setup(snapshot)
    whole = run_replications(setup, 9, seed=6, workers=2, keep_events=False).threshold
    head = run_replications(setup, 4, seed=6, workers=1, keep_events=False).threshold
    tail = run_replications(setup, 5, seed=6, workers=2, keep_events=False, first=4).threshold
    pd.testing.assert_frame_equal(pd.concat([head, tail], ignore_index=True), whole)
