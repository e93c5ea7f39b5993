"""Speed and memory of the model: prints figures and ratios, never pass/fail.

    python benchmarks/bench.py              # quick: about a minute on 2 cores
    python benchmarks/bench.py --full       # adds the 10,000-replication forecast and the SimPy 500-run forecast
    python benchmarks/bench.py --calibrate  # adds a full calibration with the shipped settings (minutes)

Every forecast figure is for the shipped calibration (parameters drawn from the posterior
in each replication), as `workbench forecast` runs it.  "Before" figures are the SimPy
reference engine, "after" the compiled engine; both give identical results.  Figures
that need a fresh process (a cold start, peak memory of one run) are measured in a
subprocess.  The last line is one JSON object with every figure, for machines to read.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.analysis.forecast import forecast, summary_table  # noqa: E402
from workbench.experiments.replications import run_replications  # noqa: E402
from workbench.experiments.setup import default_setup  # noqa: E402
from workbench.inputs.posterior import shipped_posterior  # noqa: E402

#: Run in a fresh interpreter: a forecast from the call to its summary table, with wall time and peak memory.
_FRESH_FORECAST = """
import json, sys, time
sys.path.insert(0, {root!r})
from workbench.analysis.forecast import forecast, forecast_setup, summary_table
t = time.perf_counter()
fc = forecast(forecast_setup(engine={engine!r}), replications={n}, seed=1, keep_events=False, keep_monthly=False)
summary_table(fc.summary)
wall = time.perf_counter() - t
import psutil

def peak_mb(pid):
    # VmHWM: the process's peak resident memory.  getrusage would not do: the workers are still
    # alive (the pool is reused), and ru_maxrss survives exec, so it would report the parent's.
    try:
        status = open(f"/proc/{{pid}}/status").read()
        return int(status.split("VmHWM:")[1].split()[0]) / 1024
    except (OSError, IndexError):
        return None

peaks = [peak_mb(child.pid) for child in psutil.Process().children(recursive=True)]
print(json.dumps({{"wall_s": wall, "main_peak_mb": peak_mb("self"), "worker_peaks_mb": [p for p in peaks if p]}}))
"""


def fresh_forecast(n: int, engine: str = "compiled") -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _FRESH_FORECAST.format(root=str(ROOT), n=n, engine=engine)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def rate(setup, n: int, workers, seed: int = 1) -> tuple[float, float, float]:
    """Replications/s, recorded events/s and seconds taken.  Each figure of this script that
    measures throughput runs seeds no earlier run used, so no replication finds its start kept
    (workbench.experiments.replications.StartCache); only the explorer's rerun is meant to."""
    res = run_replications(setup, n, seed=seed, workers=workers, keep_events=False, keep_monthly=False)
    return n / res.elapsed_s, res.simulated_events / res.elapsed_s, res.elapsed_s


def numpy_floor_s(draws: int, repeat: int = 20) -> float:
    """Time numpy takes to draw ``draws`` lognormal durations (best of ``repeat``)."""
    rng = np.random.default_rng(0)
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        rng.lognormal(1.0, 0.8, size=draws)
        best = min(best, time.perf_counter() - t)
    return best


def main(argv):
    full, calibrate_too = "--full" in argv, "--calibrate" in argv
    posterior = shipped_posterior()
    setup = default_setup(posterior=posterior)
    simpy_setup = default_setup(posterior=posterior, engine="simpy")
    f = {"cores": os.cpu_count()}

    t = time.perf_counter()
    run_replications(setup, 2, seed=0, workers=1, keep_events=False)  # loads (or compiles) the engine
    f["engine_first_call_s"] = time.perf_counter() - t

    # Per-replication speed, one core, both engines; and the numpy floor for the same random draws.
    f["reps_per_s_1core"], f["events_per_s_1core"], elapsed = rate(setup, 300, 1, seed=11)
    f["reps_per_s_1core_simpy"], f["events_per_s_1core_simpy"], _ = rate(simpy_setup, 30, 1, seed=12)
    from workbench.experiments.setup import simulate
    from workbench.simulation.streams import replication_seeds

    seeds = replication_seeds(13, 50)
    t = time.perf_counter()
    records = [simulate(setup, s)[0] for s in seeds]
    per_rep = (time.perf_counter() - t) / len(seeds)
    draws_per_rep = float(np.mean([r.draws for r in records]))
    f["uniforms_drawn_per_rep"] = draws_per_rep
    f["numpy_floor_ms_per_rep"] = numpy_floor_s(int(draws_per_rep)) * 1000
    f["overhead_factor_vs_numpy"] = per_rep * 1000 / f["numpy_floor_ms_per_rep"]
    f["overhead_factor_simpy"] = (1000 / f["reps_per_s_1core_simpy"]) / f["numpy_floor_ms_per_rep"]

    # All cores (the pool is started by the first call, then reused, as in the explorer).
    rate(setup, 100, None, seed=14)
    f["reps_per_s_all_cores"], _, _ = rate(setup, 1000, None, seed=15)

    # A 500-replication forecast from call to summary table, with the workers running.
    t = time.perf_counter()
    fc = forecast(replications=500, seed=16, keep_events=False, keep_monthly=False)
    summary_table(fc.summary)
    f["forecast_500_warm_s"] = time.perf_counter() - t
    cold = fresh_forecast(500)
    f["forecast_500_cold_s"] = cold["wall_s"]  # a fresh interpreter: includes starting the worker processes

    from workbench.faces.explorer import Explorer

    explorer = Explorer(replications=500)
    settings = explorer.settings()
    settings["levers"]["redraw"]["enabled"] = True
    explorer.apply(settings)
    explorer.run()
    f["explorer_500_first_run_s"] = explorer.last_update_s
    settings["levers"]["redraw"]["after_months"] = 12.0
    explorer.apply(settings)
    explorer.run()
    f["explorer_500_update_s"] = explorer.last_update_s

    if full:
        big = fresh_forecast(10000)
        f["forecast_10000_wall_s"] = big["wall_s"]
        f["forecast_10000_main_peak_mb"] = big["main_peak_mb"]
        f["forecast_10000_worker_peak_mb"] = max(big["worker_peaks_mb"], default=0.0)
        f["forecast_10000_total_peak_mb_bound"] = big["main_peak_mb"] + sum(big["worker_peaks_mb"])
        f["forecast_500_simpy_s"] = fresh_forecast(500, "simpy")["wall_s"]

    prov = posterior.provenance
    f["calibration_shipped_wall_s"] = prov.get("wall_clock_s", prov.get("wall_time_s"))
    f["calibration_shipped_engine"] = prov.get("engine", "simpy")
    f["calibration_shipped_simulations"] = prov.get("total_simulations")
    f["calibration_shipped_generations"] = prov.get("generations_run")
    f["calibration_shipped_structures"] = len(prov.get("structures", [])) or 1
    f["calibration_shipped_stopped"] = prov.get("stopped_because", "(not recorded)")
    if calibrate_too:
        from workbench.inference.calibrate import Calibration

        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            result = Calibration(db=Path(tmp) / "abc.db", progress=lambda s: None).run()
            f["calibration_full_wall_s"] = time.perf_counter() - t
            f["calibration_full_stopped"] = result.provenance["stopped_because"]
    f["peak_rss_mb"] = (
        max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    )

    line = "{:<52}{}"
    print(line.format("cores", f["cores"]))
    print(line.format("engine load (first call in a process)", f"{f['engine_first_call_s']:.2f} s"))
    print("\n{:<52}{:>14}{:>14}{:>10}".format("", "before: SimPy", "after", "gain"))
    rows = [  # (label, before, after, higher is better)
        ("replications/s, one core", f["reps_per_s_1core_simpy"], f["reps_per_s_1core"], True),
        ("model events/s, one core", f["events_per_s_1core_simpy"], f["events_per_s_1core"], True),
        ("overhead factor vs numpy", f["overhead_factor_simpy"], f["overhead_factor_vs_numpy"], False),
    ]
    if full:
        rows.append(("500-replication forecast, fresh process (s)", f["forecast_500_simpy_s"], f["forecast_500_cold_s"], False))
    for label, before, after, higher_better in rows:
        gain = after / before if higher_better else before / after
        print(f"{label:<52}{before:>14.1f}{after:>14.1f}{gain:>9.1f}x")
    print()
    print(
        line.format(
            "replications/s, all cores",
            f"{f['reps_per_s_all_cores']:.0f} (x{f['reps_per_s_all_cores'] / f['reps_per_s_1core']:.2f} of one core)",
        )
    )
    print(
        line.format(
            "uniforms drawn per replication",
            f"{f['uniforms_drawn_per_rep']:.0f}; numpy draws as many lognormals in {f['numpy_floor_ms_per_rep'] * 1000:.0f} us",
        )
    )
    print(line.format("overhead factor vs numpy (target <= 15)", f"{f['overhead_factor_vs_numpy']:.1f}"))
    print(
        line.format(
            "500-replication forecast (target <= 1.2 s fresh)",
            f"{f['forecast_500_cold_s']:.2f} s in a fresh process, {f['forecast_500_warm_s']:.2f} s with workers running",
        )
    )
    print(
        line.format(
            "explorer Run, 500 replications (target <= 0.8 s)",
            f"{f['explorer_500_update_s']:.2f} s after a lever change, {f['explorer_500_first_run_s']:.2f} s first (baseline + scenario)",
        )
    )
    if full:
        print(line.format("10,000-replication forecast (target 60 s)", f"{f['forecast_10000_wall_s']:.1f} s, fresh process"))
        print(
            line.format(
                "  peak memory (target 2 GB)",
                f"main {f['forecast_10000_main_peak_mb']:.0f} MB, each worker "
                f"<= {f['forecast_10000_worker_peak_mb']:.0f} MB, all together <= "
                f"{f['forecast_10000_total_peak_mb_bound']:.0f} MB",
            )
        )
    print(
        line.format(
            "calibration, shipped settings (target 15 min)",
            f"{f['calibration_shipped_wall_s']} s for the shipped run ({f['calibration_shipped_engine']} engine, "
            f"{f['calibration_shipped_structures']} structures, {f['calibration_shipped_generations']} generations, "
            f"{f['calibration_shipped_simulations']} simulations)"
            + (f"; {f['calibration_full_wall_s']:.0f} s measured now ({f['calibration_full_stopped']})" if calibrate_too else ""),
        )
    )
    print(line.format("  stopped on", f["calibration_shipped_stopped"]))
    print(line.format("peak memory of this benchmark", f"{f['peak_rss_mb']:.0f} MB"))
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in f.items()}))


if __name__ == "__main__":
    main(sys.argv[1:])
