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

from workbench.inputs.levers import NO_LEVERS, Levers
from workbench.inputs.parameters import Parameters
from workbench.inputs.parties import Pairings
from workbench.simulation import rules
from workbench.simulation.layout import pack_levers, pack_parameters
from workbench.simulation.schema import InitialState, RunRecord, check_staffing, party_traits
from workbench.simulation.stages import RULE_OF, Stage
from workbench.simulation.streams import ReplicationStreams, UniformStream

Process = Generator[Any, Any, None]


class Secretariat:
    """UNODC's review team: a few officers, each organizing one thing at a time (¶42-43).

    A staffing change from a start date (a lever) is modelled with placeholder holders:
    added officers are held until the start date, lost officers are taken from it on, each
    ahead of any review in the queue; reviews are served first-come first-served.
    """

    def __init__(self, env: simpy.Environment, officers: int, change: int = 0, change_day: float = math.inf):
        self.env = env
        if change == 0:
            self.officers: simpy.Resource = simpy.Resource(env, capacity=officers)
            return
        self.officers = simpy.PriorityResource(env, capacity=max(officers, officers + change))
        for _ in range(abs(change)):
            if change > 0:
                env.process(self._hold(env.now, change_day))  # not yet recruited
            else:
                env.process(self._hold(change_day, math.inf))  # gone from change_day on

    def _hold(self, since: float, until: float) -> Process:
        if since > self.env.now:
            yield self.env.timeout(since - self.env.now)
        with self.officers.request(priority=-1) as request:  # type: ignore[call-arg]
            yield request
            if math.isfinite(until):
                yield self.env.timeout(max(0.0, until - self.env.now))
            else:
                yield self.env.event()  # never released

    def assist(self, duration_days: float) -> Process:
        """Take one officer for ``duration_days``, queueing first-come first-served."""
        with self.officers.request() as request:
            yield request
            yield self.env.timeout(duration_days)


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
        self.in_handover = False
        self.back_in_place = self.focal_point  # the event a stalled review waits for
        self.first_involved = math.inf

    @property
    def responsiveness(self) -> float:
        return float(self.model.responsiveness[self.index])

    @responsiveness.setter
    def responsiveness(self, value: float) -> None:
        self.model.responsiveness[self.index] = value

    @property
    def in_place(self) -> bool:
        return self.focal_point.triggered and not self.in_handover

    def stream(self, component: str) -> UniformStream:
        return self.model.streams.party[component][self.index]

    def appoint_focal_point(self) -> None:
        if self.focal_point.triggered:
            return
        self.focal_point.succeed()
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

    def replace_focal_points(self) -> Process:
        """Focal points change from time to time (¶14): every review of the party stalls."""
        model = self.model
        if model.params.replacement_rate <= 0:
            return
        stream = self.stream("replacement")
        while True:
            yield self.env.timeout(stream.draw(rules.replacement_gap, model.P))
            if all(review.stage == Stage.COMPLETED for review in self.reviews):
                return  # nothing left that a replacement could affect
            handover = model.record_replacement(self.index)
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

    @property
    def positions(self) -> tuple[int, int, int]:
        """The parties' indices: under review, reviewer 1, reviewer 2."""
        a, b, c = self.members
        return a.index, b.index, c.index

    def stream(self, component: str) -> UniformStream:
        return self.model.streams.review[component][self.index]

    # --- the mechanics every stage shares --------------------------------------------
    def all_in_place(self) -> bool:
        return all(p.in_place for p in self.members)

    def wait_for_focal_points(self) -> Process:
        """Block while any of the three focal points is missing or handing over."""
        while not self.all_in_place():
            yield self.env.any_of([p.back_in_place for p in self.members if not p.in_place])

    def work(self, duration_days: float) -> Process:
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
        while self.stage != Stage.COMPLETED:
            if self.stage == Stage.NOMINATIONS:
                yield from self.gather_focal_points(age_days)
            else:
                yield from self.take_stage(age_days)
            age_days = 0.0

    def gather_focal_points(self, age_days: float) -> Process:
        """No review can begin until all three focal points exist (¶26).

        While a reviewing State has no focal point, the party under review asks, once its
        patience runs out, for the drawing of lots to be repeated, at most four times (¶6-7);
        the new reviewer is drawn at the next joint meeting.  The redraw lever has the
        Secretariat act sooner (:func:`~workbench.simulation.rules.redraw_schedule`).
        """
        P, levers = self.model.P, self.model.lever_arrays
        rounds, since = rules.redraws_before(age_days, P)
        waiting_since = self.env.now - since
        while True:
            missing = [p for p in self.members if not p.focal_point.triggered]
            if not missing:
                break
            pending = self.env.all_of([p.focal_point for p in missing])
            missing_reviewers = [slot for slot in (1, 2) if not self.members[slot].focal_point.triggered]
            patience_ends, delay = math.inf, 0.0
            if missing_reviewers and rounds < rules.REDRAWS_ALLOWED:
                patience_ends, delay = rules.redraw_schedule(waiting_since, self.group, *self.positions, P, levers)
            if not math.isfinite(patience_ends):
                yield pending
                continue
            yield pending | self.env.timeout(max(0.0, patience_ends - self.env.now))
            if pending.triggered:
                continue
            yield self.env.timeout(delay)
            rounds += 1
            for slot in missing_reviewers:
                if not self.members[slot].focal_point.triggered:
                    self.model.redraw_reviewer(self, slot)
            waiting_since = self.env.now
        yield from self.enter(Stage.CONSULTATION)

    def take_stage(self, age_days: float) -> Process:
        """Work through the current stage as its rule says (:data:`~workbench.simulation.stages.STAGE_RULES`):
        wait for the experts it needs, work (paused by handovers), take an officer's time if the
        Secretariat takes part, agree the languages at the consultation, and enter the next stage."""
        model = self.model
        rule = RULE_OF[Stage(self.stage)]
        for position in rule.experts:
            yield self.members[position].experts
        s = int(self.stage)
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
        if rule.secretariat is not None:
            yield from model.secretariat.assist(self.stream("secretariat").draw(rules.secretariat_days, s, model.P))
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
        check_staffing(params, levers)
        staffing = levers.secretariat_staffing
        self.secretariat = Secretariat(
            self.env, params.secretariat_officers, staffing.officers_change if staffing else 0, staffing.start_day if staffing else math.inf
        )
        self.group_start = initial.group_start
        # The rules read parameters and levers as the compiled engine does: as arrays.
        self.P = pack_parameters(params, int(np.sum(pairings.group == 1)))
        self.lever_arrays = pack_levers(levers, pairings)

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
        self.responsiveness = np.array(responsiveness, dtype=float)
        self.parties = [Party(self, p, bool(silent[p])) for p in range(n_parties)]
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
        self.open_reviews -= 1
        if review.group == 1:
            self.group1_completed += 1
            if self.group1_completed == self.group1_target:
                self.threshold_day = self.env.now
        if self.open_reviews == 0:
            self.all_completed.succeed()

    def redraw_reviewer(self, review: Review, slot: int) -> None:
        """Replace a reviewing State by lot among parties with a focal point (¶6)."""
        old = review.members[slot]
        has_focal_point = np.array([p.focal_point.triggered for p in self.parties])
        new_index = review.stream("redraw").draw(rules.redraw_reviewer, has_focal_point, *review.positions)
        if new_index < 0:
            return
        new = self.parties[new_index]
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
        )
