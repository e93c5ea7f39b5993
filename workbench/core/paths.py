"""Where the workbench finds its data: one place, so no module walks up from its own file.

The data live beside the package in the project folder (the package is installed in
editable mode by the README's set-up): the report's figures, the priors and the fitted
posterior in ``calibration/``, the scenario files in ``scenarios/``.  ``WORKBENCH_HOME``
points the workbench at another project folder (a copy with other observations, say).
"""

from __future__ import annotations

import os
from pathlib import Path

#: The project folder: ``$WORKBENCH_HOME``, or the folder holding the ``workbench`` package.
PROJECT_ROOT = Path(os.environ.get("WORKBENCH_HOME") or Path(__file__).resolve().parents[2])

CALIBRATION_DIR = PROJECT_ROOT / "calibration"
#: Dated snapshots of the Mechanism's status, one TOML file each (the report of May 2024 first).
OBSERVATIONS_DIR = CALIBRATION_DIR / "observations"
#: The priors of the calibration, with their reasoning.
PRIORS_FILE = CALIBRATION_DIR / "priors.toml"
#: The shipped posterior (particles, summary, provenance).
POSTERIOR_DIR = CALIBRATION_DIR / "posterior"
#: The calibration's run database (regenerable from its seed).
RUN_DATABASE = CALIBRATION_DIR / "runs" / "abc.db"
#: The shipped scenario files.
SCENARIOS_DIR = PROJECT_ROOT / "scenarios"
#: What each lever costs, for planning (assumptions, with their reasoning).
EFFORT_FILE = SCENARIOS_DIR / "planning" / "effort.toml"
#: Where the explorer saves a planner's own scenario files: never among the shipped ones, which the
#: delegation report includes (``$WORKBENCH_USER_SCENARIOS`` to put them elsewhere).
USER_SCENARIOS_DIR = Path(os.environ.get("WORKBENCH_USER_SCENARIOS") or PROJECT_ROOT / "results" / "my-scenarios")
