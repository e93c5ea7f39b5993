"""What to measure next: which figure, published or extracted today, would narrow the forecast most.

A preposterior analysis.  The forecast's own runs (each with its posterior draw and its own
future) are observed on today's date in the terms the Secretariat could publish or extract
from its record: group 1's reviews in each stage and completed, the parties still without a
focal point, the redraws since the report, how long the SAQs submitted since the report took.
Learning one of them would move the forecast to the runs that agree with it; how much of the
headline's spread that removes, on average over what the figure could turn out to be, is the
figure's first-order index S1 = Var(E[headline | figure]) / Var(headline), estimated from the
runs alone by the same given-data estimator as the sensitivity analysis (SALib's
equal-frequency partition, Plischke 2010).  The headline is the 70 % date (runs that do not
meet it counted at the horizon) and the chance of meeting it before each session still to come.

All the figures together are scored by the out-of-sample R^2 of a regression of the headline
on them (fitted on half the runs, scored on the other half): a lower bound of what the whole
record, which holds more than these figures, would explain.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings

import numpy as np
import pandas as pd

from workbench.core.timeline import DAYS_PER_MONTH, DAYS_PER_YEAR, sessions_after, to_day
from workbench.core.translatable import N_
from workbench.experiments.setup import Setup, simulate
from workbench.experiments.workers import default_workers, parallel_map
from workbench.simulation.schema import RunRecord, Stage
from workbench.simulation.streams import replication_seeds

#: Each figure: in a planner's words, and what measuring it takes.
FIGURES = {
    "completed_group_1": (N_("group 1's reviews completed"), N_("a count the Secretariat can publish")),
    "held_up_group_1": (N_("group 1's reviews held up by nominations"), N_("a count by group and stage")),
    "ready_group_1": (N_("group 1's reviews ready, consultation not yet held"), N_("a count by group and stage")),
    "saq_group_1": (N_("group 1's reviews preparing the SAQ"), N_("a count by group and stage")),
    "feedback_group_1": (N_("group 1's reviews in written feedback"), N_("a count by group and stage")),
    "lists_group_1": (N_("group 1's reviews agreeing lists or summaries"), N_("a count by group and stage")),
    "parties_without_focal_point": (N_("parties still without a focal point"), N_("a count the Secretariat can publish")),
    "redraws_since_report": (N_("reviewers redrawn since May 2024"), N_("the record of redraws")),
    "saq_months_since_report": (N_("months the SAQs submitted since May 2024 took (median)"), N_("per-review durations of one stage")),
}
ALL_TOGETHER = "all these figures together"
_STAGE_FIGURES = {
    "held_up_group_1": (Stage.NOMINATIONS,),
    "ready_group_1": (Stage.CONSULTATION,),
    "saq_group_1": (Stage.SAQ,),
    "feedback_group_1": (Stage.WRITTEN_FEEDBACK,),
    "lists_group_1": (Stage.LISTS, Stage.SUMMARIES),
}


def figures_of(run: RunRecord, group: np.ndarray, day: float) -> dict[str, float]:
    """The run's figures on ``day`` (see :data:`FIGURES`)."""
    entered = run.entered
    reached = np.where(entered <= day, np.arange(entered.shape[1])[None, :], -1).max(axis=1)  # the stage each review is in
    in_group_1 = group == 1
    out = {"completed_group_1": float(np.sum(in_group_1 & (reached == Stage.COMPLETED)))}
    for name, stages in _STAGE_FIGURES.items():
        out[name] = float(np.sum(in_group_1 & np.isin(reached, [int(s) for s in stages])))
    out["parties_without_focal_point"] = float(np.sum(~(run.nominated_at <= day)))  # NaN: none yet
    out["redraws_since_report"] = float(np.sum(run.redraw_log[:, 0] <= day)) if len(run.redraw_log) else 0.0
    submitted = (entered[:, Stage.WRITTEN_FEEDBACK] > run.start_day) & (entered[:, Stage.WRITTEN_FEEDBACK] <= day)
    took = (entered[submitted, Stage.WRITTEN_FEEDBACK] - entered[submitted, Stage.SAQ]) / DAYS_PER_MONTH
    out["saq_months_since_report"] = float(np.median(took)) if len(took) else 0.0  # none submitted: a figure of its own
    return out


def _observe_runs(setup: Setup, indices: list[int], seed: int, today: float) -> list[dict]:
    seeds = replication_seeds(seed, indices)
    rows = []
    for sequence in seeds:
        run, pairings, _ = simulate(setup, sequence)
        rows.append({**figures_of(run, pairings.group, today), "threshold_day": run.threshold_day})
    return rows


@dataclasses.dataclass(frozen=True)
class WhatToMeasure:
    runs: pd.DataFrame  # one row per run: its figures today and its headline
    ranking: pd.DataFrame  # one row per figure, most informative first
    outcomes: dict[str, str]  # the headline quantities, in words
    today: dt.date


def outcomes_of(threshold_day: np.ndarray, today: dt.date, horizon: dt.date) -> pd.DataFrame:
    """The headline quantities of each run: years from today to the 70 % date (at the horizon if
    not met), and whether it is met before each session still to come."""
    reached = np.isfinite(threshold_day)
    out = {"years_to_70_percent": (np.where(reached, threshold_day, to_day(horizon)) - to_day(today)) / DAYS_PER_YEAR}
    for year, session in sessions_after(today).items():
        if session < horizon:
            out[f"met_before_{year}_session"] = (reached & (threshold_day < to_day(session))).astype(float)
    return pd.DataFrame(out)


def rank_figures(figures: pd.DataFrame, outcomes: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """Each figure's S1 on each outcome (with its confidence half-width), and all together's
    out-of-sample R^2; ranked by the first outcome.  An outcome with no spread has nothing to
    narrow: its S1 are 0."""
    from SALib.analyze import delta

    varying = [c for c in figures.columns if np.ptp(figures[c].to_numpy()) > 0]
    problem = {"num_vars": len(varying), "names": varying, "bounds": [[float(figures[c].min()), float(figures[c].max())] for c in varying]}
    table = pd.DataFrame({"figure": list(figures.columns)})
    for outcome in outcomes.columns:
        y = outcomes[outcome].to_numpy(dtype=float)
        s1 = dict.fromkeys(figures.columns, 0.0)
        conf = dict.fromkeys(figures.columns, 0.0)
        if np.ptp(y) > 0 and varying:
            with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)  # SALib's delta on a rare outcome: its S1 is what counts
                result = delta.analyze(problem, figures[varying].to_numpy(dtype=float), y, method="sobol", num_resamples=100, seed=seed)
            s1.update(zip(varying, np.clip(result["S1"], 0.0, 1.0)))
            conf.update(zip(varying, result["S1_conf"]))
        table[f"S1_{outcome}"] = table["figure"].map(s1)
        table[f"S1_{outcome}_conf"] = table["figure"].map(conf)
    together: dict[str, str | float] = {"figure": ALL_TOGETHER}
    for outcome in outcomes.columns:
        together[f"S1_{outcome}"] = _held_out_r2(figures[varying].to_numpy(dtype=float), outcomes[outcome].to_numpy(dtype=float), seed)
        together[f"S1_{outcome}_conf"] = np.nan
    table = pd.concat([table, pd.DataFrame([together])], ignore_index=True)
    first = f"S1_{outcomes.columns[0]}"
    table["date_spread_narrowed"] = 1.0 - np.sqrt(1.0 - table[first].clip(0, 1))
    return table.sort_values(first, ascending=False, kind="stable").reset_index(drop=True)


def _held_out_r2(x: np.ndarray, y: np.ndarray, seed: int) -> float:
    """R^2 on half the runs of a least-squares fit (figures and their squares) on the other half."""
    if np.ptp(y) == 0 or x.shape[1] == 0:
        return 0.0
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    fit, test = order[: len(y) // 2], order[len(y) // 2 :]
    scale = x[fit].std(axis=0) + 1e-12
    z = (x - x[fit].mean(axis=0)) / scale
    design = np.column_stack([np.ones(len(y)), z, z**2])
    coef, *_ = np.linalg.lstsq(design[fit], y[fit], rcond=None)
    residual = y[test] - design[test] @ coef
    return float(max(0.0, 1.0 - np.sum(residual**2) / np.sum((y[test] - y[test].mean()) ** 2)))


def what_to_measure(setup: Setup, today: dt.date, replications: int = 2000, seed: int = 1, workers: int | None = None) -> WhatToMeasure:
    """Run the forecast ``replications`` times, observe each run today, and rank the figures."""
    workers = default_workers() if workers is None else workers
    chunks = [c.tolist() for c in np.array_split(np.arange(replications), max(1, min(replications, workers * 4))) if len(c)]
    parts = parallel_map(_observe_runs, [(setup, c, seed, to_day(today)) for c in chunks], workers)
    runs = pd.DataFrame([row for part in parts for row in part])
    outcomes = outcomes_of(runs["threshold_day"].to_numpy(dtype=float), today, setup.horizon)
    ranking = rank_figures(runs[list(FIGURES)], outcomes, seed)
    ranking.insert(1, "in plain words", ranking["figure"].map(lambda f: FIGURES.get(f, (f,))[0]))
    ranking.insert(2, "what it takes", ranking["figure"].map(lambda f: FIGURES.get(f, ("", "the record holds them all"))[1]))
    words = {"years_to_70_percent": "the 70 % date"} | {c: f"P(met before the {c.split('_')[2]} session)" for c in outcomes.columns[1:]}
    return WhatToMeasure(pd.concat([runs, outcomes], axis=1), ranking, words, today)
