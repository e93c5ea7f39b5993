"""A start that agrees with history: the histories from 2020 that lead to the report's state.

Every kept history matches the report's key figures on its date; every replication starts from
one of them, exactly as that history stood, with that history's parameters; and a forecast so
started reruns to the same numbers from its manifest."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from workbench.analysis.forecast import forecast_setup
from workbench.experiments.matched_histories import matched_histories
from workbench.experiments.setup import replication_start
from workbench.inputs.parameters import Parameters
from workbench.observation.matching import KEY_FIGURES
from workbench.simulation.schema import Stage
from workbench.simulation.streams import replication_seeds


@pytest.fixture(scope="module")
def histories():
    return matched_histories(forecast_setup(params=Parameters(), posterior=None), tried=12, seed=4, workers=1)


def test_every_kept_history_matches_the_reports_key_figures_and_each_replication_starts_from_one(histories):
    assert 0 < len(histories.records) <= histories.tried < histories.runs  # each draw runs until one matches
    setup = forecast_setup(params=Parameters(), posterior=None, histories=histories)
    picked = set()
    held_value, held_tolerance, _ = KEY_FIGURES["reviews_held_up_by_nominations"]
    for seed in replication_seeds(9, 40):
        start = replication_start(setup, seed)
        i = histories.pick(seed)
        picked.add(i)
        assert start.pairings is histories.records[i].pairings and start.params == histories.params[i]
        held = int(np.sum(start.initial.review_stage == Stage.NOMINATIONS))
        assert abs(held - held_value) <= held_tolerance
        assert start.initial.day == histories.records[i].day
    assert len(picked) > 1  # replications start from different histories


def test_each_posterior_draw_keeps_one_history_whatever_its_chance_of_matching():
    """The kept histories' parameters are the posterior's draws themselves, one history each (less
    the draws with none in TRIES_PER_DRAW runs): the report's figures do not weigh a draw again by
    its chance of leading to them, as keeping the matches of one run per draw would."""
    from workbench.experiments.matched_histories import HISTORY_DRAW
    from workbench.inputs.posterior import shipped_posterior

    setup = forecast_setup(posterior=shipped_posterior())
    histories = matched_histories(setup, tried=12, seed=3, workers=1)
    assert len(histories.records) + histories.unmatched == histories.tried == 12
    history_setup = forecast_setup(posterior=shipped_posterior(), horizon=dt.date(2024, 5, 22))
    draws = [history_setup.parameters_for(s) for s in np.random.SeedSequence(3, spawn_key=(HISTORY_DRAW,)).spawn(12)]
    remaining = iter(d.as_dict() for d in draws)
    assert all(any(p.as_dict() == d for d in remaining) for p in histories.params)  # the draws, in order, each at most once


def test_a_scenarios_parameters_replace_the_historys(histories):
    from workbench.inputs.scenarios import Scenario

    scenario = Scenario("more officers", "", None, {"secretariat_officers": 9}, forecast_setup().levers)
    setup = forecast_setup(scenario, params=Parameters(), posterior=None, histories=histories)
    start = replication_start(setup, replication_seeds(1, 1)[0])
    assert start.params.secretariat_officers == 9


def test_matched_histories_cannot_be_combined_with_a_record(histories):
    from workbench.core.paths import SYNTHETIC_RECORD_DIR
    from workbench.inputs.record import load_record

    record = load_record(SYNTHETIC_RECORD_DIR, dt.date(2026, 12, 2))
    with pytest.raises(ValueError, match="start="):
        forecast_setup(params=Parameters(), posterior=None, histories=histories, record=record)
