"""Monthly stage counts summarized across replications: exact, and in constant memory.

A forecast of 10,000 replications to 2060 has 13 million (replication, month, group) rows
of stage counts; fan charts and quantile tables need only their distribution across
replications.  Counts are small integers (a group has at most 64 reviews), so a histogram
per (group, month, stage) holds that distribution exactly: quantiles read from it equal
numpy's on the full table.  Each worker fills the histograms of its own replications and
the parent adds them up as chunks arrive, so memory does not grow with the number of
replications; the full per-replication table is kept only when asked for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

from workbench.observation.observe import STAGE_COLUMNS

COLUMNS = tuple(STAGE_COLUMNS.values())


@njit(cache=True)
def _add(by_group, overall, counts):
    # Month is the histograms' last axis: a count is mostly the same as the month before, so
    # consecutive increments land side by side in memory rather than a few kilobytes apart.
    for g in range(counts.shape[0]):
        for d in range(counts.shape[1]):
            for s in range(counts.shape[2]):
                by_group[g, s, counts[g, d, s], d] += 1
    for d in range(counts.shape[1]):
        for s in range(counts.shape[2]):
            total = 0
            for g in range(counts.shape[0]):
                total += counts[g, d, s]
            overall[s, total, d] += 1


@dataclass
class MonthlySummary:
    """How many replications had k reviews of a group (or of all groups) in each stage, each month."""

    dates: list[dt.date]
    by_group: np.ndarray  # (3 groups, n_stages, largest group + 1, n_months): replications with k reviews
    overall: np.ndarray  # (n_stages, n_reviews + 1, n_months), all groups together

    @classmethod
    def empty(cls, dates: list[dt.date], largest_group: int, n_reviews: int) -> MonthlySummary:
        n = len(dates)
        return cls(
            list(dates), np.zeros((3, len(COLUMNS), largest_group + 1, n), np.int64), np.zeros((len(COLUMNS), n_reviews + 1, n), np.int64)
        )

    @staticmethod
    def bytes_for(n_months: int, largest_group: int, n_reviews: int) -> int:
        """The size of a summary's two histograms."""
        return 8 * n_months * len(COLUMNS) * (3 * (largest_group + 1) + n_reviews + 1)

    def add(self, counts: np.ndarray) -> None:
        """Add one replication's ``(3 groups, n_months, n_stages)`` counts."""
        _add(self.by_group, self.overall, np.ascontiguousarray(counts, dtype=np.int64))

    def merge(self, other: MonthlySummary) -> None:
        self.by_group += other.by_group
        self.overall += other.overall

    @property
    def replications(self) -> int:
        return int(self.overall[0, :, 0].sum()) if len(self.dates) else 0

    def _histogram(self, group: int | None, column: str) -> np.ndarray:
        if column not in COLUMNS:
            raise KeyError(f"unknown stage column {column!r}; one of {', '.join(COLUMNS)}")
        s = COLUMNS.index(column)
        return (self.overall[s] if group is None else self.by_group[group - 1, s]).T  # (months, k)

    def quantiles(self, group: int | None, column: str, levels=(0.1, 0.25, 0.5, 0.75, 0.9)) -> pd.DataFrame:
        """Quantiles across replications of a stage's count, by month (``group=None``: all groups).

        Exactly numpy's default (linear) quantiles of the per-replication counts.
        """
        hist = self._histogram(group, column)
        n = self.replications
        cum = np.cumsum(hist, axis=1)  # (months, k): replications with at most k reviews
        out = {}
        for q in levels:
            h = (n - 1) * q
            lo, hi = int(np.floor(h)), int(np.ceil(h))
            x_lo = np.argmax(cum > lo, axis=1).astype(float)  # the lo-th smallest value (0-based)
            x_hi = np.argmax(cum > hi, axis=1).astype(float)
            out[q] = x_lo + (h - lo) * (x_hi - x_lo)
        return pd.DataFrame(out, index=pd.to_datetime(np.array(self.dates, dtype="datetime64[D]")))

    def mean(self, group: int | None, column: str) -> pd.Series:
        hist = self._histogram(group, column)
        values = hist @ np.arange(hist.shape[1]) / max(self.replications, 1)
        return pd.Series(values, index=pd.to_datetime(np.array(self.dates, dtype="datetime64[D]")), name=column)

    def to_frame(self, levels=(0.1, 0.25, 0.5, 0.75, 0.9)) -> pd.DataFrame:
        """Tidy quantiles: one row per (date, group, stage, quantile); group 0 is all groups."""
        frames = []
        for group in (None, 1, 2, 3):
            for column in COLUMNS:
                q = self.quantiles(group, column, levels)
                long = q.rename_axis("date").reset_index().melt(id_vars="date", var_name="quantile", value_name="reviews")
                long.insert(1, "group", 0 if group is None else group)
                long.insert(2, "stage", column)
                frames.append(long)
        return pd.concat(frames, ignore_index=True)
