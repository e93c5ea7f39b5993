"""The same code on a Dask cluster: a LocalCluster of two workers gives the local results."""

import datetime as dt

import pandas as pd
import pytest

from workbench.experiments.replications import run_replications
from workbench.inference.calibrate import Budget, Calibration, CalibrationSettings

from conftest import make_setup

pytestmark = pytest.mark.subprocess  # starts processes: left out of make test-fast

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scheduler():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def test_replications_on_dask_equal_the_local_run(snapshot, scheduler):
    setup = make_setup(horizon=dt.date(2040, 1, 1))
    local = run_replications(setup, 6, seed=17, workers=1)
    remote = run_replications(setup, 6, seed=17, scheduler=scheduler)
    pd.testing.assert_frame_equal(local.threshold, remote.threshold)
    pd.testing.assert_frame_equal(local.monthly, remote.monthly)
    pd.testing.assert_frame_equal(local.events, remote.events)


def test_calibration_on_dask_equals_the_local_run(tmp_path, scheduler):
    budget = Budget(population=10, generations=2, watch_replications=0)
    settings = CalibrationSettings(budget, seed=4)
    local = Calibration(settings, db=tmp_path / "l.db", workers=1, progress=lambda l: None).run()
    remote = Calibration(settings, db=tmp_path / "r.db", scheduler=scheduler, progress=lambda l: None).run()
    pd.testing.assert_frame_equal(local.particles, remote.particles)
