"""What to measure next: a figure that is a function of what drives the headline ranks first, one
independent of everything ranks last, and the forecast's own figures are ranked on its runs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from workbench.analysis.what_to_measure import ALL_TOGETHER, FIGURES, outcomes_of, rank_figures, what_to_measure
from workbench.core.timeline import to_day
from workbench.experiments.setup import default_setup
from workbench.inputs.parameters import Parameters

N = 4000


def test_a_function_of_the_driver_ranks_first_and_an_independent_figure_last():
    rng = np.random.default_rng(5)
    driver = rng.uniform(0, 1, N)
    y = pd.DataFrame({"date": 3 * driver + rng.normal(0, 0.3, N), "met": (driver + rng.normal(0, 0.2, N) < 0.4).astype(float)})
    figures = pd.DataFrame(
        {
            "independent": rng.normal(0, 1, N),
            "noisy_driver": driver + rng.normal(0, 0.5, N),
            "driver_itself": np.exp(driver),  # a deterministic (monotone) function of the driver
        }
    )
    table = rank_figures(figures, y, seed=1)
    order = [f for f in table["figure"] if f != ALL_TOGETHER]
    assert order == ["driver_itself", "noisy_driver", "independent"]
    s1 = table.set_index("figure")
    # The driver explains Var(3 U) / (Var(3 U) + 0.09) = 0.75 / 0.84 of the date's spread.
    assert abs(s1.loc["driver_itself", "S1_date"] - 0.75 / 0.84) < 3 * s1.loc["driver_itself", "S1_date_conf"] + 0.02
    assert s1.loc["independent", "S1_date"] < 2 * s1.loc["independent", "S1_date_conf"] + 0.01


def test_outcomes_count_runs_that_never_meet_the_condition_at_the_horizon():
    today, horizon = dt.date(2026, 12, 2), dt.date(2060, 12, 31)
    days = np.array([np.nan, to_day(dt.date(2040, 1, 1))])
    out = outcomes_of(days, today, horizon)
    assert out["years_to_70_percent"].iloc[0] > out["years_to_70_percent"].iloc[1] > 0
    assert list(out.columns) == ["years_to_70_percent", "met_before_2028_session", "met_before_2030_session"]


def test_the_forecasts_figures_are_ranked_on_its_runs():
    setup = default_setup(params=Parameters(), horizon=dt.date(2060, 12, 31))
    result = what_to_measure(setup, dt.date(2026, 12, 2), replications=300, seed=2, workers=1)
    assert set(result.ranking["figure"]) == set(FIGURES) | {ALL_TOGETHER}
    assert result.ranking["S1_years_to_70_percent"].between(0, 1).all()
    assert len(result.runs) == 300 and (result.runs["completed_group_1"] <= 62).all()
