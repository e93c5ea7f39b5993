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

#: Figures the report gives that the model does not express, kept in the files for the reader (the
#: nominations of ¶15 counted as people, not parties; experts; parties with several focal points).
DOCUMENTED_ONLY = ("focal_points_nominated", "governmental_experts", "parties_with_several_focal_points")

#: Every figure name an observations file may hold: a misspelt one would otherwise be dropped in silence.
KNOWN_FIGURES = (*CATEGORIES, *DOCUMENTED_ONLY)

#: The report's splits of a total (¶24-39): the parts may not add up to more than the total, whether
#: or not a file declares the split as ``[[sum]]``.
SPLITS = (
    ("reviews_total", ("reviews_not_commenced", "reviews_advancing", "reviews_completed")),
    ("reviews_not_commenced", ("reviews_held_up_by_nominations", "reviews_ready_no_consultation")),
    ("reviews_advancing", ("reviews_saq_in_preparation", "reviews_written_feedback_in_progress", "reviews_lists_of_observations")),
    ("consultations_held", ("consultations_one_language", "consultations_two_languages", "consultations_three_languages")),
    ("saq_submitted", tuple(name for name, _, _ in SAQ_LATENESS_BUCKETS if name != "saq_over_1_year")),
    ("reviews_lists_of_observations", tuple(name for name, _, _ in LISTS_AGE_BUCKETS)),
)

#: Counts that only grow: a later report may not give fewer (a review completed stays completed).
CUMULATIVE = (
    "reviews_completed",
    "consultations_held",
    "saq_submitted",
    "feedback_concluded",
    "reviewers_redrawn",
    "parties_replaced_focal_point",
    "reviews_total",
)

#: The largest value a figure may have: every count of the Mechanism is of reviews, parties,
#: meetings or reviewers, at most a few hundred; a value of 1e308 is a mistake, not a count.
MAX_FIGURE = 10_000
