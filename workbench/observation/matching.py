"""Which runs from 2020 lead to the report's state: its key figures, each within a tolerance.

A run from 1 December 2020 that ends, on the report's date, near every one of the report's key
figures is one of the histories that could have produced the report.  The forecast's start is
checked against such histories (:mod:`workbench.inference.start_consistency`), and can start from
them (:mod:`workbench.experiments.matched_histories`).
"""

from __future__ import annotations

#: The report's figures a history must reproduce to count as leading to the report's state, with
#: the distance allowed: about two Poisson standard deviations, at least 2 (¶ as cited).
KEY_FIGURES: dict[str, tuple[int, int, str]] = {
    "consultations_held": (78, 18, "¶26"),
    "reviews_held_up_by_nominations": (67, 16, "¶15"),
    "parties_without_focal_point": (26, 10, "¶15"),
    "reviews_lists_of_observations": (6, 5, "¶38"),
    "reviews_completed": (0, 0, "¶24"),
}


def matches_report(state: dict) -> bool:
    """Whether a run's state on the report's date is within tolerance of every key figure."""
    return all(abs(state[(name, None)] - value) <= tolerance for name, (value, tolerance, _) in KEY_FIGURES.items())
