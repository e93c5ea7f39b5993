"""Replications: seeds, random streams, worker processes and tidy results.

Replication ``i`` always runs on the ``i``-th child of ``SeedSequence(seed)``, and within
it every stochastic component has its own stream (:mod:`workbench.simulation.streams`).  Work is cut
into chunks of consecutive replications and the chunks' results are put back in order,
so a run gives identical tables whatever the number of workers.  Workers are loky
processes (via joblib), which work in a plain interpreter, a Jupyter kernel and a Voilà
app alike; the model does not know where it runs.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.inputs.levers import NO_LEVERS, Condition, Levers
from workbench.simulation.engine import run_compiled
from workbench.simulation.model import Mechanism
from workbench.simulation.schema import STAGES, InitialState, RunRecord, Stage
from workbench.inputs.observations import Snapshot, latest_snapshot
from workbench.observation.observe import STAGE_COLUMNS, monthly_counts, stage_at
from workbench.inputs.parameters import Parameters
from workbench.inputs.parties import Pairings, synthetic_pairings
from workbench.inputs.posterior import Posterior
from workbench.simulation.snapshot import history_start, report_start
from workbench.simulation.streams import ReplicationStreams, replication_seeds
from workbench.observation.summaries import MonthlySummary
from workbench.core.timeline import month_starts, to_day, to_timestamps

DEFAULT_HORIZON = dt.date(2060, 12, 31)

#: The engines that run a replication: the compiled one (default) and the SimPy reference.
ENGINES = ("compiled", "simpy")

#: Key under the replication seed for its synthetic pairings (kept apart from the model's streams).
_PAIRINGS_KEY = 300


@dataclass(frozen=True)
class Setup:
    """Everything a replication needs besides its seed; picklable, sent once to each worker."""

    params: Parameters
    snapshot: Snapshot | None  # None with start="history"
    pairings: Pairings | None  # None: draw synthetic pairings in each replication
    start: str = "report"  # "report": the snapshot's state; "history": 2020-12-01
    horizon: dt.date = DEFAULT_HORIZON
    posterior: Posterior | None = None  # if given, each replication draws its parameters from it
    fixed: tuple[str, ...] = ()  # parameters a scenario sets, which the posterior draw does not override
    levers: Levers = NO_LEVERS  # the scenario's policy levers
    condition: Condition = field(default_factory=Condition)  # when the next cluster may start (¶25)
    engine: str = "compiled"  # "compiled" (workbench.simulation.engine) or "simpy" (workbench.simulation.model, the reference)

    def __post_init__(self):
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {self.engine!r}")
        if self.start not in ("report", "history"):
            raise ValueError(f"start must be 'report' or 'history', not {self.start!r}")
        if self.start == "report" and self.snapshot is None:
            raise ValueError("start='report' needs a snapshot")

    def parameters_for(self, seed: np.random.SeedSequence) -> Parameters:
        """The replication's parameters: a posterior draw (if any) under the scenario's settings."""
        if self.posterior is None:
            return self.params
        draw = {k: v for k, v in self.posterior.draw(seed).items() if k not in self.fixed}
        return self.params.updated(draw, source=str(self.posterior.path))

    @property
    def start_day(self) -> float:
        return to_day(self.snapshot.as_at) if self.start == "report" else to_day("2020-12-01")


def pairings_for(setup: Setup, seed: np.random.SeedSequence) -> Pairings:
    if setup.pairings is not None:
        return setup.pairings
    return synthetic_pairings(np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + (_PAIRINGS_KEY,)))


def initial_state(setup: Setup, pairings: Pairings, streams: ReplicationStreams, params: Parameters) -> InitialState:
    if setup.start == "history":
        from workbench.simulation.snapshot import group_start_days

        return history_start(pairings, group_start_days(setup.snapshot))
    return report_start(setup.snapshot, pairings, params, streams)


def simulate(setup: Setup, seed: np.random.SeedSequence) -> tuple[RunRecord, Pairings, Parameters]:
    """One replication: its parameters, pairings and initial state from its seed, run to the horizon
    by the setup's engine (both follow the same path; see workbench.simulation.engine)."""
    params = setup.parameters_for(seed)
    pairings = pairings_for(setup, seed)
    streams = ReplicationStreams(seed, pairings.n_parties, pairings.n_reviews)
    initial = initial_state(setup, pairings, streams, params)
    if setup.engine == "simpy":
        record = Mechanism(params, pairings, initial, streams, to_day(setup.horizon), setup.levers).run()
    else:
        record = run_compiled(params, pairings, initial, streams, to_day(setup.horizon), setup.levers)
    return record, pairings, params


#: The stage a condition counts, by its name in scenario files.
COUNTED_STAGES = {"completed": Stage.COMPLETED, "summaries": Stage.SUMMARIES, "lists": Stage.LISTS}


def crossing_day(record: RunRecord, pairings: Pairings, groups: tuple[int, ...], stage: Stage, share: float) -> float:
    """Day on which ``share`` of the reviews of ``groups`` had reached ``stage`` (NaN: not in the run).

    A review has reached a stage once it entered it or any later one.
    """
    mask = np.isin(pairings.group, groups)
    target = math.ceil(round(share * int(mask.sum()), 9))
    if target == 0:
        return -math.inf
    entered = np.where(np.isnan(record.entered[mask, stage:]), np.inf, record.entered[mask, stage:])
    reached = np.sort(entered.min(axis=1))
    return float(reached[target - 1]) if np.isfinite(reached[target - 1]) else math.nan


def condition_day(record: RunRecord, pairings: Pairings, condition: Condition, start_day: float,
                  rule_share: float = 0.70) -> float:
    """Day the next cluster may start: the ¶25 rule until the Conference decides, its new rule after.

    With no decision date the new rule holds from the start; a crossing of the old rule
    before the decision date stands.  NaN when neither happens within the run.
    """
    new = crossing_day(record, pairings, condition.groups, COUNTED_STAGES[condition.counted_stage], condition.share)
    if condition.decided is None:
        day = max(new, start_day) if not math.isnan(new) else math.nan
        return day
    decided = to_day(condition.decided)
    old = crossing_day(record, pairings, (1,), Stage.COMPLETED, rule_share)
    candidates = []
    if not math.isnan(old) and old < decided:
        candidates.append(max(old, start_day))
    if not math.isnan(new) and decided <= record.end_day:
        candidates.append(max(new, decided))
    return min(candidates) if candidates else math.nan


@dataclass
class ReplicationOutput:
    """What a worker sends back for one replication (compact arrays, not DataFrames)."""

    replication: int
    threshold_day: float
    monthly: np.ndarray | None  # (3 groups, n_months, n_stages) counts, if the per-replication table is kept
    entered: np.ndarray | None  # (n_reviews, n_stages) if events are kept
    group: np.ndarray | None
    review_ids: tuple[str, ...] | None
    events: int


@dataclass
class ChunkOutput:
    """A chunk of consecutive replications: each one's outputs, and the chunk's monthly summary."""

    replications: list[ReplicationOutput]
    summary: MonthlySummary


def _run_chunk(setup: Setup, seed: int, replications: list[int], month_dates: list[dt.date], keep_events: bool,
               keep_monthly: bool) -> ChunkOutput:
    seeds = replication_seeds(seed, max(replications) + 1)
    month_days = np.array([to_day(d) for d in month_dates])
    summary = None
    out = []
    for i in replications:
        record, pairings, params = simulate(setup, seeds[i])
        threshold = condition_day(record, pairings, setup.condition, setup.start_day, params.completion_share)
        # (group, month, stage) counts; column 0 of monthly_counts is "not started", left out.
        monthly = monthly_counts(stage_at(record, month_days), pairings.group.astype(np.int64), 3)[:, :, 1:]
        if summary is None:
            summary = MonthlySummary.empty(month_dates, max(pairings.group_sizes().values()), pairings.n_reviews)
        summary.add(monthly)
        out.append(ReplicationOutput(
            replication=i, threshold_day=threshold, monthly=monthly if keep_monthly else None,
            entered=record.entered if keep_events else None,
            group=pairings.group if keep_events else None,
            review_ids=pairings.review_ids if keep_events else None,
            events=record.events,
        ))
    return ChunkOutput(out, summary)


@dataclass
class Results:
    """Tidy results of a set of replications (see the README for the columns)."""

    threshold: pd.DataFrame  # one row per replication: the 70 % date or not reached
    monthly: pd.DataFrame | None  # stage counts by replication, first day of each month, and group (when kept)
    events: pd.DataFrame | None  # per-review stage-entry events (when kept)
    monthly_summary: MonthlySummary  # the monthly counts' distribution across replications (always)
    setup: Setup
    seed: int
    replications: int
    workers: int
    elapsed_s: float
    simulated_events: int
    meta: dict = field(default_factory=dict)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def iter_map(func, tasks: list[tuple], workers: int = 1, scheduler: str | None = None, progress=None):
    """Yield ``func(*task)`` for each task, in the tasks' order, from local processes or a Dask cluster.

    ``scheduler`` is the address of a running Dask scheduler (``tcp://host:8786``); without
    it, ``workers`` loky processes (1: this process).  Results come back in the order of the
    tasks whatever finishes first, which is what keeps every result reproducible, and one
    at a time, so a caller that reduces them as they come holds only what it keeps.
    """
    if scheduler:
        from distributed import Client

        with Client(scheduler, set_as_default=False) as client:
            futures = client.map(lambda task: func(*task), tasks, pure=False)
            for k, future in enumerate(futures):
                result = future.result()
                future.release()
                yield result
                if progress:
                    progress(k + 1, len(tasks))
        return
    if workers <= 1 or len(tasks) <= 1:
        for k, task in enumerate(tasks):
            yield func(*task)
            if progress:
                progress(k + 1, len(tasks))
        return
    from joblib import Parallel, delayed

    results = Parallel(n_jobs=workers, backend="loky", return_as="generator")(delayed(func)(*task) for task in tasks)
    for k, result in enumerate(results):
        yield result
        if progress:
            progress(k + 1, len(tasks))


def parallel_map(func, tasks: list[tuple], workers: int = 1, scheduler: str | None = None, progress=None) -> list:
    """``[func(*task) for task in tasks]``, in order, on local processes or a Dask cluster (see :func:`iter_map`)."""
    return list(iter_map(func, tasks, workers, scheduler, progress))


def run_replications(setup: Setup, replications: int, seed: int = 1, workers: int | None = None,
                     keep_events: bool = True, scheduler: str | None = None, progress=None,
                     keep_monthly: bool = True) -> Results:
    """Run ``replications`` replications from ``seed`` on ``workers`` processes (default: all cores).

    With ``scheduler`` (a Dask scheduler's address) the chunks go to that cluster instead.
    The monthly stage counts always stream into :attr:`Results.monthly_summary`; the
    per-replication tables (``events``, ``monthly``) are kept only when asked for, so a run of
    any size holds little more than one number per replication.
    """
    if replications < 1:
        raise ValueError("replications must be at least 1")
    workers = default_workers() if workers is None else max(1, int(workers))
    workers = min(workers, replications)
    start_date = setup.snapshot.as_at if setup.start == "report" else dt.date(2020, 12, 1)
    month_dates = month_starts(start_date, setup.horizon)

    started = time.perf_counter()
    n_chunks = 1 if workers == 1 and not scheduler else min(replications, workers * 4 if not scheduler else 64)
    chunks = [[int(i) for i in c] for c in np.array_split(np.arange(replications), n_chunks) if len(c)]
    if progress is not None and n_chunks == 1 and replications > 1:  # chunk serial runs too, to report progress
        chunks = [[int(i) for i in c] for c in np.array_split(np.arange(replications), min(replications, 10))]
    tasks = [(setup, seed, c, month_dates, keep_events, keep_monthly) for c in chunks]
    outputs: list[ReplicationOutput] = []
    summary = None
    for part in iter_map(_run_chunk, tasks, workers, scheduler, progress):
        outputs.extend(part.replications)
        if summary is None:
            summary = part.summary
        else:
            summary.merge(part.summary)
    outputs.sort(key=lambda o: o.replication)
    elapsed = time.perf_counter() - started
    return _tabulate(outputs, summary, setup, seed, replications, workers, elapsed, month_dates)


def _tabulate(outputs: list[ReplicationOutput], summary: MonthlySummary, setup: Setup, seed: int, n: int, workers: int,
              elapsed: float, month_dates: list[dt.date]) -> Results:
    start_day = setup.start_day
    threshold_days = np.array([o.threshold_day for o in outputs])
    threshold = pd.DataFrame({
        "replication": [o.replication for o in outputs],
        "reached": np.isfinite(threshold_days),
        "date": to_timestamps(threshold_days),
        "years_from_start": (threshold_days - start_day) / 365.2425,
    })
    monthly = None
    if outputs and outputs[0].monthly is not None:
        n_months = len(month_dates)
        counts = np.stack([o.monthly for o in outputs])  # (rep, group, month, stage)
        reps, groups, mons = np.meshgrid(np.arange(len(outputs)), [1, 2, 3], np.arange(n_months), indexing="ij")
        monthly = pd.DataFrame({
            "replication": np.array([o.replication for o in outputs])[reps.ravel()],
            "date": pd.to_datetime(np.array(month_dates, dtype="datetime64[D]"))[mons.ravel()],
            "group": groups.ravel().astype(np.int8),
        })
        for k, col in enumerate(STAGE_COLUMNS.values()):
            monthly[col] = counts[..., k].ravel()
    events = None
    if outputs and outputs[0].entered is not None:
        frames = []
        stage_names = np.array([s.name.lower() for s in STAGES])
        for o in outputs:
            review, stage = np.nonzero(np.isfinite(o.entered))
            frames.append(pd.DataFrame({
                "replication": o.replication,
                "review": np.array(o.review_ids)[review],
                "group": o.group[review].astype(np.int8),
                "stage": stage_names[stage],
                "date": to_timestamps(o.entered[review, stage]),
            }))
        events = pd.concat(frames, ignore_index=True)
        events["stage"] = pd.Categorical(events["stage"], categories=list(stage_names), ordered=True)
    return Results(threshold=threshold, monthly=monthly, events=events, monthly_summary=summary, setup=setup, seed=seed, replications=n,
                   workers=workers, elapsed_s=elapsed, simulated_events=int(sum(o.events for o in outputs)))


def default_setup(params: Parameters | None = None, start: str = "report", horizon: dt.date = DEFAULT_HORIZON,
                  pairings: Pairings | None = None, snapshot: Snapshot | None = None,
                  posterior: Posterior | None = None, fixed: tuple[str, ...] = (), levers: Levers = NO_LEVERS,
                  condition: Condition | None = None, engine: str = "compiled") -> Setup:
    """The setup of a forecast: the latest report, synthetic pairings, to 2060."""
    return Setup(params=params or Parameters(), snapshot=snapshot or latest_snapshot(), pairings=pairings,
                 start=start, horizon=horizon, posterior=posterior, fixed=tuple(fixed), levers=levers,
                 condition=condition or Condition(), engine=engine)


def warm_up() -> float:
    """Compile (or load from the cache) everything a replication runs: about 20 s the first time
    after installation, a fraction of a second after; returns the seconds it took."""
    started = time.perf_counter()
    run_replications(default_setup(horizon=dt.date(2026, 1, 1)), 1, seed=0, workers=1, keep_events=False)
    return time.perf_counter() - started
