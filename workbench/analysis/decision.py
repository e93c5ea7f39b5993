"""The Conference's decision in numbers: how far would the condition of ¶25 have to come down?

The condition does not change how reviews run, only how they are counted (¶25: the next
cluster may start once 70 % of group 1's reviews are completed).  So one set of replications
answers it for every share at once: in each run, the day the *k*-th review of the counted
groups reached the counted stage, for every *k*.  The probability of meeting a share before a
session falls as the share rises, so the largest share still met with probability *p* is a
one-dimensional search along that curve, with and without a package of levers, on the same
seeds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pandas as pd

from workbench.core.timeline import EPOCH, to_day
from workbench.experiments.condition import COUNTED_STAGES
from workbench.experiments.replications import run_replications
from workbench.experiments.setup import Setup
from workbench.inputs.levers import Condition, Levers


def stage_entries(setup: Setup, levers: Levers, replications: int, seed: int, workers: int | None) -> pd.DataFrame:
    """Every review's stage entries in each run: the one simulation a curve needs, whatever it counts."""
    results = run_replications(
        dataclasses.replace(setup, levers=levers), replications, seed=seed, workers=workers, keep_events=True, keep_monthly=False
    )
    assert results.events is not None
    return results.events


def reach_days(events: pd.DataFrame, setup: Setup, replications: int, groups: tuple[int, ...], counted_stage: str) -> np.ndarray:
    """(replications, reviews of ``groups``): the day each review reached ``counted_stage`` or a
    later stage, sorted within each run (inf: not within the run)."""
    ev = events[events["group"].isin(groups) & (events["stage"].cat.codes >= int(COUNTED_STAGES[counted_stage]))]
    first = ev.groupby(["replication", "review"], observed=True)["date"].min()
    days = (first - pd.Timestamp(EPOCH)).dt.total_seconds() / 86400.0  # simulation days, as to_day counts them
    n_reviews = sum(group.reviews for g, group in setup.report.groups.items() if g in groups)
    out = np.full((replications, n_reviews), np.inf)
    for r, per_run in days.groupby(level="replication"):
        values = np.sort(per_run.to_numpy())
        out[int(r), : len(values)] = values
    return np.sort(out, axis=1)


def met_days(sorted_reach: np.ndarray, k: int, start_day: float, decided: dt.date | None, old_rule: np.ndarray | None) -> np.ndarray:
    """Per run, the day the condition "k reviews" is met (inf: not within the run), the ¶25 rule
    standing until a decision date if there is one (as :func:`workbench.experiments.condition.condition_day`)."""
    new = sorted_reach[:, k - 1]
    if decided is None:
        return np.maximum(new, start_day)
    decided_day = to_day(decided)
    assert old_rule is not None
    old = np.where(old_rule < decided_day, np.maximum(old_rule, start_day), np.inf)
    return np.minimum(old, np.maximum(new, decided_day))


def decision_curve(
    setup: Setup,
    before: dict[str, dt.date],
    levers: dict[str, Levers] | None = None,
    replications: int = 500,
    seed: int = 1,
    groups: tuple[int, ...] = (1,),
    counted_stage: str = "completed",
    decided: dt.date | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """P(met before each date of ``before``) for every share the Conference could set, tidy:
    one row per (package, share).  ``levers`` names packages (default: the baseline alone)."""
    levers = levers or {"baseline": Levers()}
    horizon_day = to_day(setup.horizon)
    rows = []
    old_rule = None
    for name, package in levers.items():
        events = stage_entries(setup, package, replications, seed, workers)
        reach = reach_days(events, setup, replications, groups, counted_stage)
        if decided is not None:  # today's rule (¶25) stands until the decision: its crossing, from the same runs
            completed = reach_days(events, setup, replications, (1,), "completed")
            old_rule = completed[:, math.ceil(round(Condition().share * completed.shape[1], 9)) - 1]
        n = reach.shape[1]
        for k in range(1, n + 1):
            day = met_days(reach, k, setup.start_day, decided, old_rule)
            day = np.where(day <= horizon_day, day, np.inf)
            row = {"package": name, "reviews_needed": k, "share": k / n, "replications": replications}
            for label, date in before.items():
                row[f"p_before_{label}"] = float(np.mean(day < to_day(date)))
            rows.append(row)
    return pd.DataFrame(rows)


def largest_share(curve: pd.DataFrame, column: str, probability: float) -> pd.DataFrame:
    """Per package: the largest share the Conference could set and still have ``column`` (a
    ``p_before_...`` probability) at least ``probability``; NaN where even one review is not enough.

    The curve falls as the share rises, so this is a bisection along it."""
    rows = []
    for name, one in curve.groupby("package", sort=False):
        one = one.sort_values("reviews_needed")
        p = one[column].to_numpy()
        lo, hi = 0, len(p)  # invariant: p[i] >= probability for i < lo; p[i] < probability for i >= hi
        while lo < hi:
            mid = (lo + hi) // 2
            if p[mid] >= probability:
                lo = mid + 1
            else:
                hi = mid
        best = one.iloc[lo - 1] if lo else None
        rows.append(
            {
                "package": name,
                "largest_share": float(best["share"]) if best is not None else math.nan,
                "reviews_needed": int(best["reviews_needed"]) if best is not None else 0,
                "probability": float(best[column]) if best is not None else float(p[0]),
            }
        )
    return pd.DataFrame(rows)
