"""CI runs everything: under .ci/run's WORKBENCH_NO_SKIPS a skipped test fails the run, while
elsewhere it is reported as a skip with its reason."""

import os
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.subprocess


def _pytest(tmp_path, no_skips: bool):
    (tmp_path / "test_sample.py").write_text(
        'import pytest\n\ndef test_runs():\n    pass\n\ndef test_skips():\n    pytest.skip("NO BROWSER HERE")\n', encoding="utf-8"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests")}
    env.pop("WORKBENCH_NO_SKIPS", None)
    if no_skips:
        env["WORKBENCH_NO_SKIPS"] = "1"
    cmd = [sys.executable, "-m", "pytest", "-p", "no_skips", "-ra", "-q", "-p", "no:cacheprovider", str(tmp_path)]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_a_skip_fails_the_run_under_ci_and_is_loud_elsewhere(tmp_path):
    relaxed = _pytest(tmp_path, no_skips=False)
    assert relaxed.returncode == 0 and "NO BROWSER HERE" in relaxed.stdout
    strict = _pytest(tmp_path, no_skips=True)
    assert strict.returncode == 1 and "1 test(s) skipped, which CI does not allow" in strict.stdout


def test_ci_runs_the_readme_test_command_with_no_skips():
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "WORKBENCH_NO_SKIPS=1 make test" in text
