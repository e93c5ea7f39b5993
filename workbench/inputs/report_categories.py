"""The report's categories: the figures a status report gives, and the bounds of their buckets.

The names are those of the figures in ``calibration/observations/``.  The observation operator
(:mod:`workbench.observation.observe`) counts a run in them; the report's start
(:mod:`workbench.simulation.snapshot`) places reviews so that they hold; both read the bounds
here, so a bucket is defined once.
"""

from __future__ import annotations

import math

from workbench.core.timeline import months

#: The age buckets of lists of observations (¶39), in months since the lists began (lower bound
#: excluded, upper included).
LISTS_AGE_BUCKETS = (
    ("lists_started_over_30_months_before", 30.0, math.inf),
    ("lists_started_18_to_30_months_before", 18.0, 30.0),
    ("lists_started_6_to_18_months_before", 6.0, 18.0),
    ("lists_started_under_6_months_before", 0.0, 6.0),
)

#: How late the submitted SAQs were (¶31), in days after the agreed deadline (lower bound
#: excluded, upper included); "over one year" is a part of "over six months".
SAQ_LATENESS_BUCKETS = (
    ("saq_on_time", -math.inf, 0.0),
    ("saq_within_10_days", 0.0, 10.0),
    ("saq_up_to_3_months", 10.0, months(3)),
    ("saq_3_to_6_months", months(3), months(6)),
    ("saq_over_6_months", months(6), math.inf),
    ("saq_over_1_year", months(12), math.inf),
)

#: Written feedback in progress counted as late (¶36): past its deadline, and more than a year past it.
FEEDBACK_LATE_OVER = (("feedback_late", 0.0), ("feedback_late_over_1_year", months(12)))

#: Review categories, counted in all and per group.
REVIEW_CATEGORIES = (
    "reviews_not_started",
    "reviews_held_up_by_nominations",
    "reviews_ready_no_consultation",
    "reviews_not_commenced",
    "reviews_saq_in_preparation",
    "reviews_written_feedback_in_progress",
    "reviews_lists_of_observations",
    "reviews_advancing",
    "reviews_completed",
    "consultations_held",
    "consultations_one_language",
    "consultations_two_languages",
    "consultations_three_languages",
    "saq_submitted",
    *(name for name, _, _ in SAQ_LATENESS_BUCKETS),
    "feedback_concluded",
    *(name for name, _ in FEEDBACK_LATE_OVER),
    *(name for name, _, _ in LISTS_AGE_BUCKETS),
    "lists_past_time_frame",
)

#: Party categories, counted over all parties.
PARTY_CATEGORIES = ("parties_with_focal_point", "parties_without_focal_point", "parties_replaced_focal_point")

#: Whole-mechanism figures: reviewing States replaced by a repeated draw (¶6-7), and the totals.
MECHANISM_CATEGORIES = ("reviewers_redrawn", "reviews_total", "parties_total")

#: Every figure the model expresses, in the order of the observation table's columns.
CATEGORIES = (*REVIEW_CATEGORIES, *PARTY_CATEGORIES, *MECHANISM_CATEGORIES)
CATEGORY_INDEX = {name: k for k, name in enumerate(CATEGORIES)}
