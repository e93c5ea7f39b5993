"""The forecast users ask for: when will 44 of group 1's 62 reviews be completed?

Each replication's own crossing date is the unit of every probability; runs that do not
cross within the horizon are kept, counted as "not within horizon", and sort after every
date, so a quantile that falls among them is reported as such rather than dropped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.core.errors import InputError
from workbench.core.provenance import display_path, file_record
from workbench.core.timeline import CONFERENCE_SESSIONS, today
from workbench.experiments.matched_histories import MatchedHistories
from workbench.experiments.replications import Results, run_replications
from workbench.experiments.setup import DEFAULT_HORIZON, Setup, default_setup
from workbench.experiments.workers import Progress
from workbench.inputs.observations import Snapshot
from workbench.inputs.parameters import HAND_SET, Parameters
from workbench.inputs.parties import Pairings
from workbench.inputs.posterior import Posterior, shipped_posterior
from workbench.inputs.record import RECORD_FILES, ReviewRecord
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
    by_structure: pd.DataFrame | None = None  # the same forecast on each model structure alone, if asked
    made_on: dt.date = field(default_factory=today)  # the forecast's date: options act from then on

    @property
    def threshold(self) -> pd.DataFrame:
        return self.results.threshold

    def nowcast(self, group: int | None = 1) -> pd.DataFrame:
        """Where the model believes the reviews stand on the forecast's date (:mod:`workbench.analysis.nowcast`)."""
        from workbench.analysis.nowcast import nowcast

        return nowcast(self.results.monthly_summary, self.made_on, group)


def _quantile_date(days_since_epoch: np.ndarray, q: float) -> pd.Timestamp | None:
    """Empirical quantile of crossing dates; None when it falls among runs past the horizon."""
    return _date_of(np.quantile(days_since_epoch, q, method="inverted_cdf"))


def _median_monte_carlo_range(days: np.ndarray, z: float = 1.96) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """How far the median date could move with other seeds: the dates of ranks n/2 -/+ z*sqrt(n)/2,
    the order-statistic interval that covers the true median with about 95 % (binomial)."""
    n = len(days)
    ordered = np.sort(days)
    half = z * np.sqrt(n) / 2
    low, high = max(int(np.floor(n / 2 - half)), 0), min(int(np.ceil(n / 2 + half)), n - 1)
    return _date_of(ordered[low]), _date_of(ordered[high])


def _date_of(day: float) -> pd.Timestamp | None:
    return None if not np.isfinite(day) else pd.Timestamp("1970-01-01") + pd.Timedelta(days=float(day))


def summarize_threshold(threshold: pd.DataFrame, horizon: dt.date, sessions: dict[int, dt.date] = CONFERENCE_SESSIONS) -> dict:
    """Median, intervals and probabilities of the 70 % date from each run's crossing date."""
    n = len(threshold)
    dates = threshold["date"]
    days = np.where(threshold["reached"], (dates - pd.Timestamp("1970-01-01")).dt.days, np.inf).astype(float)
    summary = {
        "replications": n,
        "horizon": horizon.isoformat(),
        "median": _quantile_date(days, 0.5),
        "median_monte_carlo_95": _median_monte_carlo_range(days),
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
    if "median_monte_carlo_95" in summary:
        lo, hi = summary["median_monte_carlo_95"]
        rows.append(("median, Monte Carlo range (95%)", f"{_fmt(lo)} to {_fmt(hi)}"))
    for label, (lo, hi) in summary["intervals"].items():
        rows.append((f"{label} interval", f"{_fmt(lo)} to {_fmt(hi)}"))
    for year, p in summary["p_before_session"].items():
        rows.append((f"P(reached before the {year} Conference session, 1 Oct {year})", f"{p:.1%}"))
    rows.append((f"P(not reached by {summary['horizon']})", f"{summary['p_not_within_horizon']:.1%}"))
    return pd.DataFrame(rows, columns=["quantity", "value"])


def numeric_summary(summary: dict) -> pd.DataFrame:
    """The summary for a spreadsheet: one row per quantity, probabilities as numbers and dates as
    dates (empty where a quantile lies beyond the horizon, with a note), nothing as worded text."""
    rows: list[dict] = [{"quantity": "replications", "probability": None, "date": None, "count": summary["replications"], "note": ""}]

    def date_row(name: str, value: pd.Timestamp | None) -> dict:
        note = "" if value is not None else f"beyond the horizon ({summary['horizon']})"
        return {"quantity": name, "probability": None, "date": None if value is None else value.date(), "count": None, "note": note}

    rows.append(date_row("median", summary["median"]))
    if "median_monte_carlo_95" in summary:
        lo, hi = summary["median_monte_carlo_95"]
        rows += [date_row("median, Monte Carlo range, lower", lo), date_row("median, Monte Carlo range, upper", hi)]
    for label, (lo, hi) in summary["intervals"].items():
        rows += [date_row(f"{label} interval, lower", lo), date_row(f"{label} interval, upper", hi)]
    for year, p in summary["p_before_session"].items():
        rows.append(
            {"quantity": f"P(met before the {year} session, 1 Oct {year})", "probability": p, "date": None, "count": None, "note": ""}
        )
    rows.append(
        {
            "quantity": f"P(not met by {summary['horizon']})",
            "probability": summary["p_not_within_horizon"],
            "date": None,
            "count": None,
            "note": "",
        }
    )
    return pd.DataFrame(rows)


def forecast_setup(
    scenario: Scenario = BASELINE,
    params: Parameters | None = None,
    posterior: Posterior | str | None = "shipped",
    horizon: dt.date = DEFAULT_HORIZON,
    pairings: Pairings | None = None,
    snapshot: Snapshot | None = None,
    engine: str = "compiled",
    record: ReviewRecord | None = None,
    histories: MatchedHistories | None = None,
) -> Setup:
    """What a forecast runs: from the report's state (or ``record``'s) to ``horizon``, under ``scenario``.

    ``posterior="shipped"`` draws each replication's parameters from the committed posterior
    (when one has been shipped), so the intervals carry parameter uncertainty; ``None`` runs
    every replication on ``params`` (default: the hand-set values).  The scenario's settings
    apply on top of either, and the parameters it sets are not redrawn.  ``engine="simpy"``
    runs the SimPy reference model instead of the compiled engine (same results, slower).
    """
    if isinstance(posterior, str):
        if posterior != "shipped":
            raise ValueError("posterior must be a Posterior, 'shipped' or None")
        posterior = shipped_posterior()
    try:
        return default_setup(
            params=scenario.apply(params or Parameters()),
            start="report",
            horizon=horizon,
            pairings=pairings,
            snapshot=snapshot,
            posterior=posterior,
            fixed=tuple(scenario.changes),
            levers=scenario.levers,
            condition=scenario.condition,
            engine=engine,
            record=record,
            histories=histories,
        )
    except InputError as err:  # a lever after the horizon: name the scenario's file, not "scenario"
        if err.source != "scenario" or scenario.path is None:
            raise
        raise InputError(scenario.path, err.field, err.problem, err.allowed) from None


def forecast(
    setup: Setup | None = None,
    replications: int = 500,
    seed: int = 1,
    scenario: Scenario = BASELINE,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    keep_events: bool = True,
    keep_monthly: bool = True,
    by_structure: bool = False,
) -> Forecast:
    """Forecast: ``replications`` runs of ``setup`` from ``seed`` (default: :func:`forecast_setup`
    of ``scenario``, on the shipped posterior).  ``scenario`` names the scenario the setup was made
    for, in the forecast's record.

    ``keep_events`` and ``keep_monthly`` keep the per-replication tables; without them memory
    stays flat in the number of replications (the monthly distribution always streams into
    ``results.monthly_summary``).  ``by_structure`` adds :attr:`Forecast.by_structure`: the
    forecast rerun on each model structure of the posterior alone, with the same seed.
    """
    setup = setup or forecast_setup(scenario)
    made_on = today()
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
    fc = Forecast(
        results,
        summarize_threshold(results.threshold, setup.horizon),
        _parameters_label(setup, scenario),
        scenario.name,
        _record(setup, scenario, replications, seed, keep_events, made_on),
        made_on=made_on,
    )
    posterior = setup.posterior
    if by_structure and posterior is not None and posterior.structure_names():
        per = {
            name: forecast(
                dataclasses.replace(setup, posterior=posterior.restricted(name)),
                replications,
                seed,
                scenario,
                workers,
                scheduler,
                keep_events=False,
                keep_monthly=False,
            ).summary
            for name in posterior.structure_names()
        }
        fc.by_structure = structure_table(fc.summary, per, posterior.structure_probabilities())
    return fc


def _hand_set(setup: Setup, scenario: Scenario) -> bool:
    """The setup runs on the hand-set parameters (with what the scenario sets)."""
    return setup.params == scenario.apply(Parameters())


def _parameters_label(setup: Setup, scenario: Scenario) -> str:
    """What the forecast's parameters are, in words: the posterior's label, or hand-set values."""
    if setup.posterior is not None:
        return setup.posterior.label
    return HAND_SET if _hand_set(setup, scenario) else "parameters given by the caller"


def _record(setup: Setup, scenario: Scenario, replications: int, seed: int, keep_events: bool, made_on: dt.date) -> dict:
    """The forecast's inputs, as its output folder's manifest records them."""
    posterior = setup.posterior
    return {
        "made_on": made_on.isoformat(),  # the scenario was checked against it: no option before it
        "replications": replications,
        "seed": seed,
        "horizon": setup.horizon.isoformat(),
        "keep_events": keep_events,
        "observations": file_record(setup.report.path),
        "scenario": {
            "name": scenario.name,
            "changes": dict(scenario.changes),
            **(file_record(scenario.path) if scenario.path else {"file": None}),
        },
        "pairings": _pairings_record(setup),
        "record": None if setup.record is None else record_files_record(setup.record.path),
        "histories": None
        if setup.histories is None
        else {
            "tried": setup.histories.tried,
            "seed": setup.histories.seed,
            "kept": len(setup.histories.records),
            "runs": setup.histories.runs,
            "unmatched": setup.histories.unmatched,
        },
        "posterior": None if posterior is None else _posterior_record(posterior),
        "parameters": "posterior" if posterior is not None else ("hand-set" if _hand_set(setup, scenario) else setup.params.as_dict()),
    }


def _pairings_record(setup: Setup) -> dict | str:
    pairings = setup.pairings
    if setup.record is not None:
        return "the record's"
    return file_record(pairings.source) if pairings is not None and Path(pairings.source).is_file() else "synthetic"


def record_files_record(folder: Path) -> dict:
    """A review record's folder and the checksum of each of its files."""
    return {"dir": display_path(folder), "files": [file_record(folder / name) for name in RECORD_FILES]}


def structure_table(average: dict, per_structure: dict[str, dict], probabilities: dict[str, float]) -> pd.DataFrame:
    """The headline quantities side by side: the model average, then each structure alone."""
    rows = []
    for name, summary in [("model average", average), *per_structure.items()]:
        row = {
            "structure": name,
            "probability": 1.0 if name == "model average" else probabilities.get(name, 0.0),
            "replications": summary["replications"],
            "median": _fmt(summary["median"]),
        }
        for year, p in summary["p_before_session"].items():
            row[f"p_before_{year}_session"] = p
        row["p_not_within_horizon"] = summary["p_not_within_horizon"]
        rows.append(row)
    return pd.DataFrame(rows)


def _posterior_record(posterior: Posterior) -> dict:
    """Where the posterior came from: its folder and the checksum of its particles (and the
    structure it was restricted to), or a note that it was built in memory."""
    particles = Path(posterior.path) / "particles.csv"
    record: dict = {"dir": display_path(posterior.path)}
    record.update(file_record(particles) if particles.is_file() else {"file": None, "note": "built in memory, not from a file"})
    if posterior.only:
        record["structure"] = posterior.only
    return record
