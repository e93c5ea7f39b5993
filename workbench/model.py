"""The review pipeline as SimPy processes: parties, country reviews and the Secretariat.

Reads like the process it describes (¶11-39):

* a **Party** nominates a focal point (some parties quickly, some slowly, a few not at all
  without intervention), then its governmental experts; from time to time it replaces its
  focal point, which stalls every review it takes part in until the newcomer has taken over,
  and may bring a fresh responsiveness;
* a **Review** waits for the three focal points, holds a preliminary consultation organized
  with the Secretariat (languages agreed there), then goes through the self-assessment
  questionnaire, the joint written feedback of the two reviewing States, the lists of
  observations and their summaries, and is completed.  Work on a stage advances only while
  all three focal points are in place; each stage has an agreed deadline, so lateness is
  part of the state;
* the **Secretariat** is a small pool of officers shared by all reviews.

The model knows nothing of calibration, scenarios or plotting: it takes parameters, the
pairings, an initial state and random streams, and records what happened when.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import simpy
from scipy.special import gammaincinv

from .errors import InputError
from .levers import NO_LEVERS, Levers
from .parameters import Parameters
from .parties import Pairings
from .streams import ReplicationStreams, UniformStream, gamma_mean_one_from
from .timeline import DAYS_PER_YEAR, months


class Stage(IntEnum):
    """Where a country review stands. Entry times are recorded for each."""

    NOMINATIONS = 0  # waiting for the three focal points (¶11, ¶15, ¶26)
    CONSULTATION = 1  # formally ready; preliminary consultation not yet held (¶26, ¶29)
    SAQ = 2  # self-assessment questionnaire in preparation (¶30-32)
    WRITTEN_FEEDBACK = 3  # the two reviewers' joint feedback (¶34-36)
    LISTS = 4  # lists of observations (¶37-39)
    SUMMARIES = 5  # summaries of the lists (¶39)
    COMPLETED = 6  # lists and summaries finalized (¶24, ¶38)


STAGES = list(Stage)
N_STAGES = len(STAGES)


def responsiveness_from_uniform(u: np.ndarray | float, shape: float, extra_rate: np.ndarray | float = 0.0):
    """Gamma(shape, rate = shape + extra_rate) by inversion: mean 1 when ``extra_rate`` is 0.

    ``extra_rate`` = nomination_rate x time waited gives the responsiveness of a party that
    has been waiting that long without nominating (gamma-Poisson conjugacy).
    """
    if math.isinf(shape):
        return np.ones_like(np.asarray(u, dtype=float))
    return gammaincinv(shape, u) / (shape + extra_rate)


def party_traits(initial: "InitialState", streams: ReplicationStreams, params: Parameters) -> tuple[np.ndarray, np.ndarray]:
    """Each party's responsiveness and whether it is silent: the initial state's, or drawn
    from the population (the first two uniforms of each party's responsiveness stream)."""
    if initial.party_responsiveness is not None:
        return initial.party_responsiveness, initial.party_silent
    u, u_silent = streams.first_draws("responsiveness", 2)
    return responsiveness_from_uniform(u, params.responsiveness_shape), u_silent < params.silent_share


@dataclass
class InitialState:
    """Where everything stands when the clock starts.

    ``history`` starts every review at its group's start date with no focal points;
    :func:`workbench.snapshot.report_start` builds the state the report describes.
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


def check_staffing(params: Parameters, levers: Levers) -> None:
    """A staffing lever may not leave the Secretariat without officers."""
    staffing = levers.secretariat_staffing
    if staffing is not None and params.secretariat_officers + staffing.officers_change < 1:
        raise InputError("scenario", "levers.secretariat_staffing.officers_change",
                         f"{staffing.officers_change} would leave {params.secretariat_officers + staffing.officers_change} officers",
                         f"at least {1 - params.secretariat_officers} with {params.secretariat_officers} officers")


class Secretariat:
    """UNODC's review team: a few officers, each organizing one thing at a time (¶42-43).

    A staffing change from a start date (a lever) is modelled with placeholder holders:
    added officers are held until the start date, lost officers are taken from it on, each
    ahead of any review in the queue; reviews are served first-come first-served.
    """

    def __init__(self, env: simpy.Environment, officers: int, change: int = 0, change_day: float = math.inf):
        self.env = env
        if change == 0:
            self.officers = simpy.Resource(env, capacity=officers)
            return
        self.officers = simpy.PriorityResource(env, capacity=max(officers, officers + change))
        for _ in range(abs(change)):
            if change > 0:
                env.process(self._hold(env.now, change_day))  # not yet recruited
            else:
                env.process(self._hold(change_day, math.inf))  # gone from change_day on

    def _hold(self, since: float, until: float):
        if since > self.env.now:
            yield self.env.timeout(since - self.env.now)
        with self.officers.request(priority=-1) as request:
            yield request
            if math.isfinite(until):
                yield self.env.timeout(max(0.0, until - self.env.now))
            else:
                yield self.env.event()  # never released

    def assist(self, duration_days: float):
        """Take one officer for ``duration_days``, queueing first-come first-served."""
        with self.officers.request() as request:
            yield request
            yield self.env.timeout(duration_days)


class Party:
    """A State party (or the regional organization) and its focal point."""

    def __init__(self, model: "Mechanism", index: int, responsiveness: float, silent: bool):
        self.model = model
        self.env = model.env
        self.index = index
        self.responsiveness = responsiveness
        self.silent = silent  # never nominates without intervention
        self.reviews: list[Review] = []
        self.focal_point = self.env.event()  # succeeds when a first focal point is appointed
        self.experts = self.env.event()  # succeeds when governmental experts are named
        self.in_handover = False
        self.back_in_place = self.focal_point  # the event a stalled review waits for
        self.streams = model.streams
        self.first_involved = math.inf
        self.name = model.pairings.parties[index]
        self.groups: set[int] = set()  # groups of the reviews it takes part in (for lever targets)

    @property
    def slowness(self) -> float:
        """Multiplier of this party's stage work: responsiveness^(-coupling)."""
        return self.responsiveness ** (-self.model.params.responsiveness_coupling)

    @property
    def in_place(self) -> bool:
        return self.focal_point.triggered and not self.in_handover

    def appoint_focal_point(self):
        if self.focal_point.triggered:
            return
        self.focal_point.succeed()
        self.model.nominated_at[self.index] = self.env.now
        self.model.events += 1
        self.env.process(self.name_experts())
        self.env.process(self.replace_focal_points())

    def life(self):
        """Wait for the first review this party takes part in, then (perhaps) nominate."""
        params = self.model.params
        if self.first_involved > self.env.now:
            yield self.env.timeout(self.first_involved - self.env.now)
        follow_up = self.model.levers.nomination_follow_up
        if follow_up is not None and not follow_up.target.reaches_party(self.name, self.groups):
            follow_up = None
        if self.silent and (follow_up is None or follow_up.silent_rate_per_month <= 0):
            return  # only an intervention (follow-up campaign) or a redraw moves this party
        effort = -math.log1p(-self.model.stream("nomination", self.index).uniform())  # unit exponential
        if self.silent:
            begin = max(self.env.now, follow_up.start_day)
            delay = begin - self.env.now + months(effort / follow_up.silent_rate_per_month)
        else:
            mean_months = 1.0 / (params.nomination_rate * self.responsiveness)
            delay = months(mean_months * effort)
            if follow_up is not None and follow_up.rate_multiplier != 1.0 and follow_up.start_day < self.env.now + delay:
                # Piecewise-constant hazard: the campaign multiplies it from its start date.
                begin = max(self.env.now, follow_up.start_day)
                spent = (begin - self.env.now) / months(mean_months)
                delay = begin - self.env.now + months(mean_months * (effort - spent) / follow_up.rate_multiplier)
        yield self.env.timeout(delay)
        self.appoint_focal_point()

    def name_experts(self):
        lag = self.model.stream("experts", self.index).exponential(self.model.params.expert_lag_months)
        yield self.env.timeout(months(lag))
        self.experts.succeed()

    def replace_focal_points(self):
        """Focal points change from time to time (¶14): every review of the party stalls."""
        params = self.model.params
        if params.replacement_rate <= 0:
            return
        stream = self.model.stream("replacement", self.index)
        mean_gap_days = DAYS_PER_YEAR / params.replacement_rate
        while True:
            yield self.env.timeout(stream.exponential(mean_gap_days))
            if all(review.stage == Stage.COMPLETED for review in self.reviews):
                return  # nothing left that a replacement could affect
            handover = self.model.record_replacement(self.index)
            self.in_handover = True
            self.back_in_place = self.env.event()
            for review in self.reviews:
                review.pause()
            stall = months(stream.exponential(params.handover_months))
            protocol = self.model.levers.handover_protocol
            if protocol is not None and self.env.now >= protocol.start_day and protocol.target.reaches_party(self.name, self.groups):
                stall *= protocol.duration_factor
            yield self.env.timeout(stall)
            # The new focal point may be more, or less, responsive than the last one.
            if stream.uniform() < params.revive_probability:
                self.responsiveness = gamma_mean_one_from(stream.uniform(), params.responsiveness_shape)
            self.in_handover = False
            self.model.handovers[handover] = (self.index, self.model.handovers[handover][1], self.env.now)
            self.back_in_place.succeed()


class Review:
    """One country review: a party under review and two reviewing parties."""

    def __init__(self, model: "Mechanism", index: int, group: int, members: list[Party]):
        self.model = model
        self.env = model.env
        self.index = index
        self.group = group
        self.members = members  # [under review, reviewer 1, reviewer 2]
        self.stage: int = -1
        self.languages = 0
        self.process: simpy.Process | None = None
        self._working = False

    @property
    def under_review(self) -> Party:
        return self.members[0]

    @property
    def reviewers(self) -> list[Party]:
        return self.members[1:]

    def stream(self, component: str) -> UniformStream:
        return self.model.stream(component, self.index)

    # --- the mechanics every stage shares --------------------------------------------
    def all_in_place(self) -> bool:
        return all(p.in_place for p in self.members)

    def wait_for_focal_points(self):
        """Block while any of the three focal points is missing or handing over."""
        while not self.all_in_place():
            yield self.env.any_of([p.back_in_place for p in self.members if not p.in_place])

    def work(self, duration_days: float):
        """Spend ``duration_days`` of progress, paused whenever a focal point is not in place."""
        remaining = duration_days
        while remaining > 1e-9:
            yield from self.wait_for_focal_points()
            started = self.env.now
            self._working = True
            try:
                yield self.env.timeout(remaining)
                remaining = 0.0
            except simpy.Interrupt:
                remaining -= self.env.now - started
            finally:
                self._working = False

    def pause(self):
        """Called by a party whose focal point has just left."""
        if self._working:
            self.process.interrupt("focal point replaced")

    def enter(self, stage: Stage, deadline_months: float | None = None):
        """Move to ``stage`` once all focal points are in place, setting its agreed deadline.

        Entering the nominations stage is the group's start date: nothing to wait for.
        """
        if stage != Stage.NOMINATIONS:
            yield from self.wait_for_focal_points()
        self.stage = stage
        self.model.entered[self.index, stage] = self.env.now
        if deadline_months is not None:
            self.model.deadline[self.index, stage] = self.env.now + months(deadline_months)
        self.model.events += 1
        if stage == Stage.COMPLETED:
            self.model.review_completed(self)

    def lever_factor(self, lever_name: str, field_name: str) -> float:
        """The effect of a lever on work this review begins now (1.0 when the lever does not apply)."""
        lever = getattr(self.model.levers, lever_name)
        if lever is None or self.env.now < lever.start_day:
            return 1.0
        if not lever.target.reaches_review(self.group, [p.name for p in self.members]):
            return 1.0
        return getattr(lever, field_name)

    def stage_duration(self, component: str, median: float, sigma: float, age_days: float) -> float:
        """Days of work left on a lognormal stage; for work under way, conditional on its age."""
        stream = self.stream(component)
        if age_days > 0:
            return months(stream.lognormal_beyond(median, sigma, age_days / months(1))) - age_days
        return months(stream.lognormal(median, sigma))

    def language_factor(self) -> float:
        extra = self.model.params.extra_language_delay * self.lever_factor("machine_translation", "extra_language_factor")
        return 1.0 + extra * (self.languages - 1)

    # --- the stages, in order ----------------------------------------------------------
    def life(self, start_stage: int, age_days: float):
        if start_stage < 0:  # group not started yet
            yield self.env.timeout(self.model.group_start[self.group] - self.env.now)
            yield from self.enter(Stage.NOMINATIONS)
            start_stage = Stage.NOMINATIONS
        else:
            self.stage = start_stage
        steps = {
            Stage.NOMINATIONS: self.gather_focal_points,
            Stage.CONSULTATION: self.hold_consultation,
            Stage.SAQ: self.answer_questionnaire,
            Stage.WRITTEN_FEEDBACK: self.write_feedback,
            Stage.LISTS: self.agree_lists,
            Stage.SUMMARIES: self.agree_summaries,
        }
        while self.stage != Stage.COMPLETED:
            yield from steps[self.stage](age_days)
            age_days = 0.0

    def gather_focal_points(self, age_days: float):
        """No review can begin until all three focal points exist (¶26).

        With the redraw lever, a reviewing State that has not nominated after
        ``after_months`` is replaced by lot, ``delay_months`` later (¶6-7), from the lever's
        start date on.
        """
        redraw = self.model.levers.redraw
        if redraw is not None and not redraw.target.reaches_review(self.group, [p.name for p in self.members]):
            redraw = None
        waiting_since = self.env.now - age_days
        while True:
            missing = [p for p in self.members if not p.focal_point.triggered]
            if not missing:
                break
            pending = self.env.all_of([p.focal_point for p in missing])
            missing_reviewers = [slot for slot in (1, 2) if not self.members[slot].focal_point.triggered]
            if redraw is None or not missing_reviewers:
                yield pending
                continue
            patience_ends = max(waiting_since + months(redraw.after_months), redraw.start_day)
            yield pending | self.env.timeout(max(0.0, patience_ends - self.env.now))
            if pending.triggered:
                continue
            yield self.env.timeout(months(redraw.delay_months))
            for slot in missing_reviewers:
                if not self.members[slot].focal_point.triggered:
                    self.model.redraw_reviewer(self, slot)
            waiting_since = self.env.now
        yield from self.enter(Stage.CONSULTATION)

    def hold_consultation(self, age_days: float):
        """Agree a date (the slowest focal point sets the pace), then meet with the Secretariat."""
        params = self.model.params
        slowest = max(p.slowness for p in self.members)
        mean = params.consultation_scheduling_months * slowest * self.lever_factor("scheduling_support", "duration_factor")
        scheduling = self.stream("consultation").exponential(mean)
        yield from self.work(months(scheduling))
        preparation = self.stream("secretariat").exponential(params.consultation_preparation_months)
        yield from self.model.secretariat.assist(months(preparation))
        u = self.stream("languages").uniform()
        self.languages = 1 if u < params.one_language_share else 3 if u < params.one_language_share + params.three_language_share else 2
        self.model.languages[self.index] = self.languages
        yield from self.enter(Stage.SAQ, params.saq_deadline_months)

    def answer_questionnaire(self, age_days: float):
        """The party under review answers the SAQ, due six months after the consultation (¶30)."""
        params = self.model.params
        yield self.under_review.experts
        median = (params.saq_median_months * self.under_review.slowness * self.language_factor()
                  * self.lever_factor("training", "saq_factor"))
        yield from self.work(self.stage_duration("saq", median, params.saq_sigma, age_days))
        yield from self.enter(Stage.WRITTEN_FEEDBACK, params.feedback_deadline_months)
        self.model.saq_lateness[self.index] = self.env.now - self.model.deadline[self.index, Stage.SAQ]

    def write_feedback(self, age_days: float):
        """The two reviewing States draft their parts, then merge them (¶34-36)."""
        params = self.model.params
        for reviewer in self.reviewers:
            yield reviewer.experts
        stream = self.stream("feedback")
        factor = (self.language_factor() * self.lever_factor("training", "feedback_factor")
                  * self.lever_factor("task_split", "drafting_factor"))
        coordination = params.feedback_coordination_months * self.lever_factor("task_split", "coordination_factor")

        def draw() -> float:
            parts = [stream.lognormal(params.feedback_part_median_months * r.slowness * factor, params.feedback_sigma)
                     for r in self.reviewers]
            return months(max(parts) + stream.exponential(coordination))

        duration = draw()
        if age_days > 0:
            # Work already under way: condition on still being unfinished after age_days.
            for _ in range(200):
                if duration > age_days:
                    break
                duration = draw()
            else:
                slower = max(self.reviewers, key=lambda r: r.slowness)
                duration = months(stream.lognormal_beyond(
                    params.feedback_part_median_months * slower.slowness * factor, params.feedback_sigma, age_days / months(1)))
            duration -= age_days
        yield from self.work(duration)
        yield from self.enter(Stage.LISTS, params.lists_deadline_months)

    def agree_lists(self, age_days: float):
        """Consensus of the three parties, with the Secretariat's help (¶37-39)."""
        params = self.model.params
        slowest = max(p.slowness for p in self.members)
        median = (params.lists_median_months * slowest * self.language_factor()
                  * self.lever_factor("consensus_facilitation", "duration_factor"))
        yield from self.work(self.stage_duration("lists", median, params.lists_sigma, age_days))
        facilitation = self.stream("secretariat").exponential(params.lists_facilitation_months)
        yield from self.model.secretariat.assist(months(facilitation))
        yield from self.enter(Stage.SUMMARIES)

    def agree_summaries(self, age_days: float):
        params = self.model.params
        slowest = max(p.slowness for p in self.members)
        median = (params.summaries_median_months * slowest * self.language_factor()
                  * self.lever_factor("consensus_facilitation", "duration_factor"))
        yield from self.work(self.stage_duration("summaries", median, params.summaries_sigma, age_days))
        yield from self.enter(Stage.COMPLETED)


class Mechanism:
    """The whole review cycle of one replication."""

    def __init__(self, params: Parameters, pairings: Pairings, initial: InitialState,
                 streams: ReplicationStreams, horizon_day: float, levers: Levers = NO_LEVERS):
        self.params = params
        self.levers = levers
        self.pairings = pairings
        self.initial = initial
        self.streams = streams
        self.horizon_day = horizon_day
        self.env = simpy.Environment(initial_time=initial.day)
        check_staffing(params, levers)
        staffing = levers.secretariat_staffing
        self.secretariat = Secretariat(self.env, params.secretariat_officers,
                                       staffing.officers_change if staffing else 0, staffing.start_day if staffing else math.inf)
        self.group_start = initial.group_start

        n_reviews, n_parties = pairings.n_reviews, pairings.n_parties
        self.entered = initial.review_entered.copy()
        self.deadline = initial.review_deadline.copy()
        self.languages = initial.review_languages.copy()
        self.saq_lateness = initial.saq_lateness.copy()
        self.nominated_at = initial.party_nominated_at.copy()
        self.first_replaced_at = initial.party_first_replaced_at.copy()
        self.replacements = np.zeros(n_parties, dtype=int)
        self.redraws: list[tuple[float, int, int, int, int]] = []
        self.handovers: list[tuple[int, float, float]] = []
        self.events = 0
        self.group1_target = params.completion_target(int(np.sum(pairings.group == 1)))
        self.group1_completed = int(np.sum(initial.review_stage[pairings.group == 1] == Stage.COMPLETED))
        self.threshold_day = math.nan
        self.open_reviews = int(np.sum(initial.review_stage != Stage.COMPLETED))
        self.all_completed = self.env.event()

        responsiveness, silent = party_traits(initial, streams, params)
        self.parties = [Party(self, p, float(responsiveness[p]), bool(silent[p])) for p in range(n_parties)]
        for p, party in enumerate(self.parties):
            if np.isfinite(self.nominated_at[p]) or self.nominated_at[p] == -np.inf:
                party.focal_point.succeed()
                party.experts.succeed()

        self.reviews = []
        for r in range(n_reviews):
            members = [self.parties[p] for p in pairings.members(r)]
            review = Review(self, r, int(pairings.group[r]), members)
            review.languages = int(self.languages[r])
            self.reviews.append(review)
            for party in members:
                party.reviews.append(review)
                party.groups.add(review.group)
                party.first_involved = min(party.first_involved, initial.group_start[review.group])

        for party in self.parties:
            if party.focal_point.triggered:
                self.env.process(party.replace_focal_points())
            else:
                self.env.process(party.life())
        for r, review in enumerate(self.reviews):
            stage = int(initial.review_stage[r])
            if stage == Stage.COMPLETED:
                review.stage = Stage.COMPLETED
                continue
            known = initial.review_entered[r, stage] if stage >= 0 else math.nan
            age = max(0.0, initial.day - known) if np.isfinite(known) else 0.0
            review.process = self.env.process(review.life(stage, age))

    def stream(self, component: str, index: int) -> UniformStream:
        table = self.streams.party if component in self.streams.party else self.streams.review
        return table[component][index]

    # --- bookkeeping called by the processes ----------------------------------------
    def record_replacement(self, party: int) -> int:
        """Log a focal point leaving; returns the handover's index so its end can be logged."""
        self.replacements[party] += 1
        self.events += 1
        if np.isnan(self.first_replaced_at[party]):
            self.first_replaced_at[party] = self.env.now
        self.handovers.append((party, self.env.now, math.inf))
        return len(self.handovers) - 1

    def review_completed(self, review: Review):
        self.open_reviews -= 1
        if review.group == 1:
            self.group1_completed += 1
            if self.group1_completed == self.group1_target:
                self.threshold_day = self.env.now
        if self.open_reviews == 0:
            self.all_completed.succeed()

    def redraw_reviewer(self, review: Review, slot: int):
        """Replace a reviewing State by lot among parties with a focal point (¶6)."""
        old = review.members[slot]
        candidates = [p for p in self.parties if p.focal_point.triggered and p not in review.members]
        if not candidates:
            return
        new = candidates[review.stream("redraw").choice(len(candidates))]
        review.members[slot] = new
        old.reviews.remove(review)
        new.reviews.append(review)
        self.redraws.append((self.env.now, review.index, slot, old.index, new.index))
        self.events += 1

    def run(self) -> RunRecord:
        horizon = self.env.timeout(max(0.0, self.horizon_day - self.env.now))
        if self.open_reviews:
            self.env.run(until=self.env.any_of([horizon, self.all_completed]))
        return RunRecord(
            start_day=self.initial.day, end_day=self.env.now, entered=self.entered, deadline=self.deadline,
            languages=self.languages, saq_lateness=self.saq_lateness, nominated_at=self.nominated_at,
            first_replaced_at=self.first_replaced_at, replacements=self.replacements,
            redraw_log=np.array(self.redraws, dtype=float).reshape(-1, 5),
            handover_log=np.array(self.handovers, dtype=float).reshape(-1, 3),
            threshold_day=self.threshold_day, events=self.events, draws=self.streams.draws(),
        )
