"""What one replication needs, and one replication run by either engine.

A :class:`Setup` holds everything but the seed: parameters (or a posterior to draw them
from), the observed snapshot the run starts from, pairings, the scenario's levers and
condition, the horizon and the engine.  :func:`simulate` runs replication ``seed`` of it;
:func:`engines_diverge` runs it on both engines and reports where they part ways.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import pickle
from dataclasses import dataclass, field, replace

import numpy as np

from workbench.core.errors import InputError
from workbench.core.timeline import GROUP_STARTS, LAST_HORIZON, to_day
from workbench.experiments.matched_histories import MatchedHistories, with_history
from workbench.inputs.levers import NO_LEVERS, Condition, Levers, check_named_targets
from workbench.inputs.observations import Snapshot, latest_snapshot
from workbench.inputs.parameters import Parameters
from workbench.inputs.parties import REPORTED_GROUPS, Pairings, synthetic_pairings
from workbench.inputs.posterior import Posterior
from workbench.inputs.record import ReviewRecord
from workbench.simulation.divergence import Divergence, first_divergence
from workbench.simulation.engine import run_compiled
from workbench.simulation.model import Mechanism
from workbench.simulation.record_start import record_start
from workbench.simulation.schema import InitialState, RunRecord
from workbench.simulation.snapshot import group_start_days, history_start, report_start
from workbench.simulation.streams import ReplicationStreams

DEFAULT_HORIZON = dt.date(2060, 12, 31)

#: Where a replication starts: the report's state (placed), 2020 (history), or a review record's state.
STARTS = ("report", "history", "record", "matched")

#: The engines that run a replication: the compiled one (default) and the SimPy reference.
ENGINES = ("compiled", "simpy")


@dataclass(frozen=True)
class Setup:
    """Everything a replication needs besides its seed; picklable, sent once to each worker."""

    params: Parameters
    snapshot: Snapshot | None  # None with start="history"
    pairings: Pairings | None  # None: draw synthetic pairings in each replication
    start: str = "report"  # "report": the snapshot's state; "history": 2020-12-01; "record": the record's state
    horizon: dt.date = DEFAULT_HORIZON
    posterior: Posterior | None = None  # if given, each replication draws its parameters from it
    fixed: tuple[str, ...] = ()  # parameters a scenario sets, which the posterior draw does not override
    levers: Levers = NO_LEVERS  # the scenario's policy levers
    condition: Condition = field(default_factory=Condition)  # when the next cluster may start (¶25)
    engine: str = "compiled"  # "compiled" (workbench.simulation.engine) or "simpy" (workbench.simulation.model, the reference)
    record: ReviewRecord | None = None  # with start="record": the Secretariat's record the run starts from
    histories: MatchedHistories | None = None  # with start="matched": the histories from 2020 that lead to the report
    # Each particle's parameters, checked and built once in a process rather than once per
    # replication (about 30 µs each): the posterior has a few thousand particles and a run draws
    # from them thousands of times.  Not sent to workers (see __getstate__).
    _particle_parameters: dict[int, Parameters] = field(default_factory=dict, init=False, compare=False, repr=False)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_particle_parameters": {}}

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {self.engine!r}")
        if self.start not in STARTS:
            raise ValueError(f"start must be one of {', '.join(STARTS)}, not {self.start!r}")
        if self.start in ("report", "matched") and self.snapshot is None:
            raise ValueError(f"start={self.start!r} needs a snapshot")
        if (self.start == "record") != (self.record is not None):
            raise ValueError("start='record' needs a record, and a record needs start='record'")
        if (self.start == "matched") != (self.histories is not None):
            raise ValueError("start='matched' needs matched histories, and they need start='matched'")
        if self.record is not None and self.pairings is not self.record.pairings:
            raise ValueError("a run from a record uses the record's pairings")
        self._check_dates()

    def _check_dates(self) -> None:
        """The horizon lies after the start and before :data:`LAST_HORIZON`; no lever starts, and
        no Conference decision falls, after it (it would silently do nothing)."""
        if not self.start_date < self.horizon <= LAST_HORIZON:
            raise InputError(
                "horizon", "horizon", f"{self.horizon}", f"a date after the start ({self.start_date}) and at most {LAST_HORIZON}"
            )
        late = [(f"levers.{name}.start", lever.start) for name, lever in self.levers.active().items() if lever.start > self.horizon]
        if self.condition.decided is not None and self.condition.decided > self.horizon:
            late.append(("condition.decided_at", self.condition.decided))
        for where, day in late:
            raise InputError(
                "scenario", where, f"{day} is after the horizon {self.horizon}, so it would do nothing", "a date before the horizon"
            )

    def parameters_for(self, seed: np.random.SeedSequence) -> Parameters:
        """The replication's parameters: a posterior draw (if any) under the scenario's settings."""
        if self.histories is not None:
            return with_history(self, seed)[1]
        if self.posterior is None:
            return self.params
        index = self.posterior.draw_index(seed)
        params = self._particle_parameters.get(index)
        if params is None:
            draw = {k: v for k, v in self.posterior.particle(index).items() if k not in self.fixed}
            params = self._particle_parameters[index] = self.params.updated(draw, source=str(self.posterior.path))
        return params

    @property
    def report(self) -> Snapshot:
        """The snapshot the run starts from (start="report") or is dated by (start="history")."""
        if self.snapshot is None:
            raise ValueError("this setup has no snapshot (start='history' without one)")
        return self.snapshot

    @property
    def start_date(self) -> dt.date:
        """The first simulated day: the report's or the record's date, or group 1's start (¶22)."""
        if self.record is not None:
            return self.record.as_at
        return GROUP_STARTS[1] if self.start == "history" else self.report.as_at

    @property
    def start_day(self) -> float:
        return to_day(self.start_date)

    @property
    def group_sizes(self) -> dict[int, int]:
        """Reviews in each group: the pairing list's, or the report's (¶7)."""
        if self.pairings is not None:
            return self.pairings.group_sizes()
        if self.snapshot is not None and self.snapshot.groups:
            return {g: group.reviews for g, group in self.snapshot.groups.items()}
        return {g: n for g, (n, _) in REPORTED_GROUPS.items()}

    @property
    def completion_target(self) -> int:
        """Completed group-1 reviews the ¶25 condition needs: 44 of 62 at 70 %."""
        return self.params.completion_target(self.group_sizes[1])


def pairings_for(setup: Setup, seed: np.random.SeedSequence) -> Pairings:
    if setup.histories is not None:
        return with_history(setup, seed)[0].pairings
    if setup.pairings is not None:
        return setup.pairings
    return synthetic_pairings(seed)  # from the replication's own pairings stream, apart from the model's


def initial_state(setup: Setup, pairings: Pairings, streams: ReplicationStreams, params: Parameters) -> InitialState:
    if setup.start == "history":
        return history_start(pairings, group_start_days(setup.snapshot))
    if setup.record is not None:
        return record_start(setup.record, params, streams)
    if setup.histories is not None:
        return record_start(with_history(setup, streams.seed)[0], params, streams)
    return report_start(setup.report, pairings, params, streams)


@dataclass(frozen=True)
class ReplicationStart:
    """A replication before anything happens in it: its parameters, pairings and initial state,
    all drawn from its seed.  The levers, the ¶25 condition, the horizon and the engine do not
    enter it, so a scenario starts each replication where its baseline does."""

    params: Parameters
    pairings: Pairings
    initial: InitialState


def replication_start(setup: Setup, seed: np.random.SeedSequence) -> ReplicationStart:
    """The start of replication ``seed``: about 0.3 ms, a quarter of a replication."""
    params = setup.parameters_for(seed)
    pairings = pairings_for(setup, seed)
    return ReplicationStart(
        params, pairings, initial_state(setup, pairings, ReplicationStreams(seed, pairings.n_parties, pairings.n_reviews), params)
    )


def start_key(setup: Setup) -> str:
    """A digest of everything in ``setup`` that a replication's start depends on (see
    :class:`ReplicationStart`): equal keys and seeds give equal starts."""
    digest = hashlib.sha256(pickle.dumps((setup.params, setup.snapshot, setup.pairings, setup.start, setup.fixed, setup.record)))
    if setup.histories is not None:
        digest.update(setup.histories.digest.encode())
    if setup.posterior is not None:
        posterior = setup.posterior
        structures = None if posterior.structures is None else posterior.structures.tolist()  # names, not the pointers of an object array
        digest.update(pickle.dumps((posterior.names, str(posterior.path), posterior.only, structures)))
        digest.update(np.ascontiguousarray(posterior.values).tobytes() + np.ascontiguousarray(posterior.weights).tobytes())
    return digest.hexdigest()


def simulate(setup: Setup, seed: np.random.SeedSequence, start: ReplicationStart | None = None) -> tuple[RunRecord, Pairings, Parameters]:
    """One replication, from its start (drawn from its seed unless given), run to the horizon
    by the setup's engine (both follow the same path; see workbench.simulation.engine).
    Neither engine changes the start, so one start can be run under many scenarios."""
    if start is None:
        start = replication_start(setup, seed)
    params, pairings, initial = start.params, start.pairings, start.initial
    streams = ReplicationStreams(seed, pairings.n_parties, pairings.n_reviews)
    if setup.engine == "simpy":
        record = Mechanism(params, pairings, initial, streams, to_day(setup.horizon), setup.levers).run()
    else:
        record = run_compiled(params, pairings, initial, streams, to_day(setup.horizon), setup.levers)
    return record, pairings, params


def check_pairings_match(pairings: Pairings, snapshot: Snapshot) -> None:
    """A pairing list must have the report's reviews per group (¶7): the forecast's start
    state, the 70 % target and the group counts are all the report's."""
    expected = {g: group.reviews for g, group in snapshot.groups.items()}
    actual = pairings.group_sizes()
    if actual != expected:
        shown = ", ".join(f"group {g}: {n}" for g, n in sorted(actual.items()))
        wanted = ", ".join(f"group {g}: {n}" for g, n in sorted(expected.items()))
        raise InputError(pairings.source, "group", f"reviews per group are {shown}", f"those of the report (¶7): {wanted}")


def default_setup(
    params: Parameters | None = None,
    start: str = "report",
    horizon: dt.date = DEFAULT_HORIZON,
    pairings: Pairings | None = None,
    snapshot: Snapshot | None = None,
    posterior: Posterior | None = None,
    fixed: tuple[str, ...] = (),
    levers: Levers = NO_LEVERS,
    condition: Condition | None = None,
    engine: str = "compiled",
    record: ReviewRecord | None = None,
    histories: MatchedHistories | None = None,
) -> Setup:
    """The setup of a forecast: the latest report, synthetic pairings, to 2060.  A lever that names
    parties must name parties of the pairing list (checked here, before any replication runs).
    With a ``record``, the run starts from its state with its pairings (start="record")."""
    if record is not None:
        if pairings is not None:
            raise InputError("command line", "--pairings", "given with a record, which has its own", "one of them")
        pairings, start = record.pairings, "record"
    if histories is not None:
        start = "matched"
    check_named_targets(levers, pairings.parties if pairings is not None else None, pairings.source if pairings is not None else "")
    snapshot = snapshot or latest_snapshot()
    if pairings is not None:
        check_pairings_match(pairings, snapshot)
    return Setup(
        params=params or Parameters(),
        snapshot=snapshot,
        pairings=pairings,
        start=start,
        horizon=horizon,
        posterior=posterior,
        fixed=tuple(fixed),
        levers=levers,
        condition=condition or Condition(),
        engine=engine,
        record=record,
        histories=histories,
    )


def engines_diverge(setup: Setup, seed: np.random.SeedSequence) -> Divergence | None:
    """Run replication ``seed`` on both engines; the first event where they differ, or None."""
    compiled, _, _ = simulate(replace(setup, engine="compiled"), seed)
    reference, _, _ = simulate(replace(setup, engine="simpy"), seed)
    return first_divergence(compiled, reference, ("compiled", "simpy"))
