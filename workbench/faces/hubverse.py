"""Forecasts in the hubverse model-output layout, so forecasting hubs' tools can read and score them.

One row per (task, output type, output type id):

* ``target = "condition_reached"``: ``output_type = "cdf"``, ``output_type_id`` a date
  (first of each month to the horizon), ``value`` = P(the condition is met by that date);
* ``target = "reviews_in_stage"``: ``output_type = "quantile"`` with ``output_type_id``
  the quantile level, ``value`` the number of reviews of ``group`` in ``stage`` on
  ``target_date`` (1 October of each Conference year and of 2035-2060 by five years);
* ``target = "years_to_condition"``: ``output_type = "sample"``, one row per replication,
  ``value`` the years from the reference date; empty when not met within the horizon.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from workbench.core.timeline import sessions_after
from workbench.experiments.replications import Results
from workbench.observation.summaries import COLUMNS as SUMMARY_COLUMNS

QUANTILE_LEVELS = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)
COLUMNS = ["model_id", "reference_date", "target", "group", "stage", "target_date", "output_type", "output_type_id", "value"]


def hubverse_table(results: Results, model_id: str = "untoc-review-workbench") -> pd.DataFrame:
    reference = results.setup.start_date
    horizon = results.setup.horizon
    rows = []
    months = pd.date_range(pd.Timestamp(reference) + pd.offsets.MonthBegin(1), pd.Timestamp(horizon), freq="MS")
    reached, dates = results.threshold["reached"].to_numpy(), results.threshold["date"]
    for day in months:
        p = float(np.mean(reached & (dates <= day).to_numpy()))
        rows.append((model_id, reference, "condition_reached", "", "", "", "cdf", day.date().isoformat(), p))

    years = sorted({*sessions_after(reference), *range(2035, horizon.year + 1, 5)})
    target_dates = [pd.Timestamp(dt.date(y, 10, 1)) for y in years if dt.date(y, 10, 1) <= horizon]
    summary = results.monthly_summary
    quantiles = {(g, stage): summary.quantiles(g, stage, QUANTILE_LEVELS) for g in (1, 2, 3) for stage in SUMMARY_COLUMNS}
    for day in (d for d in target_dates if d in quantiles[(1, "completed")].index):
        for g in (1, 2, 3):
            for stage in SUMMARY_COLUMNS:
                at = quantiles[(g, stage)].loc[day]
                for level in QUANTILE_LEVELS:
                    rows.append(
                        (model_id, reference, "reviews_in_stage", g, stage, day.date().isoformat(), "quantile", level, float(at[level]))
                    )

    years_to = results.threshold["years_from_start"].to_numpy()
    for rep, value in zip(results.threshold["replication"], years_to):
        rows.append(
            (model_id, reference, "years_to_condition", "", "", "", "sample", int(rep), float(value) if np.isfinite(value) else np.nan)
        )
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["reference_date"] = pd.to_datetime(table["reference_date"]).dt.date.astype(str)
    return table
