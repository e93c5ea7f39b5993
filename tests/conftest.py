"""Shared fixtures and paths: the project folder, the shipped snapshot and scenarios, small, fast setups."""

import datetime as dt

import numpy as np
import pytest

from workbench.core.paths import PROJECT_ROOT, SCENARIOS_DIR
from workbench.experiments.setup import Setup, simulate
from workbench.inputs.observations import latest_snapshot
from workbench.inputs.parameters import Parameters
from workbench.simulation.streams import replication_seeds

#: The project folder (the README's commands run here) and the shipped scenario files.
ROOT = PROJECT_ROOT
SCENARIO_FILES = sorted(SCENARIOS_DIR.glob("*.toml"))


@pytest.fixture(scope="session")
def snapshot():
    return latest_snapshot()


def run_many(setup: Setup, n: int, seed: int = 1):
    """(record, pairings, model) of replications 0..n-1 run in this process."""
    return [simulate(setup, s) for s in replication_seeds(seed, n)]


@pytest.fixture(scope="session")
def history_runs(snapshot):
    """Twelve runs from 2020 to 2035 on the hand-set parameters."""
    setup = Setup(Parameters(), snapshot, None, start="history", horizon=dt.date(2035, 1, 1))
    return run_many(setup, 12, seed=11)


@pytest.fixture(scope="session")
def report_runs(snapshot):
    """Twelve runs from the report's state to 2040."""
    setup = Setup(Parameters(), snapshot, None, start="report", horizon=dt.date(2040, 1, 1))
    return run_many(setup, 12, seed=12)


@pytest.fixture
def rng():
    return np.random.default_rng(20240521)
