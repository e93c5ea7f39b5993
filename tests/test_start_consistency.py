"""Does the forecast's start agree with history (#21)?  The comparison's statistics, and the check
itself on the shipped posterior: runs from 2020 that match the report, and the same draws started
from the report's state."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from workbench.inference.start_consistency import Z_LIMIT, compare_starts, start_consistency
from workbench.observation.matching import KEY_FIGURES, matches_report


def test_two_samples_of_one_distribution_agree_and_a_shift_of_a_few_standard_errors_does_not():
    rng = np.random.default_rng(11)
    n = 400
    same = compare_starts(pd.DataFrame({"x": rng.poisson(20, n)}), pd.DataFrame({"x": rng.poisson(20, n)})).iloc[0]
    assert same["agree"] and abs(same["z"]) <= Z_LIMIT
    # The standard error is the two samples' own: sqrt(20/400 + 20/400) = 0.32 reviews, so a shift
    # of two reviews is about six standard errors away.
    shifted = compare_starts(pd.DataFrame({"x": rng.poisson(20, n)}), pd.DataFrame({"x": rng.poisson(22, n)})).iloc[0]
    assert shifted["standard_error"] == pytest.approx(math.sqrt(20 / n + 22 / n), rel=0.15)
    assert not shifted["agree"] and shifted["z"] > Z_LIMIT


def test_a_run_matches_the_report_only_within_every_tolerance():
    state = {(name, None): value for name, (value, _, _) in KEY_FIGURES.items()}
    assert matches_report(state)
    value, tolerance, _ = KEY_FIGURES["consultations_held"]
    assert matches_report({**state, ("consultations_held", None): value + tolerance})
    assert not matches_report({**state, ("consultations_held", None): value + tolerance + 1})
    assert not matches_report({**state, ("reviews_completed", None): 1})  # none was completed (¶24)


@pytest.fixture(scope="module")
def shipped_check():
    from workbench.analysis.forecast import forecast_setup

    return start_consistency(forecast_setup(), 1500, seed=1, workers=2)


def test_enough_histories_match_the_report_and_they_complete_group_1_as_the_report_start_does(shipped_check):
    table, kept = shipped_check
    assert kept >= 100  # about one run from 2020 in eight lands on the report's key figures
    by_outcome = table.set_index("outcome")
    for outcome in ("group 1 completed after 6 years", "newly consulted after 12 months"):
        assert by_outcome.loc[outcome, "agree"], by_outcome.loc[outcome]


@pytest.mark.slow  # it shares the 1,500 paired runs of the test above, which the fast lane leaves out
@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="#21, known: the report's state holds about 22 of the 67 held-up reviews in group 1 where the histories that "
    "lead to it hold about 15, because redraws at a party's request had by then replaced many silent reviewers of group 1's "
    "reviews, which the placement does not know; strict, so that the fix makes this test fail until its mark is removed",
)
def test_the_report_state_start_continues_like_the_histories_that_lead_to_it(shipped_check):
    table, _ = shipped_check
    assert table["agree"].all(), table.to_string()


@pytest.fixture(scope="module")
def record_check():
    from workbench.analysis.forecast import forecast_setup
    from workbench.inference.start_consistency import record_start_consistency

    return record_start_consistency(forecast_setup(), 1500, seed=1, workers=2)


def test_a_start_from_each_historys_own_record_continues_like_the_history(record_check):
    """Where the placement fails (group 1's held-up reviews), a start from the record of the same
    history agrees on every outcome: nothing is placed; the redraws used, the handovers under way,
    the reviews ready and the consultations whose date is agreed are known; the parties'
    responsiveness is drawn given their nomination delays and their handovers."""
    table, kept = record_check
    assert kept >= 100
    assert table["agree"].all(), table.to_string()
