"""Initial states: the start of the cycle in 2020, or the state the report describes.

The forecast starts from the report's own account of 21 May 2024 rather than replaying
history from 2020: the report gives the counts by stage, who has nominated and how old the
work in progress is, and a forecast that began elsewhere would contradict what delegations
have read.  The report does not name *which* reviews are where, so each replication draws
an assignment that reproduces every count exactly (the stage counts of ¶15, ¶23, ¶29, the
26 silent parties holding up 67 reviews, the lists by group of ¶38, the ages of ¶36 and
¶39, the languages of ¶28 and the SAQ lateness buckets of ¶31); the uncertainty about the
assignment then flows into the forecast like any other.

:func:`history_start` is the other initial state: every review at its group's start with
no focal points, as calibration needs it.
"""

from __future__ import annotations

import math

import numpy as np

from workbench.core.errors import InputError
from workbench.core.timeline import GROUP_STARTS, months, to_day
from workbench.inputs.observations import Snapshot
from workbench.inputs.parameters import Parameters
from workbench.inputs.parties import Pairings, first_involvement
from workbench.simulation.schema import N_STAGES, InitialState, Stage, responsiveness_from_uniform
from workbench.simulation.streams import ReplicationStreams

# Stage numbers as plain ints: this module indexes arrays with them in loops.
NOMINATIONS, CONSULTATION, SAQ, WRITTEN_FEEDBACK, LISTS = (
    int(Stage.NOMINATIONS),
    int(Stage.CONSULTATION),
    int(Stage.SAQ),
    int(Stage.WRITTEN_FEEDBACK),
    int(Stage.LISTS),
)
MIN_HISTORY = months(1.0)  # nothing is placed earlier than a month after its group started
MIN_BEFORE_LISTS = months(6.0)  # nominations, consultation, SAQ and feedback take at least this

#: The age buckets of lists of observations (¶39), in months since the lists began.
LISTS_AGE_BUCKETS = (
    ("lists_started_over_30_months_before", 30.0, math.inf),
    ("lists_started_18_to_30_months_before", 18.0, 30.0),
    ("lists_started_6_to_18_months_before", 6.0, 18.0),
    ("lists_started_under_6_months_before", 0.0, 6.0),
)


def group_start_days(snapshot: Snapshot | None = None) -> dict[int, float]:
    if snapshot is not None and snapshot.groups:
        return {g: to_day(grp.start) for g, grp in snapshot.groups.items()}
    return {g: to_day(d) for g, d in GROUP_STARTS.items()}


def history_start(pairings: Pairings, group_start: dict[int, float] | None = None) -> InitialState:
    """1 December 2020: no focal points, every review waiting for its group to start (¶22)."""
    group_start = group_start or group_start_days()
    n, m = pairings.n_reviews, pairings.n_parties
    return InitialState(
        day=min(group_start.values()),
        label="history from 2020-12-01",
        review_stage=np.full(n, -1),
        review_entered=np.full((n, N_STAGES), np.nan),
        review_deadline=np.full((n, N_STAGES), np.nan),
        review_languages=np.zeros(n, dtype=int),
        saq_lateness=np.full(n, np.nan),
        party_nominated_at=np.full(m, np.nan),
        party_first_replaced_at=np.full(m, np.nan),
        group_start=group_start,
    )


def _count(snapshot: Snapshot, name: str, group: int | None = None) -> int:
    value = snapshot.value(name, group)
    if value != int(value):
        raise InputError(snapshot.path, name, f"{value} is not a whole count", "a whole number")
    return int(value)


def choose_silent_parties(pairings: Pairings, n_silent: int, held_up: int, rng: np.random.Generator, max_steps: int = 20000) -> np.ndarray:
    """Pick ``n_silent`` parties whose pending nominations hold up exactly ``held_up`` reviews.

    The report gives only the two counts (¶15); local search over random swaps finds a set
    with that coverage, a different one in each replication.
    """
    involvement = np.zeros((pairings.n_parties, pairings.n_reviews), dtype=bool)
    reviews = np.arange(pairings.n_reviews)
    involvement[pairings.under_review, reviews] = True
    involvement[pairings.reviewers[:, 0], reviews] = True
    involvement[pairings.reviewers[:, 1], reviews] = True
    chosen = rng.choice(pairings.n_parties, n_silent, replace=False)
    in_set = np.zeros(pairings.n_parties, dtype=bool)
    in_set[chosen] = True
    cover = involvement[in_set].sum(axis=0)
    gap = abs(int(np.sum(cover > 0)) - held_up)
    for _ in range(max_steps):
        if gap == 0:
            return np.flatnonzero(in_set)
        out_p = rng.choice(np.flatnonzero(in_set))
        in_p = rng.choice(np.flatnonzero(~in_set))
        trial = cover - involvement[out_p] + involvement[in_p]
        trial_gap = abs(int(np.sum(trial > 0)) - held_up)
        if trial_gap <= gap:
            in_set[out_p], in_set[in_p] = False, True
            cover, gap = trial, trial_gap
    raise InputError(
        "pairings",
        "parties_without_focal_point",
        f"no set of {n_silent} parties holds up exactly {held_up} reviews in these pairings",
        "pairings and figures that are consistent with each other",
    )


class _Placement:
    """The report's state being assembled: which reviews are still free, and what is known of each.

    Each step of :func:`report_start` places the reviews of one stage, drawing from one
    generator in a fixed order, so a replication's assignment is reproducible.
    """

    def __init__(self, snapshot: Snapshot, pairings: Pairings, rng: np.random.Generator):
        self.snapshot = snapshot
        self.pairings = pairings
        self.rng = rng
        self.day0 = to_day(snapshot.as_at)
        self.group_start = group_start_days(snapshot)
        n = pairings.n_reviews
        self.group = pairings.group.astype(int)
        self.review_start = np.array([self.group_start[int(g)] for g in self.group], dtype=float)
        self.exposure = self.day0 - self.review_start  # days since the group started
        self.stage = np.full(n, -9)
        self.entered = np.full((n, N_STAGES), np.nan)
        self.deadline = np.full((n, N_STAGES), np.nan)
        self.entered[:, NOMINATIONS] = self.review_start
        self.free = np.ones(n, dtype=bool)  # reviews not yet given a stage

    def count(self, name: str, group: int | None = None) -> int:
        return _count(self.snapshot, name, group)

    def free_reviews(self, min_age_days: float = -math.inf, group: int | None = None) -> np.ndarray:
        """Free reviews (in index order) whose group started long enough ago, optionally of one group."""
        mask = self.free & (self.exposure - MIN_HISTORY > min_age_days)
        if group is not None:
            mask &= self.group == group
        return np.flatnonzero(mask)

    def take(self, count: int, candidates: np.ndarray, what: str) -> np.ndarray:
        """Draw ``count`` of the candidate reviews, earlier groups more likely (longer exposure)."""
        if count > len(candidates):
            raise InputError(
                self.snapshot.path,
                what,
                f"{count} reviews needed but only {len(candidates)} can hold them",
                "counts consistent with the pairings and group start dates",
            )
        if count == 0:
            return np.zeros(0, dtype=int)
        weights = self.exposure[candidates] / self.exposure[candidates].sum()
        picked = self.rng.choice(candidates, count, replace=False, p=weights)
        self.free[picked] = False
        return picked


def _place_silent_parties(state: _Placement) -> np.ndarray:
    """Pending nominations (¶15): the silent parties, and the reviews they hold up."""
    pairings = state.pairings
    silent_parties = choose_silent_parties(
        pairings, state.count("parties_without_focal_point"), state.count("reviews_held_up_by_nominations"), state.rng
    )
    members = np.column_stack([pairings.under_review, pairings.reviewers])
    covered = np.isin(members, silent_parties).any(axis=1)
    state.stage[covered] = NOMINATIONS
    state.free[covered] = False
    return silent_parties


def _lists_age_ranges(state: _Placement) -> list[tuple[int, float, float]]:
    """(count, earliest, latest entry day) of the lists of observations by age (¶39), oldest first."""
    ages = []
    for name, lo_months, hi_months in LISTS_AGE_BUCKETS:
        fig = state.snapshot.figures.get((name, None))
        if fig is None:
            continue
        if fig.started_between:
            earliest, latest = (to_day(d) for d in fig.started_between)
        else:
            earliest, latest = state.day0 - months(min(hi_months, 120.0)), state.day0 - months(lo_months)
        ages.append((int(fig.value), earliest, latest))
    return ages


def _place_lists(state: _Placement, params: Parameters) -> None:
    """Lists of observations (¶38-39): the counts by group, and each one's age from ¶39."""
    snapshot, rng = state.snapshot, state.rng
    name = "reviews_lists_of_observations"
    picked = [
        state.take(state.count(name, g), state.free_reviews(group=g), f"{name} (group {g})") for g in (1, 2, 3) if snapshot.has(name, g)
    ]
    placed = sum(len(p) for p in picked)
    picked.append(state.take(state.count(name) - placed, state.free_reviews(), name))
    lists_reviews = [int(r) for r in np.concatenate(picked)]
    unplaced = list(lists_reviews)
    for count, earliest, latest in _lists_age_ranges(state):  # oldest first, each to a review old enough for it
        for _ in range(count):
            fits = [r for r in unplaced if state.review_start[r] + MIN_BEFORE_LISTS < latest] or unplaced
            r = fits[int(rng.integers(len(fits)))]
            unplaced.remove(r)
            lo = max(earliest, state.review_start[r] + MIN_BEFORE_LISTS)
            state.entered[r, LISTS] = rng.uniform(lo, max(lo, latest))
    for r in unplaced:  # lists the report gives no age for
        state.entered[r, LISTS] = rng.uniform(state.review_start[r] + MIN_BEFORE_LISTS, state.day0)
    state.stage[lists_reviews] = LISTS
    state.deadline[lists_reviews, LISTS] = state.entered[lists_reviews, LISTS] + months(params.lists_deadline_months)


def _place_feedback(state: _Placement, params: Parameters) -> None:
    """Written feedback in progress (¶35-36), by lateness against the agreed six months."""
    in_feedback = state.count("reviews_written_feedback_in_progress")
    late = state.count("feedback_late")
    very_late = state.count("feedback_late_over_1_year")
    due = months(params.feedback_deadline_months)
    for count, lo, hi in (
        (very_late, due + months(12), math.inf),
        (late - very_late, due, due + months(12)),
        (in_feedback - late, 0.0, due),
    ):
        picked = state.take(count, state.free_reviews(lo), "reviews_written_feedback_in_progress")
        top = np.minimum(hi, state.exposure[picked] - MIN_HISTORY)
        state.entered[picked, WRITTEN_FEEDBACK] = state.day0 - state.rng.uniform(lo, top)
        state.stage[picked] = WRITTEN_FEEDBACK
        state.deadline[picked, WRITTEN_FEEDBACK] = state.entered[picked, WRITTEN_FEEDBACK] + due


def _place_saq_and_ready(state: _Placement, params: Parameters) -> None:
    """SAQs in preparation (¶32), begun at an unknown date; everything else ready for its
    consultation (¶29; 111 - 67, see the observations file)."""
    saq = state.take(state.count("reviews_saq_in_preparation"), state.free_reviews(), "reviews_saq_in_preparation")
    state.stage[saq] = SAQ
    state.entered[saq, SAQ] = state.day0 - state.rng.uniform(0.0, state.exposure[saq] - MIN_HISTORY)
    state.deadline[saq, SAQ] = state.entered[saq, SAQ] + months(params.saq_deadline_months)
    ready = state.free_reviews()
    state.stage[ready] = CONSULTATION
    state.entered[ready, CONSULTATION] = state.day0 - state.rng.uniform(0.0, state.exposure[ready] - MIN_HISTORY)
    state.free[ready] = False


def _saq_history(state: _Placement, params: Parameters) -> np.ndarray:
    """The history of the submitted SAQs (¶31): lateness buckets matched to reviews with room for them.

    Returns each review's SAQ lateness in days (NaN: not submitted)."""
    rng, entered, deadline = state.rng, state.entered, state.deadline
    due = months(params.feedback_deadline_months)
    lateness = np.full(len(state.stage), np.nan)
    submitted = np.flatnonzero((state.stage == WRITTEN_FEEDBACK) | (state.stage == LISTS))
    at_lists = submitted[state.stage[submitted] == LISTS]
    # Feedback took 2-8 months before the lists, leaving at least a month for everything before it.
    room_before = entered[at_lists, LISTS] - state.review_start[at_lists] - MIN_HISTORY
    before = np.minimum(rng.uniform(months(2), months(8), len(at_lists)), room_before / 2)
    entered[at_lists, WRITTEN_FEEDBACK] = entered[at_lists, LISTS] - before
    deadline[at_lists, WRITTEN_FEEDBACK] = entered[at_lists, WRITTEN_FEEDBACK] + due
    saq_due = months(params.saq_deadline_months)
    count = state.count
    buckets = [  # (count, lo, hi) in days late; longest first
        (count("saq_over_1_year"), months(12), months(18)),
        (count("saq_over_6_months") - count("saq_over_1_year"), months(6), months(12)),
        (count("saq_3_to_6_months"), months(3), months(6)),
        (count("saq_up_to_3_months"), 10.0, months(3)),
        (count("saq_within_10_days"), 0.0, 10.0),
        (count("saq_on_time"), -months(2), 0.0),
    ]
    # The consultation (deadline - six months) cannot precede the group's start: that bounds lateness.
    room = entered[submitted, WRITTEN_FEEDBACK] - saq_due - state.review_start[submitted] - MIN_HISTORY / 2
    room_of = dict(zip(submitted.tolist(), room.tolist()))
    key = dict(zip(submitted.tolist(), (room + rng.uniform(0, 1, len(submitted))).tolist()))
    queue = sorted(submitted.tolist(), key=key.__getitem__, reverse=True)
    for n_late, lo, hi in buckets:
        for _ in range(n_late):
            if not queue:
                break
            r = queue.pop(0)
            lateness[r] = rng.uniform(lo, min(hi, room_of[r])) if room_of[r] > lo else min(room_of[r], hi)
    for r in queue:  # more submitted SAQs than bucketed ones: on time
        lateness[r] = min(-rng.uniform(0, months(2)), room_of[r])
    deadline[submitted, SAQ] = entered[submitted, WRITTEN_FEEDBACK] - lateness[submitted]
    entered[submitted, SAQ] = deadline[submitted, SAQ] - saq_due
    return lateness


def _languages(state: _Placement) -> np.ndarray:
    """The languages agreed at the consultations held (¶28), exactly as reported."""
    languages = np.zeros(len(state.stage), dtype=int)
    held = np.flatnonzero(state.stage >= SAQ)
    one, three = state.count("consultations_one_language"), state.count("consultations_three_languages")
    order = state.rng.permutation(held)
    languages[order[:one]] = 1
    languages[order[one : one + three]] = 3
    languages[order[one + three :]] = 2
    return languages


def _parties(
    state: _Placement, silent_parties: np.ndarray, params: Parameters, streams: ReplicationStreams
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Who has a focal point (¶12, ¶15), who has replaced one (¶14), and how responsive each party is.

    A party still silent after waiting is, by Bayes' rule, more likely one that never acts and,
    if not, a slow one (gamma-Poisson conjugacy)."""
    m = state.pairings.n_parties
    nominated_at = np.full(m, -np.inf)
    nominated_at[silent_parties] = np.nan
    replaced = np.full(m, np.nan)
    with_fp = np.flatnonzero(np.isinf(nominated_at))
    n_replaced = min(state.count("parties_replaced_focal_point"), len(with_fp))
    replaced[state.rng.choice(with_fp, n_replaced, replace=False)] = -np.inf

    first_involved = first_involvement(state.pairings, state.group_start)
    u_resp, u_silent = streams.first_draws("responsiveness", 2)
    waited = np.where(np.isnan(nominated_at), np.maximum(state.day0 - first_involved, 0.0), 0.0)
    rate_days = params.nomination_rate / months(1)
    shape = params.responsiveness_shape
    survival = np.exp(-rate_days * waited) if math.isinf(shape) else (1.0 + rate_days * waited / shape) ** (-shape)
    share = params.silent_share
    p_silent = np.where(np.isnan(nominated_at), share / np.maximum(share + (1 - share) * survival, 1e-300), 0.0)
    silent = u_silent < p_silent
    responsiveness = responsiveness_from_uniform(u_resp, shape, rate_days * waited if not math.isinf(shape) else 0.0)
    return nominated_at, replaced, np.asarray(responsiveness, dtype=float), silent


def report_start(snapshot: Snapshot, pairings: Pairings, params: Parameters, streams: ReplicationStreams) -> InitialState:
    """The state the report describes at its date, with the unnamed details drawn at random.

    Stage by stage, each review is placed so that every count of the report holds: the reviews
    held up by silent parties, the lists of observations with their ages, written feedback by
    lateness, SAQs in preparation, and the rest ready for a consultation; then the history of the
    submitted SAQs, the languages agreed, and the parties' focal points and responsiveness.
    """
    state = _Placement(snapshot, pairings, streams.generator("snapshot_assignment"))
    silent_parties = _place_silent_parties(state)
    _place_lists(state, params)
    _place_feedback(state, params)
    _place_saq_and_ready(state, params)
    lateness = _saq_history(state, params)
    languages = _languages(state)
    nominated_at, replaced, responsiveness, silent = _parties(state, silent_parties, params, streams)
    if np.any(state.stage < 0):
        raise InputError(snapshot.path, "(stage counts)", "some reviews were left without a stage", "counts that add up to the reviews")
    return InitialState(
        day=state.day0,
        label=f"report of {snapshot.as_at.isoformat()}",
        review_stage=state.stage,
        review_entered=state.entered,
        review_deadline=state.deadline,
        review_languages=languages,
        saq_lateness=lateness,
        party_nominated_at=nominated_at,
        party_first_replaced_at=replaced,
        party_responsiveness=responsiveness,
        party_silent=silent,
        group_start=state.group_start,
    )
