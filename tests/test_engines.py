"""The compiled engine is the SimPy model, faster: same path replication by replication, and
the same distributions by two-sample tests on independent runs.

SimPy (workbench.simulation.model) defines the behaviour; workbench.simulation.engine re-implements it as an
explicit event loop.  Both draw the same uniforms from the same streams, so for a given
seed they must produce the same record, field by field; that is checked for the baseline
and every scenario file, from the report's state and from 2020, and for set-ups chosen to
stress the rarer paths (a congested Secretariat, staffing changes, frequent handovers).
The two-sample tests are the issue's distributional check, on different seeds so that
the samples are independent: the 70 % date and the stage counts at several dates.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from workbench.inputs.levers import Levers, SecretariatStaffing
from workbench.inputs.parameters import Parameters
from workbench.inputs.posterior import shipped_posterior
from workbench.experiments.runner import ENGINES, Setup, run_replications, simulate
from workbench.inputs.scenarios import load_scenario
from workbench.simulation.streams import replication_seeds
from workbench.core.timeline import to_day

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
HORIZON = dt.date(2060, 12, 31)


def _records_equal(a, b) -> list[str]:
    """Names of the RunRecord fields that differ (NaN equals NaN)."""
    differ = []
    for name in ("entered", "deadline", "languages", "saq_lateness", "nominated_at", "first_replaced_at", "replacements",
                 "redraw_log", "handover_log"):
        if not np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True):
            differ.append(name)
    for name in ("threshold_day", "end_day", "events", "draws", "start_day"):
        x, y = getattr(a, name), getattr(b, name)
        if not (x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y))):
            differ.append(name)
    return differ


def _both(setup: Setup, seed) -> tuple:
    compiled, _, _ = simulate(setup, seed)
    reference, _, _ = simulate(Setup(**{**setup.__dict__, "engine": "simpy"}), seed)
    return compiled, reference


def test_engines_are_named_and_an_unknown_one_is_refused(snapshot):
    assert ENGINES == ("compiled", "simpy")
    with pytest.raises(ValueError, match="engine"):
        Setup(Parameters(), snapshot, None, engine="fortran")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
@pytest.mark.parametrize("start", ["report", "history"])
def test_compiled_engine_follows_the_simpy_model_draw_for_draw(snapshot, scenario, start):
    """Every field of every record identical, with parameters drawn from the shipped posterior."""
    sc = load_scenario(scenario)
    setup = Setup(sc.apply(Parameters()), snapshot, None, start, HORIZON, posterior=shipped_posterior(),
                  fixed=tuple(sc.changes), levers=sc.levers, condition=sc.condition)
    for seed in replication_seeds(11, 2):
        compiled, reference = _both(setup, seed)
        assert not _records_equal(compiled, reference), _records_equal(compiled, reference)


@pytest.mark.parametrize("params,levers", [
    (Parameters(secretariat_officers=1, consultation_preparation_months=3.0), Levers()),  # a long queue
    (Parameters(secretariat_officers=2), Levers(secretariat_staffing=SecretariatStaffing(dt.date(2026, 1, 1), officers_change=-1))),
    (Parameters(secretariat_officers=1, consultation_preparation_months=2.0),
     Levers(secretariat_staffing=SecretariatStaffing(dt.date(2027, 1, 1), officers_change=3))),
    (Parameters(replacement_rate=3.0, revive_probability=1.0, handover_months=4.0), Levers()),  # constant handovers
    (Parameters(responsiveness_shape=0.3, responsiveness_coupling=1.5), Levers()),  # very unequal parties
], ids=["congested", "officer-lost", "officers-added", "handovers", "unequal"])
@pytest.mark.parametrize("start", ["report", "history"])
def test_compiled_engine_matches_on_the_rarer_paths(snapshot, params, levers, start):
    setup = Setup(params, snapshot, None, start, HORIZON, levers=levers)
    for seed in replication_seeds(5, 3):
        compiled, reference = _both(setup, seed)
        assert not _records_equal(compiled, reference), _records_equal(compiled, reference)


# --- distributions, on independent seeds ----------------------------------------------------
N = 60  # replications per engine and scenario
DATES = (dt.date(2026, 10, 1), dt.date(2030, 10, 1), dt.date(2040, 10, 1))
STAGES = ("held_up_by_nominations", "ready_no_consultation", "saq_in_preparation", "written_feedback",
          "lists_of_observations", "summaries", "completed")
# 16 scenarios x (1 date + 3 dates x 7 stages) tests; Bonferroni keeps the family's false alarms under 1 %.
ALPHA = 0.01 / (len(SCENARIOS) * (1 + len(DATES) * len(STAGES)))


def _samples(setup: Setup, seed: int):
    res = run_replications(setup, N, seed=seed, keep_events=False)
    horizon = to_day(HORIZON) - setup.start_day
    days = np.where(res.threshold["reached"], res.threshold["years_from_start"] * 365.2425, horizon + 1)
    monthly = res.monthly.groupby(["replication", "date"]).sum(numeric_only=True).reset_index()
    counts = {(d, s): monthly.loc[monthly["date"] == np.datetime64(d), s].to_numpy() for d in DATES for s in STAGES}
    return days, counts


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_engines_agree_in_distribution(snapshot, scenario):
    """Kolmogorov-Smirnov two-sample tests, SimPy on seed 101 against compiled on seed 202."""
    sc = load_scenario(scenario)
    base = Setup(sc.apply(Parameters()), snapshot, None, "report", HORIZON, fixed=tuple(sc.changes), levers=sc.levers,
                 condition=sc.condition)
    ref_days, ref_counts = _samples(Setup(**{**base.__dict__, "engine": "simpy"}), 101)
    new_days, new_counts = _samples(base, 202)
    p = stats.ks_2samp(ref_days, new_days, method="asymp").pvalue
    assert p > ALPHA, f"70 % date: p = {p:.2g}"
    for key in ref_counts:
        if np.all(ref_counts[key] == ref_counts[key][0]) and np.all(new_counts[key] == ref_counts[key][0]):
            continue  # the same constant in both (e.g. nothing in summaries yet)
        p = stats.ks_2samp(ref_counts[key], new_counts[key], method="asymp").pvalue
        assert p > ALPHA, f"{key}: p = {p:.2g}"


@pytest.mark.slow
def test_the_two_sample_tests_detect_a_model_that_differs(snapshot):
    """The same procedure, against a compiled run whose questionnaires take 1.5 times as long, rejects."""
    base = Setup(Parameters(), snapshot, None, "report", HORIZON)
    ref_days, ref_counts = _samples(Setup(**{**base.__dict__, "engine": "simpy"}), 101)
    slower = Setup(**{**base.__dict__, "params": Parameters(saq_median_months=1.5 * Parameters().saq_median_months)})
    new_days, new_counts = _samples(slower, 202)
    p_values = [stats.ks_2samp(ref_days, new_days, method="asymp").pvalue]
    p_values += [stats.ks_2samp(ref_counts[k], new_counts[k], method="asymp").pvalue for k in ref_counts]
    assert min(p_values) < ALPHA
