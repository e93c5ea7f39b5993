"""The code keeps its shape: the import contract, lint, format and types, as CI checks them.

The same checks run from ``pre-commit`` (``.pre-commit-config.yaml``) before a commit.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_the_layers_import_only_downwards():
    """import-linter's contracts in pyproject.toml: inputs -> simulation -> ... -> faces, and the rest."""
    done = _run(str(BIN / "lint-imports"), "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.subprocess
@pytest.mark.parametrize(
    "module,planted,contract",
    [
        ("experiments/setup.py", "import matplotlib.pyplot", "Presentation lives in the faces"),
        ("analysis/compare.py", "from babel.dates import format_date", "Presentation lives in the faces"),
        ("simulation/rules.py", "from workbench.faces import cli", "Data flows one way"),
    ],
    ids=["chart-below-faces", "translation-below-faces", "upward-import"],
)
def test_a_planted_violation_breaks_its_contract(tmp_path, module, planted, contract):
    """The contracts can fail: an import planted in a copy of the package is named as broken."""
    shutil.copytree(ROOT / "workbench", tmp_path / "workbench", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "workbench" / module
    target.write_text(planted + "\n" + target.read_text(encoding="utf-8"), encoding="utf-8")
    done = subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert done.returncode != 0
    broken = [line for line in done.stdout.replace("\n", " ").split("KEPT") if "BROKEN" in line]
    assert any(contract in line for line in broken), done.stdout


def test_lint_passes():
    done = _run(sys.executable, "-m", "ruff", "check", "workbench", "workbench_start", "tests", "benchmarks")
    assert done.returncode == 0, done.stdout + done.stderr


def test_code_is_formatted():
    done = _run(sys.executable, "-m", "ruff", "format", "--check", "workbench", "workbench_start", "tests", "benchmarks")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.subprocess
def test_public_api_type_checks():
    done = _run(sys.executable, "-m", "mypy")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.subprocess
def test_the_docs_build_without_warnings(tmp_path):
    """MkDocs in strict mode: a broken link, a missing page or an API reference to a name that is
    gone fails the build; the generated pages (command line, stages, parameters, levers,
    STRESS-DES) are built from the code."""
    done = _run(sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(tmp_path / "site"))
    assert done.returncode == 0, done.stdout + done.stderr
    stages = (tmp_path / "site" / "reference" / "stages" / "index.html").read_text(encoding="utf-8")
    assert "written feedback" in stages and "saq_median_months" in stages
    assert not (tmp_path / "site" / "hooks.py").exists()
