"""The regression baseline: a fixed-seed forecast summarized to a small committed file.

When the model changes *on purpose*, regenerate it deliberately and commit the diff:

    make baseline        # = python tests/regression.py --update

The test compares a fresh run to the committed file; any drift in behaviour shows up
as a named, numeric difference.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from workbench.experiments.replications import run_replications
from workbench.experiments.setup import Setup
from workbench.inputs.observations import latest_snapshot
from workbench.inputs.parameters import Parameters

BASELINE_FILE = Path(__file__).resolve().parent / "baseline" / "forecast_seed2024_40reps.json"
SEED, REPLICATIONS = 2024, 40


def summarize() -> dict:
    setup = Setup(Parameters(), latest_snapshot(), None, "report", dt.date(2060, 12, 31))
    res = run_replications(setup, REPLICATIONS, seed=SEED, workers=1)
    reached = res.threshold["reached"].to_numpy()
    days = (res.threshold["date"] - dt.datetime(2024, 5, 21)).dt.days.to_numpy(dtype=float)
    g1 = res.monthly[res.monthly.group == 1]
    completed = {
        str(d.date()): float(g1.loc[g1.date == d, "completed"].mean())
        for d in [dt.datetime(2030, 1, 1), dt.datetime(2040, 1, 1), dt.datetime(2060, 1, 1)]
    }
    stage_counts = res.events.groupby("stage", observed=False).size()
    return {
        "seed": SEED,
        "replications": REPLICATIONS,
        "reached": int(reached.sum()),
        "threshold_days_after_report": sorted(days[reached].tolist()),
        "group1_completed_mean": completed,
        "stage_entries": {str(k): int(v) for k, v in stage_counts.items()},
        "simulated_events": res.simulated_events,
    }


def main(argv: list[str]) -> int:
    summary = summarize()
    if "--update" in argv:
        BASELINE_FILE.parent.mkdir(parents=True, exist_ok=True)
        BASELINE_FILE.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {BASELINE_FILE}")
    else:
        print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main(sys.argv[1:]))
