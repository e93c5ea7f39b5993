"""What both engines start from and hand back: the initial state and the record of a run.

Kept apart from the SimPy model so that the observation operator, the initial states and
the compiled engine can use them without importing SimPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from workbench.simulation.compiled import borrows_arrays
from workbench.simulation.stages import N_STAGES, STAGES, Stage

__all__ = ["N_STAGES", "STAGES", "InitialState", "RunRecord", "Stage", "age_at_start", "focal_point_at_start"]


@dataclass
class InitialState:
    """Where everything stands when the clock starts.

    ``history`` starts every review at its group's start date with no focal points;
    :func:`workbench.simulation.snapshot.report_start` builds the state the report describes.
    Times are simulation days; ``-inf`` means "before the records begin".
    """

    day: float
    label: str
    review_stage: np.ndarray  # (n_reviews,) Stage, or -1 for a review whose group has not started
    review_entered: np.ndarray  # (n_reviews, N_STAGES) days of entry already known
    review_deadline: np.ndarray  # (n_reviews, N_STAGES) agreed deadlines already set
    review_languages: np.ndarray  # (n_reviews,) languages agreed, 0 if not yet
    saq_lateness: np.ndarray  # (n_reviews,) days late (negative: early) of SAQs already submitted
    party_nominated_at: np.ndarray  # (n_parties,) NaN if not yet
    party_first_replaced_at: np.ndarray  # (n_parties,) NaN if never
    party_responsiveness: np.ndarray | None = None  # None: draw from the population
    party_silent: np.ndarray | None = None
    # The repeated draws of lots each review has used, and the day its wait for a reviewing
    # State began (its group's start or its last redraw), where a record says so; None: taken
    # from how long the review has waited (rules.redraws_before), as a report does not say.
    review_redraws_used: np.ndarray | None = None
    review_waiting_since: np.ndarray | None = None
    # The day a party's focal point left, where its successor had not yet taken over when the
    # clock started (a record that follows handovers); None or NaN: every focal point in place.
    party_in_handover_since: np.ndarray | None = None
    # The day the current stage's own work was done, for a review waiting for (or with) the
    # Secretariat when the clock started (a consultation whose date is agreed); NaN: under way.
    review_work_done_at: np.ndarray | None = None
    group_start: dict[int, float] = field(default_factory=dict)


@dataclass
class RunRecord:
    """What one replication did: the raw material of every table and observation."""

    start_day: float
    end_day: float
    entered: np.ndarray  # (n_reviews, N_STAGES) day each review entered each stage (NaN: never)
    deadline: np.ndarray  # (n_reviews, N_STAGES) agreed deadline of the stage (NaN: none)
    languages: np.ndarray  # (n_reviews,)
    saq_lateness: np.ndarray  # (n_reviews,) days
    nominated_at: np.ndarray  # (n_parties,)
    first_replaced_at: np.ndarray  # (n_parties,)
    replacements: np.ndarray  # (n_parties,) replacements during the run
    redraw_log: np.ndarray  # (k, 5) rows of (day, review, slot, old party, new party)
    handover_log: np.ndarray  # (k, 3) rows of (party, start day, end day; inf if unfinished)
    threshold_day: float  # day group 1 reached its completion target (NaN: not within horizon)
    events: int  # stage entries, nominations, replacements and redraws recorded
    draws: int  # uniforms drawn from the streams during the run (the random durations and choices)
    work_done: np.ndarray | None = None  # (n_reviews, N_STAGES) day each stage's own work was done (NaN: not)

    @property
    def redraws(self) -> list[tuple[float, int, int, int, int]]:
        """The redraws as tuples (day, review, slot, old party, new party)."""
        log = self.redraw_log
        return list(zip(log[:, 0].tolist(), *(log[:, k].astype(int).tolist() for k in range(1, 5))))

    @property
    def handovers(self) -> list[tuple[int, float, float]]:
        """The focal-point handovers as tuples (party, start day, end day)."""
        log = self.handover_log
        return list(zip(log[:, 0].astype(int).tolist(), log[:, 1].tolist(), log[:, 2].tolist()))


# --- how both engines read an initial state --------------------------------------------------
@borrows_arrays
def focal_point_at_start(nominated_at: float) -> bool:
    """The party had its focal point when the clock started: nominated on a known day, or before
    the records begin (-inf); NaN is "not yet"."""
    return math.isfinite(nominated_at) or nominated_at == -math.inf


@borrows_arrays
def age_at_start(entered: float, day: float) -> float:
    """How long a stage entered on ``entered`` had been under way on ``day`` (0 if its entry is not known)."""
    return max(0.0, day - entered) if math.isfinite(entered) else 0.0
