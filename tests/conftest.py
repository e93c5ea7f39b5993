"""Shared fixtures and paths: the project folder, the shipped snapshot and scenarios, small, fast setups."""

import datetime as dt
import os

import numpy as np
import pytest

from workbench.core.paths import PROJECT_ROOT, SCENARIOS_DIR
from workbench.experiments.setup import Setup, simulate
from workbench.inputs.observations import latest_snapshot
from workbench.inputs.parameters import Parameters
from workbench.simulation.streams import replication_seeds

#: A skipped test fails the run when WORKBENCH_NO_SKIPS is set, as .ci/run sets it (tests/no_skips.py);
#: the fast lane is chosen by measured duration and held to it (tests/fast_lane.py).
pytest_plugins = ["no_skips", "fast_lane"]

#: The suite reproduces a forecast made on this day: the shipped scenarios start from the next
#: month on, and a check that refuses a past start must not begin to fail when the calendar moves.
#: Subprocesses inherit it.  A test of the calendar's own today sets or removes it itself.
FORECAST_DAY = dt.date(2026, 12, 2)
os.environ["WORKBENCH_TODAY"] = FORECAST_DAY.isoformat()

#: The project folder (the README's commands run here) and the shipped scenario files.
ROOT = PROJECT_ROOT
SCENARIO_FILES = sorted(SCENARIOS_DIR.glob("*.toml"))


#: The shipped observations: the report's state of 21 May 2024.
SNAPSHOT = latest_snapshot()
HORIZON = dt.date(2060, 12, 31)


def make_setup(params: Parameters | None = None, start: str = "report", horizon: dt.date = HORIZON, **options) -> Setup:
    """A setup on the shipped snapshot with synthetic pairings, on the hand-set parameters unless
    ``params`` is given; ``options`` are any other Setup fields (levers, condition, engine, ...)."""
    return Setup(params or Parameters(), SNAPSHOT, options.pop("pairings", None), start, horizon, **options)


def run_workbench(*args: str, cwd=None, timeout: int = 600):
    """``python -m workbench ARGS`` in a process of its own, from the project folder: its exit status
    and output, as a user at a terminal gets them."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "workbench", *map(str, args)]
    return subprocess.run(command, cwd=cwd or ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def snapshot():
    return SNAPSHOT


def run_many(setup: Setup, n: int, seed: int = 1):
    """(record, pairings, model) of replications 0..n-1 run in this process."""
    return [simulate(setup, s) for s in replication_seeds(seed, n)]


@pytest.fixture(scope="session")
def history_runs(snapshot):
    """Twelve runs from 2020 to 2035 on the hand-set parameters."""
    setup = make_setup(start="history", horizon=dt.date(2035, 1, 1))
    return run_many(setup, 12, seed=11)


@pytest.fixture(scope="session")
def report_runs(snapshot):
    """Twelve runs from the report's state to 2040."""
    setup = make_setup(horizon=dt.date(2040, 1, 1))
    return run_many(setup, 12, seed=12)


@pytest.fixture
def rng():
    return np.random.default_rng(20240521)
