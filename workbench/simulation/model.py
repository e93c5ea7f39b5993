"""The review pipeline as SimPy processes: parties, country reviews and the Secretariat.

Reads like the process it describes (¶11-39):

* a **Party** nominates a focal point (some parties quickly, some slowly, a few not at all
  without intervention), then its governmental experts; from time to time it replaces its
  focal point, which stalls every review it takes part in until the newcomer has taken over,
  and may bring a fresh responsiveness;
* a **Review** waits for the three focal points, then works through the stages of
  :data:`workbench.simulation.stages.STAGE_RULES`: the preliminary consultation organized
  with the Secretariat (languages agreed there), the self-assessment questionnaire, the
  joint written feedback of the two reviewing States, the lists of observations and their
  summaries, and is completed.  Work on a stage advances only while all three focal points
  are in place; each stage has an agreed deadline, so lateness is part of the state;
* the **Secretariat** is a small pool of officers shared by all reviews.

Every rule (a duration, a lever's effect, a deadline, the next stage) is a function of
:mod:`workbench.simulation.rules`, which the compiled engine calls too; this module only
says *when* things happen.  The model knows nothing of calibration, scenarios or
plotting: it takes parameters, the pairings, an initial state and random streams, and
records what happened when.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from workbench.inputs.levers import NO_LEVERS, Levers, check_staffing
from workbench.inputs.parameters import Parameters
from workbench.inputs.parties import Pairings
from workbench.simulation import rules
from workbench.simulation.layout import LeverArrays, pack_levers, pack_parameters
from workbench.simulation.schema import N_STAGES, InitialState, RunRecord, age_at_start, focal_point_at_start
from workbench.simulation.stages import RULE_OF, Stage
from workbench.simulation.streams import ReplicationStreams, UniformStream
from workbench.simulation.traits import party_traits

Process = Generator[Any, Any, None]


class _Asked:
    """The rules the processes ask at every step (predicates, counts, the Secretariat's decisions:
    no draws), run as the Python they are written in.  Calling compiled code from Python costs a
    few microseconds, and these are asked thousands of times a replication (they made the SimPy
    model eight times slower); the same source runs compiled in the engine.  The rules that draw
    run compiled in both engines, so that their numbers agree to the last bit."""

    def __getattr__(self, name: str) -> Any:
        rule = getattr(rules, name).py_func
        setattr(self, name, rule)
        return rule


asked = _Asked()


class Secretariat:
    """UNODC's review team: a few officers, each organizing one thing at a time (¶42-43).

    Who gets an officer, and when, is decided by the rules (:func:`~workbench.simulation.rules.officer_requested`,
    :func:`~workbench.simulation.rules.desk_freed`, :func:`~workbench.simulation.rules.officers_leave`),
    as in the compiled engine: reviews are served first come first served; a staffing lever's
    recruits arrive on its start date, or its leavers go from then, each taking the next free
    desk ahead of any review.  A review waiting in the queue waits for its own event here.
    """

    def __init__(self, env: simpy.Environment, n_reviews: int, officers: int, lever_arrays: LeverArrays):
        self.env = env
        self.desks = np.zeros(rules.N_DESK_COUNTS, dtype=np.int64)
        self.queue = np.empty(n_reviews, dtype=np.int64)
        self.called: dict[int, simpy.Event] = {}  # reviews in the queue, and the event that calls each
        change = asked.staffing_change(lever_arrays)
        asked.secretariat_opens(self.desks, officers, change)
        if change:
            env.process(self._staffing_change(change, asked.staffing_day(lever_arrays)))

    def _staffing_change(self, change: int, day: float) -> Process:
        yield self.env.timeout(max(0.0, day - self.env.now))  # its start date, or at once if that has passed
        if change > 0:  # the recruits take their desks
            for _ in range(change):
                self._desk_freed()
        else:
            asked.officers_leave(self.desks, -change)

    def _desk_freed(self) -> None:
        called = asked.desk_freed(self.desks, self.queue)
        if called >= 0:
            self.called.pop(called).succeed()

    def assist(self, review: int, duration_days: float) -> Process:
        """Take one officer for ``duration_days``, queueing first come first served."""
        if not asked.officer_requested(self.desks, self.queue, review):
            self.called[review] = self.env.event()
            yield self.called[review]
        yield self.env.timeout(duration_days)
        self._desk_freed()


class Party:
    """A State party (or the regional organization) and its focal point."""

    def __init__(self, model: Mechanism, index: int, silent: bool):
        self.model = model
        self.env = model.env
        self.index = index
        self.silent = silent  # never nominates without intervention
        self.reviews: list[Review] = []
        self.focal_point = self.env.event()  # succeeds when a first focal point is appointed
        self.experts = self.env.event()  # succeeds when governmental experts are named
        self.back_in_place = self.focal_point  # the event a stalled review waits for
        self.first_involved = math.inf

    @property
    def responsiveness(self) -> float:
        return float(self.model.responsiveness[self.index])

    @responsiveness.setter
    def responsiveness(self, value: float) -> None:
        self.model.responsiveness[self.index] = value

    # Whether it has a focal point, and whether that one is handing over, live in the model's
    # arrays, which the rules read (as the compiled engine's do).
    @property
    def has_focal_point(self) -> bool:
        return bool(self.model.has_focal_point[self.index])

    @property
    def in_handover(self) -> bool:
        return bool(self.model.in_handover[self.index])

    @in_handover.setter
    def in_handover(self, value: bool) -> None:
        self.model.in_handover[self.index] = value

    @property
    def in_place(self) -> bool:
        return self.has_focal_point and not self.in_handover

    def stream(self, component: str) -> UniformStream:
        return self.model.streams.party[component][self.index]

    def have_focal_point(self) -> None:
        """The party has its focal point (and its experts: both before the clock started)."""
        self.focal_point.succeed()
        self.model.has_focal_point[self.index] = True

    def appoint_focal_point(self) -> None:
        if self.has_focal_point:
            return
        self.focal_point.succeed()
        self.model.has_focal_point[self.index] = True
        self.model.nominated_at[self.index] = self.env.now
        self.model.events += 1
        self.env.process(self.name_experts())
        self.env.process(self.replace_focal_points())

    def life(self) -> Process:
        """Wait for the first review this party takes part in, then (perhaps) nominate (¶11, ¶15-17)."""
        model = self.model
        if self.first_involved > self.env.now:
            yield self.env.timeout(self.first_involved - self.env.now)
        if not rules.nominates(self.index, self.silent, model.lever_arrays):
            return  # only an intervention (follow-up campaign) or a redraw moves this party
        yield self.env.timeout(
            self.stream("nomination").draw(
                rules.nomination_delay, self.env.now, self.index, self.silent, self.responsiveness, model.P, model.lever_arrays
            )
        )
        self.appoint_focal_point()

    def name_experts(self) -> Process:
        yield self.env.timeout(self.stream("experts").draw(rules.experts_delay, self.model.P))
        self.experts.succeed()

    def replace_focal_points(self, handover_since: float = math.nan) -> Process:
        """Focal points change from time to time (¶14): every review of the party stalls.  A
        handover under way when the clock starts (since ``handover_since``) is finished first."""
        model = self.model
        stream = self.stream("replacement")
        if math.isfinite(handover_since):
            model.handovers.append((self.index, handover_since, math.inf))
            yield from self.hand_over(len(model.handovers) - 1)
        if model.params.replacement_rate <= 0:
            return
        while True:
            yield self.env.timeout(stream.draw(rules.replacement_gap, model.P))
            if not asked.replacement_matters(model.open_reviews_of, self.index):
                return  # nothing left that a replacement could affect
            yield from self.hand_over(model.record_replacement(self.index))

    def hand_over(self, handover: int) -> Process:
        """The party's reviews stall until the new focal point has taken over."""
        model, stream = self.model, self.stream("replacement")
        self.in_handover = True
        self.back_in_place = self.env.event()
        for review in self.reviews:
            review.pause()
        yield self.env.timeout(stream.draw(rules.handover_stall, self.env.now, self.index, model.P, model.lever_arrays))
        # The new focal point may be more, or less, responsive than the last one.
        self.responsiveness = stream.draw(rules.responsiveness_after_handover, self.responsiveness, model.P)
        self.in_handover = False
        model.handovers[handover] = (self.index, model.handovers[handover][1], self.env.now)
        self.back_in_place.succeed()


class Review:
    """One country review: a party under review and two reviewing parties."""

    def __init__(self, model: Mechanism, index: int, group: int, members: list[Party]):
        self.model = model
        self.env = model.env
        self.index = index
        self.group = group
        self.members = members  # [under review, reviewer 1, reviewer 2]
        self.stage: int = -1
        self.languages = 0
        self.process: simpy.Process | None = None
        self._working = False
        # Redraws already used and the day the wait for a reviewing State began, where the initial
        # state records them (-1: not known; see rules.redraws_so_far).
        self.redraws_at_start: tuple[int, float] = (-1, math.nan)

    @property
    def positions(self) -> tuple[int, int, int]:
        """The parties' indices: under review, reviewer 1, reviewer 2."""
        a, b, c = self.members
        return a.index, b.index, c.index

    def stream(self, component: str) -> UniformStream:
        return self.model.streams.review[component][self.index]

    # --- the mechanics every stage shares --------------------------------------------
    def all_in_place(self) -> bool:
        return bool(asked.all_in_place(self.model.has_focal_point, self.model.in_handover, *self.positions))

    def wait_for_focal_points(self) -> Process:
        """Block while any of the three focal points is missing or handing over."""
        while not self.all_in_place():
            yield self.env.any_of([p.back_in_place for p in self.members if not p.in_place])

    def work(self, duration_days: float) -> Process:
        """Spend ``duration_days`` of progress, paused whenever a focal point is not in place."""
        remaining = duration_days
        while asked.work_left(remaining):
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

    def pause(self) -> None:
        """Called by a party whose focal point has just left."""
        if self._working and self.process is not None:
            self.process.interrupt("focal point replaced")

    def enter(self, stage: int) -> Process:
        """Move to ``stage`` once all focal points are in place, recording the entry and its deadline.

        Entering the nominations stage is the group's start date: nothing to wait for.
        """
        if stage != Stage.NOMINATIONS:
            yield from self.wait_for_focal_points()
        model = self.model
        self.stage = stage
        rules.record_entry(self.index, int(stage), self.env.now, model.entered, model.deadline, model.saq_lateness, model.P)
        model.events += 1
        if stage == Stage.COMPLETED:
            model.review_completed(self)

    # --- the stages, in order ----------------------------------------------------------
    def life(self, start_stage: int, age_days: float) -> Process:
        if start_stage < 0:  # group not started yet
            yield self.env.timeout(self.model.group_start[self.group] - self.env.now)
            yield from self.enter(Stage.NOMINATIONS)
            start_stage = Stage.NOMINATIONS
        else:
            self.stage = start_stage
        work_done = start_stage >= 0 and math.isfinite(self.model.work_done[self.index, start_stage])
        while self.stage != Stage.COMPLETED:
            if self.stage == Stage.NOMINATIONS:
                yield from self.gather_focal_points(age_days)
            else:
                yield from self.take_stage(age_days, work_done)
            age_days, work_done = 0.0, False

    def gather_focal_points(self, age_days: float) -> Process:
        """No review can begin until all three focal points exist (¶26).

        While a reviewing State has no focal point, the party under review asks, once its
        patience runs out, for the drawing of lots to be repeated, at most four times (¶6-7);
        the new reviewer is drawn at the next joint meeting.  The redraw lever has the
        Secretariat act sooner (:func:`~workbench.simulation.rules.redraw_schedule`).
        """
        P, levers = self.model.P, self.model.lever_arrays
        rounds, waiting_since = rules.redraws_so_far(*self.redraws_at_start, age_days, self.env.now, P)
        has_focal_point = self.model.has_focal_point
        while not asked.all_nominated(has_focal_point, *self.positions):
            pending = self.env.all_of([p.focal_point for p in self.members if not p.has_focal_point])
            patience_ends, delay = math.inf, 0.0
            if rounds < rules.REDRAWS_ALLOWED and asked.redraw_wanted(has_focal_point, *self.positions[1:]):
                patience_ends, delay = rules.redraw_schedule(waiting_since, self.group, *self.positions, P, levers)
            if not math.isfinite(patience_ends):
                yield pending
                continue
            yield pending | self.env.timeout(max(0.0, patience_ends - self.env.now))
            if pending.triggered:
                continue
            yield self.env.timeout(delay)
            rounds += 1
            for slot in rules.REVIEWER_SLOTS:
                if not self.members[slot].has_focal_point:
                    self.model.redraw_reviewer(self, slot)
            waiting_since = self.env.now
        yield from self.enter(Stage.CONSULTATION)

    def take_stage(self, age_days: float, work_done: bool = False) -> Process:
        """Work through the current stage as its rule says (:data:`~workbench.simulation.stages.STAGE_RULES`):
        wait for the experts it needs, work (paused by handovers), take an officer's time if the
        Secretariat takes part, agree the languages at the consultation, and enter the next stage.
        A stage whose own work was done when the clock started goes straight to the Secretariat."""
        model = self.model
        rule = RULE_OF[Stage(self.stage)]
        s = int(self.stage)
        if not work_done:
            for position in rule.experts:
                yield self.members[position].experts
            days = self.stream(rule.stream).draw(
                rules.work_days,
                s,
                self.env.now,
                self.group,
                *self.positions,
                self.languages,
                model.responsiveness,
                model.P,
                model.lever_arrays,
                age_days,
            )
            yield from self.work(days)
            model.work_done[self.index, s] = self.env.now
        if rule.secretariat is not None:
            yield from model.secretariat.assist(self.index, self.stream("secretariat").draw(rules.secretariat_days, s, model.P))
        if rule.agrees_languages:
            self.languages = self.stream("languages").draw(rules.languages_agreed, model.P)
            model.languages[self.index] = self.languages
        yield from self.enter(s + 1)


class Mechanism:
    """The whole review cycle of one replication."""

    def __init__(
        self,
        params: Parameters,
        pairings: Pairings,
        initial: InitialState,
        streams: ReplicationStreams,
        horizon_day: float,
        levers: Levers = NO_LEVERS,
    ):
        self.params = params
        self.levers = levers
        self.pairings = pairings
        self.initial = initial
        self.streams = streams
        self.horizon_day = horizon_day
        self.env = simpy.Environment(initial_time=initial.day)
        check_staffing(params.secretariat_officers, levers)
        # The rules read parameters and levers as the compiled engine does: as arrays.
        self.P = pack_parameters(params, int(np.sum(pairings.group == 1)))
        self.lever_arrays = pack_levers(levers, pairings)
        self.secretariat = Secretariat(self.env, pairings.n_reviews, params.secretariat_officers, self.lever_arrays)
        self.group_start = initial.group_start
        self._records(pairings, initial)
        responsiveness, silent = party_traits(initial, streams, params)
        self.responsiveness = np.array(responsiveness, dtype=float)
        self.parties = [Party(self, p, bool(silent[p])) for p in range(pairings.n_parties)]
        for p, party in enumerate(self.parties):
            if focal_point_at_start.py_func(self.nominated_at[p]):
                party.have_focal_point()
                party.experts.succeed()
        self.reviews = [self._review(r) for r in range(pairings.n_reviews)]
        self._start_processes()

    def _records(self, pairings: Pairings, initial: InitialState) -> None:
        """What the run records and counts, from the initial state's."""
        n_parties = pairings.n_parties
        self.entered = initial.review_entered.copy()
        self.deadline = initial.review_deadline.copy()
        self.languages = initial.review_languages.copy()
        self.saq_lateness = initial.saq_lateness.copy()
        self.nominated_at = initial.party_nominated_at.copy()
        self.first_replaced_at = initial.party_first_replaced_at.copy()
        self.work_done = np.full((len(initial.review_stage), N_STAGES), np.nan)
        if initial.review_work_done_at is not None:
            for r in np.flatnonzero(np.isfinite(initial.review_work_done_at)):
                self.work_done[r, initial.review_stage[r]] = initial.review_work_done_at[r]
        self.replacements = np.zeros(n_parties, dtype=int)
        self.has_focal_point = np.zeros(n_parties, dtype=np.bool_)
        self.in_handover = np.zeros(n_parties, dtype=np.bool_)
        self.open_reviews_of = np.zeros(n_parties, dtype=np.int64)  # the rules' count of each party's open reviews
        self.redraws: list[tuple[float, int, int, int, int]] = []
        self.handovers: list[tuple[int, float, float]] = []
        self.events = 0
        self.tally = np.zeros(rules.N_TALLY, dtype=np.int64)
        asked.tally_start(self.tally, initial.review_stage.astype(np.int64), pairings.group.astype(np.int64))
        self.threshold_day = math.nan
        self.all_completed = self.env.event()

    def _review(self, r: int) -> Review:
        """Review ``r``, its members and their lists of reviews, as the pairings say."""
        members = [self.parties[p] for p in self.pairings.members(r)]
        review = Review(self, r, int(self.pairings.group[r]), members)
        review.languages = int(self.languages[r])
        for party in members:
            party.reviews.append(review)
            party.first_involved = min(party.first_involved, self.initial.group_start[review.group])
            if self.initial.review_stage[r] != Stage.COMPLETED:
                self.open_reviews_of[party.index] += 1
        return review

    def _start_processes(self) -> None:
        """Every party's and every open review's life, as the initial state leaves them."""
        initial = self.initial
        since = initial.party_in_handover_since
        for party in self.parties:
            if party.has_focal_point:
                self.env.process(party.replace_focal_points(math.nan if since is None else float(since[party.index])))
            else:
                self.env.process(party.life())
        for r, review in enumerate(self.reviews):
            stage = int(initial.review_stage[r])
            if stage == Stage.COMPLETED:
                review.stage = Stage.COMPLETED
                continue
            age = age_at_start.py_func(initial.review_entered[r, stage], initial.day) if stage >= 0 else 0.0
            if initial.review_redraws_used is not None and initial.review_waiting_since is not None:
                review.redraws_at_start = (int(initial.review_redraws_used[r]), float(initial.review_waiting_since[r]))
            review.process = self.env.process(review.life(stage, age))

    # --- bookkeeping called by the processes ----------------------------------------
    def record_replacement(self, party: int) -> int:
        """Log a focal point leaving; returns the handover's index so its end can be logged."""
        self.replacements[party] += 1
        self.events += 1
        if np.isnan(self.first_replaced_at[party]):
            self.first_replaced_at[party] = self.env.now
        self.handovers.append((party, self.env.now, math.inf))
        return len(self.handovers) - 1

    def review_completed(self, review: Review) -> None:
        if asked.review_completed(self.tally, self.open_reviews_of, review.group, *review.positions, self.P):
            self.threshold_day = self.env.now
        if self.tally[rules.TALLY_OPEN] == 0:
            self.all_completed.succeed()

    def redraw_reviewer(self, review: Review, slot: int) -> None:
        """Replace a reviewing State by lot among parties with a focal point (¶6)."""
        old = review.members[slot]
        new_index = review.stream("redraw").draw(rules.redraw_reviewer, self.has_focal_point, *review.positions)
        if new_index < 0:
            return
        new = self.parties[new_index]
        review.members[slot] = new
        old.reviews.remove(review)
        new.reviews.append(review)
        self.open_reviews_of[old.index] -= 1
        self.open_reviews_of[new.index] += 1
        self.redraws.append((self.env.now, review.index, slot, old.index, new.index))
        self.events += 1

    def run(self) -> RunRecord:
        horizon = self.env.timeout(max(0.0, self.horizon_day - self.env.now))
        if self.tally[rules.TALLY_OPEN]:
            self.env.run(until=self.env.any_of([horizon, self.all_completed]))
        return RunRecord(
            start_day=self.initial.day,
            end_day=self.env.now,
            entered=self.entered,
            deadline=self.deadline,
            languages=self.languages,
            saq_lateness=self.saq_lateness,
            nominated_at=self.nominated_at,
            first_replaced_at=self.first_replaced_at,
            replacements=self.replacements,
            redraw_log=np.array(self.redraws, dtype=float).reshape(-1, 5),
            handover_log=np.array(self.handovers, dtype=float).reshape(-1, 3),
            threshold_day=self.threshold_day,
            events=self.events,
            draws=self.streams.draws(),
            work_done=self.work_done,
        )
