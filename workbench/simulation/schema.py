"""What both engines start from and hand back: the initial state and the record of a run.

Kept apart from the SimPy model so that the observation operator, the initial states and
the compiled engine can use them without importing SimPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from workbench.core.errors import InputError
from workbench.inputs.levers import Levers
from workbench.inputs.parameters import Parameters
from workbench.simulation.special import gamma_quantile
from workbench.simulation.stages import N_STAGES, STAGES, Stage
from workbench.simulation.streams import ReplicationStreams

__all__ = ["N_STAGES", "STAGES", "InitialState", "RunRecord", "Stage", "check_staffing", "party_traits", "responsiveness_from_uniform"]


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


def responsiveness_from_uniform(u: np.ndarray, shape: float, extra_rate: np.ndarray | float = 0.0) -> np.ndarray:
    """Gamma(shape, rate = shape + extra_rate) by inversion: mean 1 when ``extra_rate`` is 0.

    ``extra_rate`` = nomination_rate x time waited gives the responsiveness of a party that
    has been waiting that long without nominating (gamma-Poisson conjugacy).
    """
    u = np.atleast_1d(np.asarray(u, dtype=float))
    if math.isinf(shape):
        return np.ones_like(u)
    return _gamma_quantiles(u, shape, np.broadcast_to(np.asarray(extra_rate, dtype=float), u.shape))


@njit(cache=True)
def _gamma_quantiles(u: np.ndarray, shape: float, extra_rate: np.ndarray) -> np.ndarray:
    out = np.empty(u.shape[0])
    for i in range(u.shape[0]):
        out[i] = gamma_quantile(shape, u[i]) / (shape + extra_rate[i])
    return out


def party_traits(initial: InitialState, streams: ReplicationStreams, params: Parameters) -> tuple[np.ndarray, np.ndarray]:
    """Each party's responsiveness and whether it is silent: the initial state's, or drawn
    from the population (the first two uniforms of each party's responsiveness stream)."""
    if initial.party_responsiveness is not None and initial.party_silent is not None:
        return initial.party_responsiveness, initial.party_silent
    u, u_silent = streams.first_draws("responsiveness", 2)
    return responsiveness_from_uniform(u, params.responsiveness_shape), u_silent < params.silent_share


def check_staffing(params: Parameters, levers: Levers) -> None:
    """A staffing lever may not leave the Secretariat without officers."""
    staffing = levers.secretariat_staffing
    if staffing is not None and params.secretariat_officers + staffing.officers_change < 1:
        raise InputError(
            "scenario",
            "levers.secretariat_staffing.officers_change",
            f"{staffing.officers_change} would leave {params.secretariat_officers + staffing.officers_change} officers",
            f"at least {1 - params.secretariat_officers} with {params.secretariat_officers} officers",
        )
