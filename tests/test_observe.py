"""The observation operator counts a run in the report's categories as the report defines them.

The operator is compiled (calibration observes every run it simulates); here each category is
read again, plainly, from the report's definitions with numpy, and the two must agree on every
category, group and date of runs from 2020 and from the report's state.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from workbench.core.timeline import months, to_day
from workbench.inputs.report_categories import CATEGORIES, LISTS_AGE_BUCKETS, REVIEW_CATEGORIES
from workbench.observation.observe import observe_dates, stage_at
from workbench.simulation.stages import Stage

from conftest import make_setup, run_many

DATES = [dt.date(2021, 6, 1), dt.date(2022, 11, 1), dt.date(2023, 5, 29), dt.date(2024, 4, 5), dt.date(2024, 5, 21), dt.date(2031, 1, 1)]


def plain_review_categories(record, days: np.ndarray) -> dict[str, np.ndarray]:
    """Each review category as a boolean (review, day) table, straight from the report's wording."""
    days = days[None, :]
    stage = stage_at(record, days[0])
    entered, deadline = record.entered, record.deadline
    held = stage >= Stage.SAQ
    languages = record.languages[:, None]
    submitted = entered[:, Stage.WRITTEN_FEEDBACK, None] <= days
    late = record.saq_lateness[:, None]
    in_feedback = stage == Stage.WRITTEN_FEEDBACK
    overdue = days - deadline[:, Stage.WRITTEN_FEEDBACK, None]
    in_lists = (stage == Stage.LISTS) | (stage == Stage.SUMMARIES)
    lists_age = days - entered[:, Stage.LISTS, None]
    out = {
        "reviews_not_started": stage == -1,
        "reviews_held_up_by_nominations": stage == Stage.NOMINATIONS,
        "reviews_ready_no_consultation": stage == Stage.CONSULTATION,
        "reviews_not_commenced": (stage == Stage.NOMINATIONS) | (stage == Stage.CONSULTATION),
        "reviews_saq_in_preparation": stage == Stage.SAQ,
        "reviews_written_feedback_in_progress": in_feedback,
        "reviews_lists_of_observations": in_lists,
        "reviews_advancing": held & (stage < Stage.COMPLETED),
        "reviews_completed": stage == Stage.COMPLETED,
        "consultations_held": held,
        "consultations_one_language": held & (languages == 1),
        "consultations_two_languages": held & (languages == 2),
        "consultations_three_languages": held & (languages == 3),
        "saq_submitted": submitted,
        "saq_on_time": submitted & (late <= 0),
        "saq_within_10_days": submitted & (late > 0) & (late <= 10),
        "saq_up_to_3_months": submitted & (late > 10) & (late <= months(3)),
        "saq_3_to_6_months": submitted & (late > months(3)) & (late <= months(6)),
        "saq_over_6_months": submitted & (late > months(6)),
        "saq_over_1_year": submitted & (late > months(12)),
        "feedback_concluded": entered[:, Stage.LISTS, None] <= days,
        "feedback_late": in_feedback & (overdue > 0),
        "feedback_late_over_1_year": in_feedback & (overdue > months(12)),
        "lists_past_time_frame": in_lists & (days > deadline[:, Stage.LISTS, None]),
    }
    for name, lo, hi in LISTS_AGE_BUCKETS:
        out[name] = in_lists & (lists_age > months(lo)) & (lists_age <= months(hi))
    return out


def plain_observation(record, pairings, date: dt.date) -> dict:
    day = np.array([to_day(date)])
    seen = {}
    for name, flags in plain_review_categories(record, day).items():
        seen[(name, None)] = int(flags.sum())
        for g in (1, 2, 3):
            seen[(name, g)] = int(flags[pairings.group == g].sum())
    nominated = record.nominated_at <= day[0]
    seen[("parties_with_focal_point", None)] = int(nominated.sum())
    seen[("parties_without_focal_point", None)] = int((~nominated).sum())
    seen[("parties_replaced_focal_point", None)] = int((nominated & (record.first_replaced_at <= day[0])).sum())
    seen[("reviewers_redrawn", None)] = int((record.redraw_log[:, 0] <= day[0]).sum()) if len(record.redraw_log) else 0
    seen[("reviews_total", None)] = pairings.n_reviews
    seen[("parties_total", None)] = pairings.n_parties
    return seen


def test_every_category_is_named_once_and_read_plainly_here(snapshot):
    assert len(set(CATEGORIES)) == len(CATEGORIES)
    record, _, _ = run_many(make_setup(), 1, seed=1)[0]
    assert set(plain_review_categories(record, np.array([to_day(snapshot.as_at)]))) == set(REVIEW_CATEGORIES)


@pytest.mark.parametrize("start", ["history", "report"])
def test_the_compiled_operator_counts_as_the_report_defines(snapshot, start):
    runs = run_many(make_setup(start=start, horizon=dt.date(2032, 1, 1)), 12, seed=21)
    dates = DATES if start == "history" else [d for d in DATES if d >= snapshot.as_at]
    for record, pairings, _ in runs:
        for date, seen in zip(dates, observe_dates(record, pairings, dates)):
            assert seen == plain_observation(record, pairings, date), date
