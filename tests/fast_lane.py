"""A pytest plugin: the fast lane is chosen by measured duration, and held to it.

``tests/durations.json`` records how long each test took (setup, call and teardown) in a full run (``make
durations`` measures it again).  A test measured at more than ``FAST_LANE_LIMIT_S`` is marked
``slow`` when the suite is collected, so ``make test-fast`` (``-m "not slow and not
subprocess"``) leaves it out; a test not measured yet counts as fast until it is.

In the fast lane (``WORKBENCH_FAST_LANE`` set, as ``make test-fast`` sets it) a test whose call
takes more than ``FAST_TEST_MAX_S`` fails, saying so: it either got slower than it should, or
it belongs in the full suite, and ``make durations`` then moves it there.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

DURATIONS_FILE = Path(__file__).resolve().parent / "durations.json"

#: Tests measured slower than this leave the fast lane.
FAST_LANE_LIMIT_S = 0.5

#: A fast-lane test that takes longer than this fails.
FAST_TEST_MAX_S = 5.0


def _measured() -> dict[str, float]:
    try:
        return json.loads(DURATIONS_FILE.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def pytest_collection_modifyitems(config, items):
    measured = _measured()
    for item in items:
        if measured.get(item.nodeid, 0.0) > FAST_LANE_LIMIT_S and "slow" not in item.keywords:
            item.add_marker(pytest.mark.slow)


_durations: dict[str, float] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    # A test's cost is its setup too (a module's fixture is paid by its first test) and teardown.
    _durations[item.nodeid] = round(_durations.get(item.nodeid, 0.0) + call.duration, 3)
    if call.when != "call":
        return
    if os.environ.get("WORKBENCH_FAST_LANE") and report.passed and call.duration > FAST_TEST_MAX_S:
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} took {call.duration:.1f} s: a fast-lane test must take under {FAST_TEST_MAX_S:g} s. "
            "Make it faster, or run `make durations` so that the measured duration moves it to the full suite."
        )


def pytest_sessionfinish(session, exitstatus):
    """With WORKBENCH_RECORD_DURATIONS set (``make durations``), write every call's duration."""
    if os.environ.get("WORKBENCH_RECORD_DURATIONS") and _durations:
        recorded = {**_measured(), **_durations}
        DURATIONS_FILE.write_text(json.dumps(dict(sorted(recorded.items())), indent=1) + "\n", encoding="utf-8")
