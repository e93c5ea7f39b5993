"""The arrays both engines index by follow the model's definitions, and stale compiled code is dropped."""

import dataclasses
import datetime as dt

import numpy as np

from workbench.inputs.levers import LEVER_TYPES, Levers, Training
from workbench.inputs.parameters import Parameters
from workbench.inputs.parties import synthetic_pairings
from workbench.simulation import layout
from workbench.simulation.stages import STAGE_RULES, Stage


def test_the_parameter_vector_holds_every_field_by_its_derived_index():
    params = Parameters(saq_median_months=9.5, secretariat_officers=3)
    vector = layout.pack_parameters(params, 62)
    for name in Parameters.names():
        assert vector[layout.PARAMETER_INDEX[name]] == getattr(params, name)
    assert vector[layout.P_GROUP1_TARGET] == 44  # 70 % of 62 (¶25)


def test_an_absent_lever_has_its_class_defaults_and_a_present_one_its_values():
    pairings = synthetic_pairings(1)
    absent = layout.pack_levers(Levers(), pairings)
    for (lever, effect), value in zip(layout.LEVER_VALUES, absent.value):
        default = {f.name: f.default for f in dataclasses.fields(LEVER_TYPES[lever][0])}[effect]
        assert value == default
    assert np.all(np.isinf(absent.start))
    present = layout.pack_levers(Levers(training=Training(dt.date(2025, 1, 1), saq_factor=0.5)), pairings)
    assert present.value[layout.VALUE_INDEX["training", "saq_factor"]] == 0.5
    assert np.isfinite(present.start[layout.LEVER_INDEX["training"]])


def test_every_stage_between_nominations_and_completion_has_exactly_one_rule():
    assert [rule.stage for rule in STAGE_RULES] == list(Stage)[1:-1]
    for rule in STAGE_RULES:
        assert layout.STAGE_TIME[rule.stage] == layout.PARAMETER_INDEX[rule.time]


def test_the_fingerprint_follows_the_layout(monkeypatch):
    before = layout.fingerprint()
    monkeypatch.setattr(layout, "PARAMETER_NAMES", (*layout.PARAMETER_NAMES, "a_new_parameter"))
    assert layout.fingerprint() != before


def test_stale_compiled_code_is_dropped_and_current_code_kept(tmp_path):
    cached = [tmp_path / "engine.run_mechanism-1.py311.nbi", tmp_path / "engine.run_mechanism-1.py311.1.nbc"]
    for path in cached:
        path.write_bytes(b"machine code")
    (tmp_path / "layout.fingerprint").write_text("an older layout")
    assert layout.clear_stale_compiled_code(tmp_path)
    assert not any(path.exists() for path in cached)
    assert (tmp_path / "layout.fingerprint").read_text() == layout.fingerprint()
    for path in cached:
        path.write_bytes(b"machine code")
    assert not layout.clear_stale_compiled_code(tmp_path)
    assert all(path.exists() for path in cached)
