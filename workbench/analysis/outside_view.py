"""The forecast beside the outside view: group 1's share of reviews completed against years since
its launch, set against how far sister mechanisms had got at the same age.

The model's band comes from a forecast's monthly summary (each replication's count of group 1's
reviews completed, first day of each month); the reference class from
:mod:`workbench.inputs.reference_class`.  Where the sister mechanisms stood at an age, the table
gives the model's median and central 80 % at the same age, so a reader sees at once whether the
forecast is slower or faster than what happened elsewhere, and by how much.  It checks
plausibility; it is fitted to nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.core.timeline import DAYS_PER_YEAR, EPOCH
from workbench.inputs.reference_class import ReferenceClass
from workbench.observation.summaries import MonthlySummary

#: The quantiles of the model's band: the central 80 % and the median.
BAND = (0.1, 0.5, 0.9)


def model_band(summary: MonthlySummary, group_size: int, group: int = 1) -> pd.DataFrame:
    """Group ``group``'s share of reviews completed, by years since 1 December 2020 (¶22): columns
    ``years``, ``low``, ``median``, ``high`` (the 10th, 50th and 90th percentiles across runs)."""
    q = summary.quantiles(group, "completed", BAND)
    years = (q.index - pd.Timestamp(EPOCH)).days / DAYS_PER_YEAR
    return pd.DataFrame(
        {
            "date": q.index,
            "years": np.asarray(years, float),
            **{name: q[level].to_numpy() / group_size for name, level in zip(("low", "median", "high"), BAND)},
        }
    )


def plan_share(years: np.ndarray | float, years_per_review: float) -> np.ndarray:
    """The UNTOC Mechanism's own plan: every review of group 1 completed ``years_per_review`` years
    after the launch (before that, none: the plan dates the end, not a pace)."""
    return np.where(np.asarray(years) >= years_per_review, 1.0, 0.0)


def comparison(reference: ReferenceClass, band: pd.DataFrame) -> pd.DataFrame:
    """One row per point of the reference class: its age and share, and the model's median and
    central 80 % for group 1 at the same age (empty where the forecast does not reach that age)."""
    rows = []
    first, last = band["years"].iloc[0], band["years"].iloc[-1]
    for mechanism in (*reference.mechanisms, reference.untoc):
        for point in mechanism.points:
            years = mechanism.years(point)
            inside = first <= years <= last
            at = {k: float(np.interp(years, band["years"], band[k])) if inside else np.nan for k in ("low", "median", "high")}
            rows.append(
                {
                    "mechanism": mechanism.name,
                    "as_at": point.as_at,
                    "years_since_launch": round(years, 2),
                    "finished": point.finished,
                    "of": point.of,
                    "share": round(point.share, 4),
                    "model_median": round(at["median"], 4),
                    "model_low": round(at["low"], 4),
                    "model_high": round(at["high"], 4),
                    "source": point.source,
                }
            )
    return pd.DataFrame(rows)


def age_reaching(band: pd.DataFrame, share: float, column: str = "median") -> float | None:
    """The first age (years since launch) at which the band's ``column`` reaches ``share``; None if it never does."""
    reached = band.loc[band[column] >= share, "years"]
    return None if reached.empty else float(reached.iloc[0])
