"""What the docs say of speed is what the benchmark last measured, and the labels follow the stages.

The benchmark (``make bench``) is a script that prints figures, not a timed test: the machines are
shared and noisy.  What is checked here is that its figures reach the reader unchanged.
"""

from __future__ import annotations

import importlib.util
import json

from workbench.faces.labels import COUNTED_STAGE_LABELS, STAGE_COLUMN_LABELS
from workbench.inputs.levers import COUNTED_STAGES
from workbench.observation.observe import STAGE_COLUMNS

from conftest import ROOT


def _bench():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmarks_page_shows_the_last_recorded_figures():
    bench = _bench()
    results = json.loads(bench.RESULTS.read_text(encoding="utf-8"))
    assert bench.docs_block(results) in bench.DOC.read_text(encoding="utf-8"), "run `make bench` after a speed change"
    for key in bench.TARGETS:
        assert key in results


def test_every_stage_column_and_counted_stage_has_a_label():
    assert list(STAGE_COLUMN_LABELS) == list(STAGE_COLUMNS.values())
    assert list(COUNTED_STAGE_LABELS) == list(COUNTED_STAGES)
