"""The calibration's distance: how far a run's figures are from the reports', in the model's own units.

Each statistic is a figure of one dated report as a run shows it (a count, or a share of its
total: :class:`~workbench.inference.simulator.StatisticTable`).  The distance is the L1 sum of
each statistic's distance outside its reported range, divided by its **scale**:

* **the spread the model's runs give it** (Prangle 2017, pyabc's :class:`AdaptivePNormDistance`):
  the median absolute deviation of the statistic over the previous generation's accepted runs
  (the prior's runs for the first), refitted every generation.  The earlier fixed scale,
  sqrt(count), was two to five times smaller than the runs' own spread for the large counts and
  weighed a miss by chance like a miss by the parameters;
* **floored at its resolution** (half a count, or half of one in its total for a share), so a
  statistic that every run gives alike cannot weigh without bound;
* **with each report's share capped** (:data:`REPORT_SHARE_CAP`): if one report's statistics
  would carry more of the generation's mean distance than the cap, they are scaled down to it.
  Without the cap the report of May 2024, with 24 of the 28 statistics, carried 95 % of the
  distance and the four earlier dates, which say how the Mechanism got there, 5 %.

Scales come from the population pyabc stores, so a resumed run sees the same distance as an
uninterrupted one (the calibration rebuilds its pyabc run from the database every generation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyabc

from workbench.inference.simulator import StatisticTable

#: The most of the distance any one dated report may carry.  The report of May 2024 is one date of
#: five: it may decide at most half of the fit, so that the path through the earlier dates (which
#: a cross-section cannot give) is weighed too.
REPORT_SHARE_CAP = 0.5


@dataclass(frozen=True)
class Weights:
    """One generation's weight of each statistic and each report's resulting share of the mean distance."""

    weights: np.ndarray  # per statistic: 1 / scale, times its report's cap factor
    scales: np.ndarray  # per statistic: the runs' spread, floored at its resolution
    shares: np.ndarray  # per report: its share of the mean distance over the runs the weights came from


def outside(values: np.ndarray, table: StatisticTable) -> np.ndarray:
    """How far each value lies outside its reported range (0 inside), whatever its sign."""
    return np.abs(values - np.clip(values, table.low, table.high))


def spread_weights(values: np.ndarray, table: StatisticTable, n_reports: int, cap: float = REPORT_SHARE_CAP) -> Weights:
    """Weights from runs' values ``(runs, statistics)``: the inverse of each statistic's median
    absolute deviation (at least its resolution), then each report's weights scaled down until
    its share of the runs' mean distance is at most ``cap`` (a report cannot be capped where the
    others carry nothing)."""
    median = np.median(values, axis=0)
    scales = np.maximum(np.median(np.abs(values - median), axis=0), table.resolution)
    weights = 1.0 / scales
    contribution = (outside(values, table) * weights).mean(axis=0)  # each statistic's mean term
    factor = np.ones(n_reports)
    for _ in range(n_reports):  # lowering one report raises the others' shares
        per_report = np.bincount(table.date, contribution, minlength=n_reports) * factor
        total = per_report.sum()
        over = np.flatnonzero(per_report > cap * total * (1 + 1e-9))
        if total <= 0 or not len(over):
            break
        for r in over:
            others = total - per_report[r]
            if others > 0:
                factor[r] *= cap * others / ((1 - cap) * per_report[r])
    weights = weights * factor[table.date]
    capped = np.bincount(table.date, contribution * factor[table.date], minlength=n_reports).astype(float)
    shares = capped / capped.sum() if capped.sum() > 0 else np.full(n_reports, 1.0 / n_reports)
    return Weights(weights, scales, shares)


class SpreadScaledDistance(pyabc.AdaptivePNormDistance):
    """pyabc's adaptive L1 distance over a :class:`StatisticTable`'s ranges: the statistics a run
    returns are its values; the distance is each one's distance outside its range over its
    scale (:func:`spread_weights`), refitted every generation on the accepted runs."""

    def __init__(self, table: StatisticTable, n_reports: int, cap: float = REPORT_SHARE_CAP):
        super().__init__(p=1, all_particles_for_scale=False)  # fit_scales below replaces its scale function
        self.table = table
        self.n_reports = n_reports
        self.cap = cap
        self.fitted: dict[int, Weights] = {}

    def fit_scales(self, t: int, sample: Any) -> None:
        values = np.array([[p.sum_stat[k] for k in self.table.keys] for p in sample.accepted_particles], dtype=float)
        self.fitted[t] = spread_weights(values, self.table, self.n_reports, self.cap)
        self.scale_weights[t] = self.fitted[t].weights

    def weights_at(self, t: int) -> Weights:
        """The weights fitted for generation ``t`` (the latest fitted before it, as pyabc's own)."""
        earlier = [k for k in self.fitted if k <= t]
        return self.fitted[max(earlier) if earlier else min(self.fitted)]

    def __call__(self, x: dict, x_0: dict, t: int | None = None, par: dict | None = None) -> float:
        values = np.fromiter((x[k] for k in self.table.keys), float, len(self.table.keys))
        return float(np.sum(outside(values, self.table) * self.weights_at(t if t is not None else max(self.fitted)).weights))

    def get_config(self) -> dict:
        return {"name": "SpreadScaledDistance", "p": 1, "report_share_cap": self.cap, "scale": "median absolute deviation, floored"}


def distance_of(weights: Weights, table: StatisticTable) -> Callable[[np.ndarray], np.ndarray]:
    """The distance of runs' values ``(runs, statistics)`` under one generation's weights."""
    return lambda values: (outside(np.atleast_2d(values), table) * weights.weights).sum(axis=1)
