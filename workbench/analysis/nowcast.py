"""The nowcast: where the model believes the reviews stand today.

The public figures end with the report's state as at 21 May 2024, and a forecast is made
years later.  What happened in between is not observed, so the forecast's own futures are
the best account of it: the distribution, across replications, of how many reviews are in
each stage on the first of the month in which the forecast is made.  It comes from the
monthly counts every forecast already keeps (:class:`~workbench.observation.summaries.MonthlySummary`),
so it costs nothing and agrees with the fan charts to the digit.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from workbench.core.errors import InputError
from workbench.observation.summaries import COLUMNS, MonthlySummary

#: The central interval shown beside the median.
NOWCAST_INTERVAL = (0.10, 0.90)


def nowcast_month(summary: MonthlySummary, day: dt.date) -> dt.date:
    """The month start the nowcast for ``day`` reads: the last one on or before it."""
    known = [d for d in summary.dates if d <= day]
    if not known:
        first = summary.dates[0] if summary.dates else None
        raise InputError("nowcast", "day", f"{day} is before the forecast's first month", f"on or after {first}")
    return known[-1]


def nowcast(summary: MonthlySummary, day: dt.date, group: int | None = 1) -> pd.DataFrame:
    """Reviews of ``group`` (``None``: all groups) in each stage on the month start on or before
    ``day``, across the forecast's replications: median, 80 % interval, mean and the mean's
    Monte Carlo standard error (the spread of the count divided by the square root of the runs).

    The quantiles are numpy's (linear) quantiles of the per-replication counts, exactly.
    """
    month = nowcast_month(summary, day)
    d = summary.dates.index(month)
    low, high = NOWCAST_INTERVAL
    n = summary.replications
    rows = []
    for column in COLUMNS:
        q = summary.quantiles(group, column, (low, 0.5, high)).iloc[d]
        counts = (summary.overall if group is None else summary.by_group[group - 1])[COLUMNS.index(column), :, d]
        k = np.arange(len(counts))
        mean = float(counts @ k) / n
        sd = float(np.sqrt(max(counts @ (k - mean) ** 2 / max(n - 1, 1), 0.0)))
        rows.append(
            {
                "stage": column,
                "median": float(q[0.5]),
                "low": float(q[low]),
                "high": float(q[high]),
                "mean": mean,
                "mean_se": sd / np.sqrt(n),
            }
        )
    table = pd.DataFrame(rows)
    table.attrs.update(as_at=month, group=group, replications=n)
    return table
