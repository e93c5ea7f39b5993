"""A forecast's output folder: its tables and manifest written as one unit, and a rerun that checks them.

``write_forecast`` puts the tables (see the reference) and a ``manifest.json`` with every input's
checksum in place atomically; ``reproduce`` reruns the forecast from the manifest, refuses if an
input changed, and says which numbers differ.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.analysis.forecast import Forecast, forecast, forecast_setup, numeric_summary, summary_table
from workbench.core.atomic import atomic_folder
from workbench.core.provenance import code_version, display_path
from workbench.core.version import __version__
from workbench.inputs.scenarios import BASELINE


def _json_default(obj: object) -> object:
    if isinstance(obj, (pd.Timestamp, dt.date)):
        return obj.isoformat()
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    raise TypeError(type(obj))


#: gzip at its fastest level: level 9 made writing the tables take twice as long as the forecast itself.
FAST_GZIP = {"method": "gzip", "compresslevel": 1}


def write_forecast(fc: Forecast, output: str | Path, extra_manifest: dict | None = None, xlsx: bool = False) -> Path:
    """Write the tables and a manifest to ``output``, atomically.

    Everything is written to a temporary folder beside ``output`` and renamed into place at
    the end, so an interrupted run leaves the previous result intact and no half-written one.
    """
    output = Path(output)
    with atomic_folder(output) as staging:
        res = fc.results
        res.threshold.round({"years_from_start": 4}).to_csv(staging / "threshold.csv", index=False)  # to the hour, not 16 digits
        if res.monthly is not None:
            res.monthly.to_csv(staging / "monthly.csv.gz", index=False, compression=FAST_GZIP)
        res.monthly_summary.to_frame().to_csv(staging / "monthly_quantiles.csv.gz", index=False, compression=FAST_GZIP)
        if res.events is not None:
            res.events.to_csv(staging / "events.csv.gz", index=False, compression=FAST_GZIP)
        numeric_summary(fc.summary).to_csv(staging / "summary.csv", index=False)  # typed: numbers, dates, a note
        if fc.made_on >= res.monthly_summary.dates[0]:
            nowcast_table(fc).to_csv(staging / "nowcast.csv", index=False)
        if fc.by_structure is not None:
            fc.by_structure.to_csv(staging / "structures.csv", index=False)
        if xlsx:  # the Excel-ready tables: summary in numbers, each run's date, each structure
            sheets = {"summary": numeric_summary(fc.summary), "threshold": res.threshold}
            if fc.by_structure is not None:
                sheets["structures"] = fc.by_structure
            write_xlsx(staging / "forecast.xlsx", sheets)
        manifest = {
            "workbench_version": __version__,
            "made_on": fc.made_on,
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
            "record": None if res.setup.record is None else {"label": res.setup.record.label(), "synthetic": res.setup.record.synthetic},
            "pairings": "synthetic" if res.setup.pairings is None else res.setup.pairings.source,
            "horizon": res.setup.horizon,
            "elapsed_s": round(res.elapsed_s, 3),
            "simulated_events": res.simulated_events,
            "summary": fc.summary,
            **(extra_manifest or {}),
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=_json_default), encoding="utf-8")
    return output


def nowcast_table(fc: Forecast) -> pd.DataFrame:
    """The nowcast of group 1 and of all groups, as ``nowcast.csv`` holds it (see the reference)."""
    frames = []
    for group in (1, None):
        table = fc.nowcast(group)
        table.insert(0, "group", "all" if group is None else str(group))
        table.insert(0, "as_at", table.attrs["as_at"].isoformat())
        frames.append(table)
    out = pd.concat(frames, ignore_index=True)
    # Counts are whole reviews; means to a hundredth, their errors to a thousandth.
    return out.round({"median": 1, "low": 1, "high": 1, "mean": 2, "mean_se": 3})


def _summary_differences(recorded: pd.DataFrame, summary: dict) -> list[str]:
    """The rows of a recorded ``summary.csv`` that a rerun's summary does not give again, compared
    by quantity as written (later versions may add rows; before 0.6 the file held worded values)."""
    import io

    worded = "value" in recorded.columns
    now = summary_table(summary) if worded else numeric_summary(summary)
    now = pd.read_csv(io.StringIO(now.to_csv(index=False)), dtype=str, keep_default_na=False)  # as the file would hold it
    columns = ["value"] if worded else [c for c in now.columns if c != "quantity"]
    again = {row["quantity"]: row for row in now.to_dict("records")}
    out = []
    for row in recorded.to_dict("records"):
        if row["quantity"] in again:
            for column in columns:
                if row.get(column, "") != again[row["quantity"]][column]:
                    out.append(f"summary: {row['quantity']}: {column} recorded {row.get(column)!r}, now {again[row['quantity']][column]!r}")
    return out


def reproduce(output: str | Path, workers: int | None = None) -> tuple[bool, list[str]]:
    """Rerun the forecast recorded in ``output/manifest.json`` and compare its numbers.

    Every input file must still have the checksum recorded; a changed input is an error
    naming the file, since a rerun on other data could not confirm anything.
    """
    output = Path(output)
    manifest, inputs, (snapshot, horizon, scenario, pairings, posterior, params, record) = load_record(output)
    engine = manifest.get("engine", "compiled")
    histories = None
    if inputs.get("histories"):  # --start matched: the same histories, from their seed
        from workbench.experiments.matched_histories import matched_histories

        spec = inputs["histories"]
        histories = matched_histories(
            forecast_setup(BASELINE, params, posterior, horizon, pairings, snapshot, engine), spec["tried"], spec["seed"], workers
        )
    setup = forecast_setup(scenario, params, posterior, horizon, pairings, snapshot, engine, record, histories)
    again = forecast(setup, inputs["replications"], inputs["seed"], scenario, workers, keep_events=False, keep_monthly=False)
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
    differences += _summary_differences(pd.read_csv(output / "summary.csv", dtype=str, keep_default_na=False), again.summary)
    manifest_summary = manifest.get("summary")
    recorded_manifest: dict = manifest_summary if isinstance(manifest_summary, dict) else {}
    for key in ("p_not_within_horizon", "replications"):
        if key in recorded_manifest and recorded_manifest[key] != again.summary[key]:
            differences.append(f"manifest summary: {key}: recorded {recorded_manifest[key]}, now {again.summary[key]}")
    sessions = recorded_manifest.get("p_before_session", {})
    for year, p in sessions.items() if isinstance(sessions, dict) else []:
        if again.summary["p_before_session"].get(int(year)) != p:
            differences.append(
                f"manifest summary: P(before the {year} session): recorded {p}, now {again.summary['p_before_session'].get(int(year))}"
            )
    if manifest.get("code_version") != code_version():
        differences.append(f"note: code version {manifest.get('code_version')} recorded, {code_version()} now")
    ok = not [d for d in differences if not d.startswith("note:")]
    return ok, differences


def load_record(output: Path) -> tuple[dict, dict, tuple]:
    """The manifest of a forecast folder, its inputs, and everything a rerun needs, all checked."""
    from workbench.core.errors import InputError
    from workbench.core.provenance import resolve, sha256_file

    manifest_path = output / "manifest.json"
    if not manifest_path.is_file():
        raise InputError(manifest_path, "(file)", "no manifest: not a forecast output folder", "a folder written by `workbench forecast`")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        inputs = manifest["inputs"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as err:
        raise InputError(manifest_path, "inputs", f"unreadable manifest ({err})", "a manifest written by `workbench forecast`") from None

    def checked(record: dict, what: str) -> Path:
        path = resolve(record["file"])
        if not path.is_file():
            raise InputError(path, what, "input file no longer exists", "the file the output was made from")
        if sha256_file(path) != record["sha256"]:
            raise InputError(
                path, what, "input file changed since the output was made (checksum differs)", f"sha256 {str(record['sha256'])[:12]}..."
            )
        return path

    return manifest, inputs, read_record(output, manifest_path, inputs, checked)


def read_record(output: Path, manifest_path: Path, inputs: object, checked: Callable[[dict, str], Path]) -> tuple:
    """Everything a rerun needs, checked before it starts: the record, the inputs, the outputs.
    Any damage is an :class:`InputError` naming the manifest (or the file) and the field."""
    from workbench.core.errors import InputError
    from workbench.core.provenance import resolve
    from workbench.inputs.observations import load_snapshot
    from workbench.inputs.parameters import Parameters
    from workbench.inputs.parties import load_pairings
    from workbench.inputs.posterior import load_posterior
    from workbench.inputs.record import load_record as load_review_record
    from workbench.inputs.scenarios import load_scenario

    if not isinstance(inputs, dict):
        raise InputError(manifest_path, "inputs", "not a table of inputs", "a manifest written by `workbench forecast`")
    for key in ("replications", "seed", "horizon", "observations", "scenario", "pairings", "posterior", "parameters"):
        if key not in inputs:
            raise InputError(manifest_path, f"inputs.{key}", "missing from the manifest", "a manifest written by `workbench forecast`")
    for key, low in (("replications", 1), ("seed", 0)):
        value = inputs[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InputError(manifest_path, f"inputs.{key}", f"{value!r} is not a whole number from {low} up", "the value recorded")
    for name in ("threshold.csv", "summary.csv"):
        if not (output / name).is_file():
            raise InputError(output / name, "(file)", "recorded output missing, so nothing could be compared", "the folder as written")
    try:
        snapshot = load_snapshot(checked(inputs["observations"], "observations"))
        horizon = dt.date.fromisoformat(inputs["horizon"])
        if horizon <= snapshot.as_at:
            raise InputError(
                manifest_path, "inputs.horizon", f"{horizon} is not after the snapshot date {snapshot.as_at}", "the horizon recorded"
            )
        # The scenario is checked as on the day the forecast was made (manifests before 0.7 did not
        # record it: their options could start from the snapshot date).
        made_on = dt.date.fromisoformat(inputs["made_on"]) if "made_on" in inputs else snapshot.as_at
        scenario = load_scenario(checked(inputs["scenario"], "scenario"), made_on) if inputs["scenario"].get("file") else BASELINE
        pairings = load_pairings(checked(inputs["pairings"], "pairings")) if isinstance(inputs["pairings"], dict) else None
        review_record = None
        if inputs.get("record"):  # manifests before 0.8 have no record
            for entry in inputs["record"]["files"]:
                checked(entry, "record")
            review_record = load_review_record(resolve(inputs["record"]["dir"]), made_on)
        posterior = None
        if inputs["posterior"] is not None:
            record = inputs["posterior"]
            if record.get("file") is None:
                raise InputError(manifest_path, "inputs.posterior", "made from a posterior built in memory", "a posterior folder")
            if resolve(record["file"]) != resolve(record["dir"]) / "particles.csv":
                raise InputError(manifest_path, "inputs.posterior", "its file and folder disagree", "the record as written")
            checked(record, "posterior")
            posterior = load_posterior(resolve(record["dir"]))
            if record.get("structure"):
                posterior = posterior.restricted(record["structure"])
        params = None if isinstance(inputs["parameters"], str) else Parameters.from_mapping(inputs["parameters"], str(manifest_path))
    except (KeyError, TypeError, AttributeError, ValueError) as err:
        if isinstance(err, InputError):
            raise
        raise InputError(
            manifest_path, "inputs", f"damaged record ({type(err).__name__}: {err})", "a manifest written by `workbench forecast`"
        ) from None
    return snapshot, horizon, scenario, pairings, posterior, params, review_record


#: What a spreadsheet takes for the start of a formula (OWASP's CSV-injection list): a cell of text
#: that begins with one of these is written with a leading apostrophe, which shows it as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def spreadsheet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every text cell that a spreadsheet would run as a formula made inert.

    Party and scenario names come from files others share (a pairing list, a scenario file):
    ``=HYPERLINK(...)`` or ``@cmd`` in one must reach Excel as text.  Numbers are left alone
    (a negative number is a number, not a formula)."""

    def inert(value: object) -> object:
        return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value

    out = table.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(inert)
    out.columns = [inert(c) for c in out.columns]
    return out


def spreadsheet_csv(table: pd.DataFrame) -> str:
    """A table as CSV text, safe to open in a spreadsheet (see :func:`spreadsheet_safe`)."""
    return spreadsheet_safe(table).to_csv(index=False)


def write_xlsx(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    """An Excel workbook, one sheet per table: numbers stay numbers and dates dates, whatever the
    reader's list separator (a CSV splits wrongly where the decimal sign is a comma); text that
    would be a formula stays text."""
    with pd.ExcelWriter(path, engine="openpyxl", date_format="YYYY-MM-DD", datetime_format="YYYY-MM-DD") as book:
        for name, table in sheets.items():
            spreadsheet_safe(table).to_excel(book, sheet_name=name[:31], index=False)
