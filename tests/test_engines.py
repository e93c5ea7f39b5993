"""The compiled engine is the SimPy model, faster: the same path, replication by replication.

SimPy (workbench.simulation.model) is the reference; workbench.simulation.engine runs the
same processes as an explicit event loop.  Both call the same rules and draw the same
uniforms from the same streams, so for a given seed they must produce the same record,
event by event.  :func:`engines_diverge` names the first event where they do not; it is
checked for the baseline and every scenario file, from the report's state and from 2020,
and for set-ups chosen to stress the rarer paths (a congested Secretariat, staffing
changes, frequent handovers).  Two-sample tests between the engines were dropped: with
both engines calling one set of rules, a difference in distribution would need a
difference in some replication, which the exact check finds and locates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from workbench.experiments.setup import ENGINES, Setup, engines_diverge, simulate
from workbench.inputs.levers import Levers, SecretariatStaffing
from workbench.inputs.parameters import Parameters
from workbench.inputs.posterior import shipped_posterior
from workbench.inputs.scenarios import load_scenario
from workbench.simulation import engine
from workbench.simulation.divergence import event_log, first_divergence
from workbench.simulation.streams import ReplicationStreams, replication_seeds

from conftest import SCENARIO_FILES, make_setup

HORIZON = dt.date(2060, 12, 31)


def test_engines_are_named_and_an_unknown_one_is_refused(snapshot):
    assert ENGINES == ("compiled", "simpy")
    with pytest.raises(ValueError, match="engine"):
        Setup(Parameters(), snapshot, None, engine="fortran")


@pytest.mark.parametrize("scenario", SCENARIO_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("start", ["report", "history"])
def test_compiled_engine_follows_the_simpy_model_draw_for_draw(snapshot, scenario, start):
    """Every field of every record identical, with parameters drawn from the shipped posterior."""
    sc = load_scenario(scenario)
    setup = make_setup(
        sc.apply(Parameters()),
        start,
        horizon=HORIZON,
        posterior=shipped_posterior(),
        fixed=tuple(sc.changes),
        levers=sc.levers,
        condition=sc.condition,
    )
    for seed in replication_seeds(11, 2):
        divergence = engines_diverge(setup, seed)
        assert divergence is None, str(divergence)


@pytest.mark.parametrize(
    "params,levers",
    [
        (Parameters(secretariat_officers=1, consultation_preparation_months=3.0), Levers()),  # a long queue
        (Parameters(secretariat_officers=2), Levers(secretariat_staffing=SecretariatStaffing(dt.date(2026, 1, 1), officers_change=-1))),
        (
            Parameters(secretariat_officers=1, consultation_preparation_months=2.0),
            Levers(secretariat_staffing=SecretariatStaffing(dt.date(2027, 1, 1), officers_change=3)),
        ),
        (Parameters(replacement_rate=3.0, revive_probability=1.0, handover_months=4.0), Levers()),  # constant handovers
        (Parameters(responsiveness_shape=0.3, responsiveness_coupling=1.5), Levers()),  # very unequal parties
    ],
    ids=["congested", "officer-lost", "officers-added", "handovers", "unequal"],
)
@pytest.mark.parametrize("start", ["report", "history"])
def test_compiled_engine_matches_on_the_rarer_paths(snapshot, params, levers, start):
    setup = make_setup(params, start, horizon=HORIZON, levers=levers)
    for seed in replication_seeds(5, 3):
        divergence = engines_diverge(setup, seed)
        assert divergence is None, str(divergence)


def test_engines_agree_on_many_baseline_seeds(snapshot):
    """A wider sweep of the baseline, hand-set parameters, from 2020: rare paths get more chances."""
    setup = make_setup(start="history", horizon=HORIZON)
    for seed in replication_seeds(2024, 12):
        divergence = engines_diverge(setup, seed)
        assert divergence is None, str(divergence)


def test_a_run_that_runs_out_of_room_is_rerun_to_the_same_record(snapshot, monkeypatch):
    """The compiled engine's calendar and handover log start small here, so every run fills them
    (more than once), stops and is run again with more room: the record is the one a roomy run
    gives, and the SimPy model's."""
    setup = make_setup(dataclasses.replace(Parameters(), replacement_rate=2.0), horizon=HORIZON)
    seeds = replication_seeds(8, 3)
    roomy = [simulate(setup, seed)[0] for seed in seeds]
    cramped = np.ones_like(engine.ROOM)
    monkeypatch.setattr(engine, "ROOM", cramped)
    for seed, expected in zip(seeds, roomy):
        record = simulate(setup, seed)[0]
        assert first_divergence(record, expected, ("cramped", "roomy")) is None
        assert engines_diverge(setup, seed) is None
    assert cramped[engine.ROOM_HANDOVERS] > len(roomy[-1].handovers) / 2  # it did have to grow


# --- the divergence harness itself ------------------------------------------------------
def test_divergence_names_the_first_event_that_differs(snapshot):
    setup = make_setup(horizon=HORIZON)
    record, _, _ = simulate(setup, replication_seeds(3, 1)[0])
    assert first_divergence(record, record) is None
    log = event_log(record)
    assert [e.day for e in log] == sorted(e.day for e in log)
    # Move the tenth stage entry by one day in a copy: that event, and no earlier one, is named.
    tampered = dataclasses.replace(record, entered=record.entered.copy())
    entries = [e for e in log if e.kind.startswith("entered") and e.day > record.start_day]
    target = entries[10]
    stage = [
        "entered " + name for name in ("nominations", "consultation", "saq", "written_feedback", "lists", "summaries", "completed")
    ].index(target.kind)
    tampered.entered[target.entity, stage] += 1.0
    found = first_divergence(record, tampered, ("original", "tampered"))
    assert found is not None and found.first == target, str(found)
    assert "original" in str(found) and "tampered" in str(found)


def test_divergence_between_different_seeds_is_found(snapshot):
    setup = make_setup(horizon=HORIZON)
    a, _, _ = simulate(setup, replication_seeds(3, 2)[0])
    b, _, _ = simulate(setup, replication_seeds(3, 2)[1])
    assert first_divergence(a, b) is not None


@pytest.mark.parametrize("scenario", ["redraw-silent-reviewers.toml", "nomination-follow-up.toml"])
def test_the_engines_agree_from_a_record_with_the_redraws_it_gives(snapshot, scenario):
    """From the shipped synthetic record (known redraws, nomination days and the responsiveness
    conditioned on them), under the levers that touch redraws and nominations."""
    from workbench.core.paths import SCENARIOS_DIR, SYNTHETIC_RECORD_DIR
    from workbench.experiments.setup import default_setup
    from workbench.inputs.record import load_record

    sc = load_scenario(SCENARIOS_DIR / scenario)
    record = load_record(SYNTHETIC_RECORD_DIR, dt.date(2026, 12, 2))
    setup = default_setup(sc.apply(Parameters()), horizon=HORIZON, posterior=shipped_posterior(), levers=sc.levers, record=record)
    for seed in replication_seeds(17, 3):
        divergence = engines_diverge(setup, seed)
        assert divergence is None, str(divergence)


def test_the_engines_agree_from_a_history_record_with_handovers_under_way(snapshot):
    """A run's own record of 21 May 2024 (focal points mid-handover, reviews not ready because of
    them, redraws used), started again on both engines."""
    from workbench.experiments.setup import default_setup, simulate
    from workbench.experiments.synthetic_record import record_of_run
    from workbench.simulation.record_start import record_start

    params = Parameters(replacement_rate=1.0, handover_months=6.0)
    history = default_setup(params, start="history", horizon=dt.date(2024, 6, 1))
    awaiting_the_secretariat = 0
    for seed in replication_seeds(23, 3):
        run, pairings, _ = simulate(history, seed)
        record = record_of_run(run, pairings, dt.date(2024, 5, 21), "a run", {})
        assert np.isfinite(record.in_handover_since()).sum() > 0  # the case under test is there
        setup = default_setup(params, horizon=HORIZON, record=record)
        start = record_start(record, params, ReplicationStreams(seed, pairings.n_parties, pairings.n_reviews))
        awaiting_the_secretariat += int(np.isfinite(start.review_work_done_at).sum())
        divergence = engines_diverge(setup, seed)
        assert divergence is None, str(divergence)
    assert awaiting_the_secretariat > 0  # consultations whose date was agreed, started straight at the Secretariat
