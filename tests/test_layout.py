"""The arrays both engines index by follow the model's definitions; compiled code is cached only while its code is unchanged."""

import dataclasses
import datetime as dt
import shutil

import numpy as np

from workbench.core import compiled_cache
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


def test_compiled_code_is_cached_under_the_fingerprint_of_the_code_it_came_from():
    """A workbench function's cache stamp holds the fingerprint of every file its machine code can
    depend on, so an edit anywhere there makes its cache stale (and it is compiled afresh)."""
    from workbench.simulation import engine

    locator = engine.run_mechanism._cache._impl.locator
    assert isinstance(locator, compiled_cache.FingerprintedLocator)
    assert locator.get_source_stamp()[1] == compiled_cache.code_fingerprint()


def test_functions_outside_the_workbench_keep_numbas_own_cache(tmp_path):
    source = tmp_path / "elsewhere.py"
    source.write_text("def f(x):\n    return x\n")
    namespace: dict = {}
    exec(compile(source.read_text(), str(source), "exec"), namespace)
    assert compiled_cache.FingerprintedLocator.from_function(namespace["f"], str(source)) is None


def test_the_fingerprint_changes_with_any_file_compiled_code_depends_on(tmp_path, monkeypatch):
    copy = tmp_path / "workbench"
    shutil.copytree(compiled_cache.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "locale"))
    monkeypatch.setattr(compiled_cache, "PACKAGE", copy)
    fingerprint = compiled_cache.code_fingerprint.__wrapped__
    before = fingerprint()
    for edited in ("simulation/rules.py", "inputs/report_categories.py", "core/timeline.py", "observation/observe.py"):
        path = copy / edited
        original = path.read_bytes()
        path.write_bytes(original + b"\n# an edit\n")
        assert fingerprint() != before, edited
        path.write_bytes(original)
    assert fingerprint() == before
    (copy / "faces" / "brief.py").write_bytes(b"# not compiled code\n")
    assert fingerprint() == before
