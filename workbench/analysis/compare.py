"""Scenario comparisons on common random numbers, critical reviews, and time spent by stage.

Baseline and scenario run on the same seeds, so replication *i* of both shares its parties'
responsiveness, its pairings and every stage draw: the difference in their 70 % dates is
the lever's effect in that replication.  Runs that do not reach the condition within the
horizon are never dropped: the comparison reports the change in the probability of
reaching it by each Conference session, the months gained among runs where both reach it,
and the share of runs where only one of them does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.timeline import CONFERENCE_SESSIONS, DAYS_PER_MONTH, sessions_after
from workbench.experiments.replications import Results


def _days(threshold: pd.DataFrame, horizon: dt.date) -> np.ndarray:
    """Crossing day of each replication since 1970; the horizon for runs that did not cross."""
    cap = (pd.Timestamp(horizon) - pd.Timestamp("1970-01-01")).days
    days = (threshold["date"] - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype=float)
    return np.where(threshold["reached"].to_numpy(), days, cap)


def paired_differences(base: Results, scenario: Results) -> pd.DataFrame:
    """Per replication: both dates, who reached, and months gained (positive: scenario earlier)."""
    if not np.array_equal(base.threshold["replication"], scenario.threshold["replication"]) or base.seed != scenario.seed:
        raise ValueError("paired comparison needs the same seed and replications for baseline and scenario")
    horizon = base.setup.horizon
    b, s = _days(base.threshold, horizon), _days(scenario.threshold, horizon)
    return pd.DataFrame(
        {
            "replication": base.threshold["replication"],
            "baseline_reached": base.threshold["reached"].to_numpy(),
            "scenario_reached": scenario.threshold["reached"].to_numpy(),
            "baseline_date": base.threshold["date"],
            "scenario_date": scenario.threshold["date"],
            # Censored at the horizon: a lower bound on the gain when only the scenario reaches.
            "months_gained_censored": (b - s) / DAYS_PER_MONTH,
        }
    )


def compare(base: Results, scenario: Results, name: str, sessions: dict[int, dt.date] = CONFERENCE_SESSIONS) -> dict:
    """The paired comparison of one scenario against the baseline, as one row of numbers."""
    d = paired_differences(base, scenario)
    both = d["baseline_reached"] & d["scenario_reached"]
    gained = d.loc[both, "months_gained_censored"].to_numpy()
    censored = d["months_gained_censored"].to_numpy()
    row: dict[str, Any] = {
        "scenario": name,
        "replications": len(d),
        "months_gained_median": float(np.median(censored)),
        "months_gained_p10": float(np.quantile(censored, 0.10)),
        "months_gained_p90": float(np.quantile(censored, 0.90)),
        "both_reach": float(both.mean()),
        "months_gained_if_both_median": float(np.median(gained)) if len(gained) else np.nan,
        "months_gained_if_both_p10": float(np.quantile(gained, 0.10)) if len(gained) else np.nan,
        "months_gained_if_both_p90": float(np.quantile(gained, 0.90)) if len(gained) else np.nan,
        "only_scenario_reaches": float((d["scenario_reached"] & ~d["baseline_reached"]).mean()),
        "only_baseline_reaches": float((d["baseline_reached"] & ~d["scenario_reached"]).mean()),
        "neither_reaches": float((~d["scenario_reached"] & ~d["baseline_reached"]).mean()),
    }
    for year, day in sessions.items():
        cut = pd.Timestamp(day)
        met_base = (base.threshold["reached"] & (base.threshold["date"] < cut)).to_numpy()
        met_scen = (scenario.threshold["reached"] & (scenario.threshold["date"] < cut)).to_numpy()
        row[f"p_by_{year}_baseline"] = float(met_base.mean())
        row[f"p_by_{year}"] = float(met_scen.mean())
        row[f"p_by_{year}_change"] = float(met_scen.mean() - met_base.mean())
        row[f"p_by_{year}_change_se"] = paired_standard_error(met_scen, met_base)
    within_base = base.threshold["reached"].to_numpy()
    within_scen = scenario.threshold["reached"].to_numpy()
    row["p_within_horizon_baseline"] = float(within_base.mean())
    row["p_within_horizon"] = float(within_scen.mean())
    row["p_within_horizon_change"] = float(within_scen.mean() - within_base.mean())
    row["p_within_horizon_change_se"] = paired_standard_error(within_scen, within_base)
    row["months_gained_mean"] = float(censored.mean())
    row["months_gained_mean_se"] = float(censored.std(ddof=1) / np.sqrt(len(censored))) if len(censored) > 1 else np.nan
    return row


def paired_standard_error(scenario: np.ndarray, baseline: np.ndarray) -> float:
    """Monte Carlo standard error of a difference of two probabilities estimated on the same runs:
    the spread of the per-run differences, which common random numbers keep small."""
    d = scenario.astype(float) - baseline.astype(float)
    return float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("nan")


#: Below this many paired runs, a change of a few points in a probability is within its noise.
FEW_REPLICATIONS = 400


def comparison_table(base: Results, scenarios: dict[str, Results]) -> pd.DataFrame:
    """One row per scenario, ranked by median months gained (censored at the horizon)."""
    rows = [compare(base, res, name) for name, res in scenarios.items()]
    table = pd.DataFrame(rows)
    return table.sort_values(["months_gained_median", "p_within_horizon_change"], ascending=False).reset_index(drop=True)


def critical_reviews(results: Results, target: int | None = None) -> pd.DataFrame:
    """The critical path, review by review: which group-1 reviews decide the condition, and when.

    For each group-1 review: where it stands at the start, the probability that it is among the
    first ``target`` completed (the 44 that meet the condition) and that it is completed before
    each Conference session still to come, with their Monte Carlo standard errors
    (sqrt(p(1-p)/n)), its median completion date (empty where half the runs do not complete it
    by the horizon), and where it is most often stuck at the horizon when not completed.  Most
    likely among the first ``target`` first.  With synthetic pairings (drawn per replication)
    review ids do not name the same parties across replications; a record or a real pairing list
    gives names.
    """
    if results.events is None:
        raise ValueError("critical reviews need the per-review events (run with keep_events=True)")
    setup, n = results.setup, results.replications
    target = setup.completion_target if target is None else target
    ev = results.events[results.events["group"] == 1]
    completed = ev[ev["stage"] == "completed"][["replication", "review", "date"]].sort_values(["replication", "date"])
    completed["rank"] = completed.groupby("replication").cumcount() + 1
    reviews = sorted(ev["review"].unique())
    start = pd.Timestamp(setup.start_date)
    share = {"p_among_first_" + str(target): completed[completed["rank"] <= target].groupby("review").size()}
    for year, session in sessions_after(setup.start_date).items():
        if session < setup.horizon:
            share[f"p_completed_before_{year}_session"] = completed[completed["date"] < pd.Timestamp(session)].groupby("review").size()
    table = pd.DataFrame({"review": reviews})
    table["stage_at_start"] = _stage_at(ev, reviews, start)
    for name, counts in share.items():
        p = counts.reindex(reviews, fill_value=0).to_numpy() / n
        table[name], table[name + "_se"] = p, np.sqrt(p * (1 - p) / n)
    table["median_completion"] = _median_completion(completed, reviews, n)
    last_stage = ev.sort_values("date").groupby(["replication", "review"])["stage"].last()
    stuck = last_stage[last_stage != "completed"].reset_index()
    modal = stuck.groupby("review")["stage"].agg(lambda s: s.value_counts().index[0]) if len(stuck) else pd.Series(dtype=object)
    table["most_often_stuck_at"] = [modal.get(r, "") for r in reviews]
    if setup.pairings is not None:
        pairings = setup.pairings
        names = {pairings.review_ids[r]: [pairings.parties[p] for p in pairings.members(r)] for r in range(pairings.n_reviews)}
        table.insert(1, "party_under_review", [names[r][0] for r in reviews])
        table.insert(2, "reviewers", [", ".join(names[r][1:]) for r in reviews])
    return table.sort_values(f"p_among_first_{target}", ascending=False, kind="stable").reset_index(drop=True)


def _stage_at(events: pd.DataFrame, reviews: list, day: pd.Timestamp) -> list[str]:
    """The stage each review was in on ``day`` (the same in every run: the start is given), or
    "not started"; with a placed start the stage differs between runs and the most frequent is shown."""
    before = events[events["date"] <= day].sort_values("date").groupby(["replication", "review"])["stage"].last().reset_index()
    modal = before.groupby("review")["stage"].agg(lambda s: s.value_counts().index[0]) if len(before) else pd.Series(dtype=object)
    return [str(modal.get(r, "not started")) for r in reviews]


def _median_completion(completed: pd.DataFrame, reviews: list, n: int) -> list:
    """Each review's median completion date over all ``n`` runs (runs that never complete it count
    as after the horizon), or None where that median lies after the horizon."""
    out = []
    by_review = {r: np.sort(frame["date"].to_numpy()) for r, frame in completed.groupby("review")}
    for r in reviews:
        dates = by_review.get(r, np.array([], dtype="datetime64[ns]"))
        k = (n - 1) // 2  # the lower median of n values, the missing ones last
        out.append(pd.Timestamp(dates[k]).date() if k < len(dates) else None)
    return out


def time_in_stage(results: Results) -> pd.DataFrame:
    """Mean months reviews spent in each stage (entered within the run), by group.

    Time in a stage runs from its entry to the next stage's entry, or to the horizon for
    reviews still in it; stages entered before the run's start are not counted.
    """
    if results.events is None:
        raise ValueError("time in stage needs the per-review events (run with keep_events=True)")
    ev = results.events.sort_values(["replication", "review", "date"]).copy()
    start = pd.Timestamp(results.setup.start_date)
    end = pd.Timestamp(results.setup.horizon)
    ev["next"] = ev.groupby(["replication", "review"])["date"].shift(-1).fillna(end)
    ev = ev[(ev["stage"] != "completed") & (ev["date"] >= start)]
    ev["months"] = (ev["next"] - ev["date"]).dt.days / DAYS_PER_MONTH
    table = ev.groupby(["group", "stage"], observed=True)["months"].agg(["mean", "median", "count"]).reset_index()
    return table.rename(columns={"mean": "mean_months", "median": "median_months", "count": "stage_visits"})
