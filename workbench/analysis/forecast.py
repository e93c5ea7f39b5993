"""The forecast users ask for: when will 44 of group 1's 62 reviews be completed?

Each replication's own crossing date is the unit of every probability; runs that do not
cross within the horizon are kept, counted as "not within horizon", and sort after every
date, so a quantile that falls among them is reported as such rather than dropped.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.core.atomic import atomic_folder
from workbench.core.provenance import code_version, display_path, file_record
from workbench.core.timeline import CONFERENCE_SESSIONS
from workbench.core.version import __version__
from workbench.experiments.replications import Results, run_replications
from workbench.experiments.setup import DEFAULT_HORIZON, Setup, default_setup
from workbench.inputs.observations import Snapshot
from workbench.inputs.parameters import HAND_SET, Parameters
from workbench.inputs.parties import Pairings
from workbench.inputs.posterior import Posterior, shipped_posterior
from workbench.inputs.scenarios import BASELINE, Scenario

#: Central intervals reported, as (label, lower quantile, upper quantile).
INTERVALS = (("50%", 0.25, 0.75), ("80%", 0.10, 0.90), ("95%", 0.025, 0.975))


@dataclass
class Forecast:
    results: Results
    summary: dict
    parameters_label: str
    scenario: str
    inputs: dict = field(default_factory=dict)  # what `workbench reproduce` needs to rerun it

    @property
    def threshold(self) -> pd.DataFrame:
        return self.results.threshold


def _quantile_date(days_since_epoch: np.ndarray, q: float) -> pd.Timestamp | None:
    """Empirical quantile of crossing dates; None when it falls among runs past the horizon."""
    value = np.quantile(days_since_epoch, q, method="inverted_cdf")
    return None if not np.isfinite(value) else pd.Timestamp("1970-01-01") + pd.Timedelta(days=float(value))


def summarize_threshold(threshold: pd.DataFrame, horizon: dt.date, sessions: dict[int, dt.date] = CONFERENCE_SESSIONS) -> dict:
    """Median, intervals and probabilities of the 70 % date from each run's crossing date."""
    n = len(threshold)
    dates = threshold["date"]
    days = np.where(threshold["reached"], (dates - pd.Timestamp("1970-01-01")).dt.days, np.inf).astype(float)
    summary = {
        "replications": n,
        "horizon": horizon.isoformat(),
        "median": _quantile_date(days, 0.5),
        "intervals": {label: (_quantile_date(days, lo), _quantile_date(days, hi)) for label, lo, hi in INTERVALS},
        "p_before_session": {year: float(np.mean(threshold["reached"] & (dates < pd.Timestamp(day)))) for year, day in sessions.items()},
        "p_not_within_horizon": float(np.mean(~threshold["reached"])),
    }
    # Monte Carlo standard error of a probability estimated from n runs, for the reader.
    summary["probability_standard_error_max"] = float(0.5 / np.sqrt(n))
    return summary


def _fmt(date: pd.Timestamp | None) -> str:
    return "not within horizon" if date is None else date.strftime("%Y-%m-%d")


def summary_table(summary: dict) -> pd.DataFrame:
    """The summary as a two-column table (what the CLI prints and writes)."""
    rows = [("replications", str(summary["replications"])), ("median", _fmt(summary["median"]))]
    for label, (lo, hi) in summary["intervals"].items():
        rows.append((f"{label} interval", f"{_fmt(lo)} to {_fmt(hi)}"))
    for year, p in summary["p_before_session"].items():
        rows.append((f"P(reached before the {year} Conference session, 1 Oct {year})", f"{p:.1%}"))
    rows.append((f"P(not reached by {summary['horizon']})", f"{summary['p_not_within_horizon']:.1%}"))
    return pd.DataFrame(rows, columns=["quantity", "value"])


def forecast(
    params: Parameters | None = None,
    replications: int = 500,
    seed: int = 1,
    horizon: dt.date = DEFAULT_HORIZON,
    workers: int | None = None,
    pairings: Pairings | None = None,
    snapshot: Snapshot | None = None,
    scenario: Scenario = BASELINE,
    keep_events: bool = True,
    posterior: Posterior | str | None = "shipped",
    scheduler: str | None = None,
    progress=None,
    engine: str = "compiled",
    keep_monthly: bool = True,
) -> Forecast:
    """Forecast from the report's state: ``replications`` runs from ``seed`` to ``horizon``.

    ``posterior="shipped"`` draws each replication's parameters from the committed posterior
    (when one has been shipped), so the intervals carry parameter uncertainty; ``None`` runs
    every replication on ``params`` (default: the hand-set values).  The scenario's settings
    apply on top of either, and the parameters it sets are not redrawn.  ``engine="simpy"``
    runs the SimPy reference model instead of the compiled engine (same results, slower).
    ``keep_events`` and ``keep_monthly`` keep the per-replication tables; without them memory
    stays flat in the number of replications (the monthly distribution always streams into
    ``results.monthly_summary``).
    """
    if isinstance(posterior, str):
        if posterior != "shipped":
            raise ValueError("posterior must be a Posterior, 'shipped' or None")
        posterior = shipped_posterior()
    base = scenario.apply(params or Parameters())
    setup: Setup = default_setup(
        params=base,
        start="report",
        horizon=horizon,
        pairings=pairings,
        snapshot=snapshot,
        posterior=posterior,
        fixed=tuple(scenario.changes),
        levers=scenario.levers,
        condition=scenario.condition,
        engine=engine,
    )
    results = run_replications(
        setup,
        replications,
        seed=seed,
        workers=workers,
        keep_events=keep_events,
        scheduler=scheduler,
        progress=progress,
        keep_monthly=keep_monthly,
    )
    if posterior is not None:
        label = posterior.label
    else:
        label = HAND_SET if params is None else "parameters given by the caller"
    inputs = {
        "replications": replications,
        "seed": seed,
        "horizon": horizon.isoformat(),
        "keep_events": keep_events,
        "observations": file_record(setup.report.path),
        "scenario": {
            "name": scenario.name,
            "changes": dict(scenario.changes),
            **(file_record(scenario.path) if scenario.path else {"file": None}),
        },
        "pairings": file_record(pairings.source) if pairings is not None and Path(pairings.source).is_file() else "synthetic",
        "posterior": None
        if posterior is None
        else {"dir": display_path(posterior.path), **file_record(Path(posterior.path) / "particles.csv")},
        "parameters": "posterior" if posterior is not None else ("hand-set" if params is None else params.as_dict()),
    }
    return Forecast(results, summarize_threshold(results.threshold, horizon), label, scenario.name, inputs)


def format_forecast(fc: Forecast) -> str:
    setup = fc.results.setup
    target = setup.params.completion_target(62)
    c = setup.condition
    rule = f"Forecast of the date {target} of group 1's reviews are completed ({setup.params.completion_share:.0%} condition, ¶25)"
    if not c.is_default or c.decided:
        rule += (
            f"\n  condition changed{' on ' + str(c.decided) if c.decided else ''}: {c.share:.0%} of group(s) "
            f"{', '.join(map(str, c.groups))} having reached '{c.counted_stage}'"
        )
    lines = [
        rule,
        f"  start: the report's state as at {setup.report.as_at} | scenario: {fc.scenario} | parameters: {fc.parameters_label}",
        f"  pairings: {'synthetic, drawn per replication' if setup.pairings is None else setup.pairings.source}"
        f" | seed {fc.results.seed} | {fc.results.replications} replications on {fc.results.workers} worker(s)"
        f" in {fc.results.elapsed_s:.1f} s",
        "",
    ]
    table = summary_table(fc.summary)
    width = max(len(q) for q in table["quantity"])
    lines += [f"  {q:<{width}}  {v}" for q, v in zip(table["quantity"], table["value"])]
    lines.append(f"  (probabilities carry a Monte Carlo standard error of at most {fc.summary['probability_standard_error_max']:.1%})")
    return "\n".join(lines)


def _json_default(obj):
    if isinstance(obj, (pd.Timestamp, dt.date)):
        return obj.isoformat()
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    raise TypeError(type(obj))


#: gzip at its fastest level: level 9 made writing the tables take twice as long as the forecast itself.
FAST_GZIP = {"method": "gzip", "compresslevel": 1}


def write_forecast(fc: Forecast, output: str | Path, extra_manifest: dict | None = None) -> Path:
    """Write the tables and a manifest to ``output``, atomically.

    Everything is written to a temporary folder beside ``output`` and renamed into place at
    the end, so an interrupted run leaves the previous result intact and no half-written one.
    """
    output = Path(output)
    with atomic_folder(output) as staging:
        res = fc.results
        res.threshold.to_csv(staging / "threshold.csv", index=False)
        if res.monthly is not None:
            res.monthly.to_csv(staging / "monthly.csv.gz", index=False, compression=FAST_GZIP)
        res.monthly_summary.to_frame().to_csv(staging / "monthly_quantiles.csv.gz", index=False, compression=FAST_GZIP)
        if res.events is not None:
            res.events.to_csv(staging / "events.csv.gz", index=False, compression=FAST_GZIP)
        summary_table(fc.summary).to_csv(staging / "summary.csv", index=False)
        manifest = {
            "workbench_version": __version__,
            "code_version": code_version(),
            "inputs": fc.inputs,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "scenario": fc.scenario,
            "parameters_label": fc.parameters_label,
            "parameters": res.setup.params.as_dict(),
            "posterior": None
            if res.setup.posterior is None
            else {
                "path": display_path(res.setup.posterior.path),
                "provenance": res.setup.posterior.provenance,
                "note": "each replication drew its calibrated parameters from this posterior; 'parameters' holds the rest",
            },
            "seed": res.seed,
            "replications": res.replications,
            "engine": res.setup.engine,
            "workers": res.workers,
            "start": res.setup.start,
            "snapshot": {"as_at": res.setup.report.as_at, "file": display_path(res.setup.report.path)},
            "pairings": "synthetic" if res.setup.pairings is None else res.setup.pairings.source,
            "horizon": res.setup.horizon,
            "elapsed_s": round(res.elapsed_s, 3),
            "simulated_events": res.simulated_events,
            "summary": fc.summary,
            **(extra_manifest or {}),
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=_json_default), encoding="utf-8")
    return output


def reproduce(output: str | Path, workers: int | None = None) -> tuple[bool, list[str]]:
    """Rerun the forecast recorded in ``output/manifest.json`` and compare its numbers.

    Every input file must still have the checksum recorded; a changed input is an error
    naming the file, since a rerun on other data could not confirm anything.
    """
    from workbench.core.errors import InputError
    from workbench.core.provenance import resolve, sha256_file
    from workbench.inputs.observations import load_snapshot
    from workbench.inputs.parameters import Parameters
    from workbench.inputs.parties import load_pairings
    from workbench.inputs.posterior import load_posterior
    from workbench.inputs.scenarios import load_scenario

    output = Path(output)
    manifest_path = output / "manifest.json"
    if not manifest_path.is_file():
        raise InputError(manifest_path, "(file)", "no manifest: not a forecast output folder", "a folder written by `workbench forecast`")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        inputs = manifest["inputs"]
    except (json.JSONDecodeError, KeyError) as err:
        raise InputError(manifest_path, "inputs", f"unreadable manifest ({err})", "a manifest written by `workbench forecast`") from None

    def checked(record: dict, what: str) -> Path:
        path = resolve(record["file"])
        if not path.is_file():
            raise InputError(path, what, "input file no longer exists", "the file the output was made from")
        if sha256_file(path) != record["sha256"]:
            raise InputError(
                path, what, "input file changed since the output was made (checksum differs)", f"sha256 {record['sha256'][:12]}..."
            )
        return path

    snapshot = load_snapshot(checked(inputs["observations"], "observations"))
    scenario = load_scenario(checked(inputs["scenario"], "scenario")) if inputs["scenario"].get("file") else BASELINE
    pairings = load_pairings(checked(inputs["pairings"], "pairings")) if isinstance(inputs["pairings"], dict) else None
    if inputs["posterior"] is not None:
        checked(inputs["posterior"], "posterior")
        posterior = load_posterior(resolve(inputs["posterior"]["dir"]))
    else:
        posterior = None
    params = None if isinstance(inputs["parameters"], str) else Parameters.from_mapping(inputs["parameters"], str(manifest_path))
    again = forecast(
        params,
        replications=inputs["replications"],
        seed=inputs["seed"],
        horizon=dt.date.fromisoformat(inputs["horizon"]),
        workers=workers,
        pairings=pairings,
        snapshot=snapshot,
        scenario=scenario,
        keep_events=False,
        keep_monthly=False,
        posterior=posterior,
        engine=manifest.get("engine", "compiled"),
    )
    differences = []
    before = pd.read_csv(output / "threshold.csv")
    after = again.threshold.assign(date=again.threshold["date"].dt.strftime("%Y-%m-%d"))
    if len(before) != len(after):
        differences.append(f"threshold.csv: {len(before)} rows recorded, {len(after)} now")
    else:
        for col in ("reached", "date"):
            recorded = [str(v) for v in before[col].astype(object).fillna("never")]
            now = [str(v) for v in after[col].astype(object).fillna("never")]
            bad = [i for i, (a, b) in enumerate(zip(recorded, now)) if a != b]
            if bad:
                differences.append(f"threshold.csv column {col}: {len(bad)} replications differ (first: {bad[0]})")
    recorded_summary = pd.read_csv(output / "summary.csv")
    now_summary = summary_table(again.summary)
    for (_, a), (_, b) in zip(recorded_summary.iterrows(), now_summary.iterrows()):
        if str(a["value"]) != str(b["value"]):
            differences.append(f"summary: {a['quantity']}: recorded {a['value']}, now {b['value']}")
    if manifest.get("code_version") != code_version():
        differences.append(f"note: code version {manifest.get('code_version')} recorded, {code_version()} now")
    ok = not [d for d in differences if not d.startswith("note:")]
    return ok, differences
