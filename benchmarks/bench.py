"""Speed and memory of the model: prints figures and ratios, never pass/fail.

    python benchmarks/bench.py            # quick: ~1-2 minutes on 2 cores
    python benchmarks/bench.py --full     # adds the 10,000-replication forecast

The last line is one JSON object with every figure, for machines to read.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workbench.forecast import forecast, summary_table  # noqa: E402
from workbench.observations import latest_snapshot  # noqa: E402
from workbench.parameters import Parameters  # noqa: E402
from workbench.runner import Setup, run_replications  # noqa: E402


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def main(argv):
    full = "--full" in argv
    snapshot = latest_snapshot()
    setup = Setup(Parameters(), snapshot, None, "report", dt.date(2060, 12, 31))
    figures = {"cores": os.cpu_count()}

    run_replications(setup, 2, seed=0, workers=1, keep_events=False)  # warm imports
    res = run_replications(setup, 100, seed=1, workers=1, keep_events=False)
    figures["reps_per_s_1core"] = 100 / res.elapsed_s
    figures["model_events_per_s_1core"] = res.simulated_events / res.elapsed_s
    events_per_rep = res.simulated_events / 100

    res_all = run_replications(setup, 200, seed=1, workers=None, keep_events=False)
    figures["reps_per_s_all_cores"] = 200 / res_all.elapsed_s

    # The floor: numpy drawing as many random durations as the model records events.
    rng = np.random.default_rng(0)
    n_draws = int(events_per_rep * 100)
    t = time.perf_counter()
    rng.lognormal(1.0, 0.8, size=n_draws)
    floor = time.perf_counter() - t
    figures["numpy_floor_s_per_100_reps"] = floor
    figures["overhead_factor_vs_numpy"] = res.elapsed_s / floor

    t = time.perf_counter()
    fc = forecast(Parameters(), replications=500, seed=1, keep_events=False)
    summary_table(fc.summary)
    figures["forecast_500_wall_s"] = time.perf_counter() - t

    # The explorer's case: press Run with 500 replications (first press: baseline + scenario;
    # second press: scenario only, the baseline being cached).
    from workbench.explorer import Explorer

    explorer = Explorer(replications=500)
    settings = explorer.settings()
    settings["levers"]["redraw"]["enabled"] = True
    explorer.apply(settings)
    explorer.run()
    figures["explorer_500_first_run_s"] = explorer.last_update_s
    settings["levers"]["redraw"]["after_months"] = 12.0
    explorer.apply(settings)
    explorer.run()
    figures["explorer_500_update_s"] = explorer.last_update_s

    if full:
        t = time.perf_counter()
        fc = forecast(Parameters(), replications=10000, seed=1, keep_events=False)
        summary_table(fc.summary)
        figures["forecast_10000_wall_s"] = time.perf_counter() - t
    figures["peak_rss_mb"] = peak_rss_mb()

    print(f"cores                               {figures['cores']}")
    print(f"replications/s, one core            {figures['reps_per_s_1core']:.1f}")
    print(f"replications/s, all cores           {figures['reps_per_s_all_cores']:.1f}"
          f"  (x{figures['reps_per_s_all_cores'] / figures['reps_per_s_1core']:.2f} of one core)")
    print(f"model events/s, one core            {figures['model_events_per_s_1core']:.0f}")
    print(f"numpy floor for 100 reps' draws     {floor * 1000:.2f} ms; overhead factor {figures['overhead_factor_vs_numpy']:.0f}")
    print(f"500-replication forecast            {figures['forecast_500_wall_s']:.2f} s wall (target 2 s)")
    print(f"explorer, Run with 500 replications  {figures['explorer_500_first_run_s']:.1f} s first (baseline + scenario), "
          f"{figures['explorer_500_update_s']:.1f} s after a lever change (target 2 s)")
    if full:
        print(f"10,000-replication forecast         {figures['forecast_10000_wall_s']:.1f} s wall (target 60 s)")
    print(f"peak memory                         {figures['peak_rss_mb']:.0f} MB")
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}))


if __name__ == "__main__":
    main(sys.argv[1:])
