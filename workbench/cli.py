"""The command line: a thin shell over the library's public functions.

    workbench forecast [--replications N] [--seed S] [--horizon DATE] [--output DIR] [--scenario FILE]
    workbench start-check [--replications N] [--seed S]
    workbench parameters

Bad input ends with one line naming the file, the field and what is allowed, and exit
status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from .errors import InputError


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def cmd_forecast(args) -> int:
    from .forecast import forecast, format_forecast, write_forecast
    from .observations import latest_snapshot
    from .parameters import Parameters
    from .parties import load_pairings
    from .scenarios import BASELINE, load_scenario

    snapshot = latest_snapshot(args.observations) if args.observations else latest_snapshot()
    if args.horizon <= snapshot.as_at:
        raise InputError("--horizon", "horizon", f"{args.horizon} is not after the snapshot date {snapshot.as_at}",
                         f"a date after {snapshot.as_at}, e.g. 2060-12-31")
    scenario = load_scenario(args.scenario) if args.scenario else BASELINE
    params = scenario.apply(Parameters())
    pairings = load_pairings(args.pairings) if args.pairings else None
    fc = forecast(params, replications=args.replications, seed=args.seed, horizon=args.horizon, workers=args.workers,
                  pairings=pairings, snapshot=snapshot, scenario=scenario.name, keep_events=not args.no_events)
    print(format_forecast(fc))
    out = write_forecast(fc, args.output, {"scenario_file": str(scenario.path) if scenario.path else None})
    print(f"\n  tables written to {out}/ (threshold.csv, monthly.csv.gz, {'' if args.no_events else 'events.csv.gz, '}summary.csv, manifest.json)")
    return 0


def cmd_start_check(args) -> int:
    """Run from 2020 and set the model's own account of the report date beside the report."""
    import numpy as np
    import pandas as pd

    from .observations import latest_snapshot
    from .observe import compare, observe
    from .parameters import Parameters
    from .runner import default_setup, simulate
    from .streams import replication_seeds

    snapshot = latest_snapshot()
    setup = default_setup(Parameters(), start="history", snapshot=snapshot, horizon=snapshot.as_at)
    runs = []
    for seed in replication_seeds(args.seed, args.replications):
        record, pairings, _ = simulate(setup, seed)
        runs.append(observe(record, pairings, snapshot.as_at))
    table = compare(runs[0], snapshot).drop(columns="model")
    for q, label in ((0.025, "model 2.5%"), (0.5, "model median"), (0.975, "model 97.5%")):
        table[label] = [np.quantile([r.get((n, None if pd.isna(g) else int(g)), np.nan) for r in runs], q)
                        for n, g in zip(table["name"], table["group"])]
    table["group"] = table["group"].map(lambda g: "" if pd.isna(g) else str(int(g)))
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(f"The model run from 2020-12-01 ({args.replications} replications, hand-set parameters) "
              f"observed at {snapshot.as_at}, beside the report:")
        print(table.to_string(index=False))
    return 0


def cmd_parameters(args) -> int:
    from .parameters import Parameters

    for name, spec in Parameters.describe().items():
        print(f"{name} = {spec['default']}  [{spec['unit']}; {spec['low']} to {spec['high']}]")
        print(f"    {spec['why']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description="Simulate and forecast the UNTOC review Mechanism.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    sub = parser.add_subparsers(dest="command", required=True)

    f = sub.add_parser("forecast", help="forecast the date 70 %% of group 1's reviews are completed")
    f.add_argument("--replications", type=_positive, default=500)
    f.add_argument("--seed", type=int, default=1)
    f.add_argument("--horizon", type=_date, default=dt.date(2060, 12, 31), help="last simulated day (default 2060-12-31)")
    f.add_argument("--output", type=Path, default=Path("results/forecast"), help="folder for the tables")
    f.add_argument("--scenario", type=Path, help="a scenario file (see scenarios/)")
    f.add_argument("--pairings", type=Path, help="the real pairing list (CSV); default: synthetic per replication")
    f.add_argument("--observations", type=Path, help="folder of observation snapshots (default calibration/observations)")
    f.add_argument("--workers", type=_positive, help="worker processes (default: all cores)")
    f.add_argument("--no-events", action="store_true", help="do not keep per-review stage-entry events")
    f.set_defaults(func=cmd_forecast)

    s = sub.add_parser("start-check", help="the model run from 2020, observed at the report date, beside the report")
    s.add_argument("--replications", type=_positive, default=100)
    s.add_argument("--seed", type=int, default=1)
    s.set_defaults(func=cmd_start_check)

    p = sub.add_parser("parameters", help="list every parameter with its unit, range and reasoning")
    p.set_defaults(func=cmd_parameters)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except InputError as err:
        if args.debug:
            raise
        print(f"workbench: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("workbench: interrupted; no output was written (the previous result, if any, is intact)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
