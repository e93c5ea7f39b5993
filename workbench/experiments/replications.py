"""Many replications: chunks of consecutive seeds on workers, reduced in order to tidy tables.

Replication ``i`` always runs on the ``i``-th child of ``SeedSequence(seed)``, and within
it every stochastic component has its own stream (:mod:`workbench.simulation.streams`).
Work is cut into chunks of consecutive replications and the chunks' results are put back
in order, so a run gives identical tables whatever the number of workers
(:mod:`workbench.experiments.workers`); the model does not know where it runs.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.core import interrupts
from workbench.core.errors import InputError
from workbench.core.timeline import DAYS_PER_YEAR, month_starts, to_day, to_timestamps
from workbench.experiments.condition import condition_day
from workbench.experiments.setup import ReplicationStart, Setup, default_setup, replication_start, simulate, start_key
from workbench.experiments.workers import Progress, chunk_count, default_workers, iter_map, load_before_forking
from workbench.observation.observe import STAGE_COLUMNS, monthly_counts
from workbench.observation.summaries import MonthlySummary
from workbench.simulation.schema import STAGES
from workbench.simulation.streams import replication_seeds


@dataclass
class ReplicationOutput:
    """What a worker sends back for one replication (compact arrays, not DataFrames)."""

    replication: int
    threshold_day: float
    monthly: np.ndarray | None  # (3 groups, n_months, n_stages) counts, if kept or sent instead of a summary
    entered: np.ndarray | None  # (n_reviews, n_stages) if events are kept
    group: np.ndarray | None
    review_ids: tuple[str, ...] | None
    events: int


@dataclass
class ChunkOutput:
    """A chunk of consecutive replications: each one's outputs, and the chunk's monthly summary,
    or None when each replication's own monthly counts are smaller to send (both add up exactly:
    a summary is about 9 MB whatever the chunk's size, a replication's counts 18 kB)."""

    replications: list[ReplicationOutput]
    summary: MonthlySummary | None
    sizes: tuple[int, int]  # the largest group and the reviews: the shape of a summary

    def add_to(self, summary: MonthlySummary | None, month_dates: list[dt.date], keep_monthly: bool) -> MonthlySummary:
        """``summary`` with this chunk's counts added (a new one if None)."""
        if summary is None:
            summary = MonthlySummary.empty(month_dates, *self.sizes)
        if self.summary is not None:
            summary.merge(self.summary)
            return summary
        for output in self.replications:
            assert output.monthly is not None, "a chunk without a summary sends each replication's counts"
            summary.add(output.monthly)
            if not keep_monthly:
                output.monthly = None  # memory stays flat in the number of replications
        return summary


class StartCache:
    """The starts of the replications this process ran last, by what they depend on and seed.

    A scenario's replication starts where its baseline's does (:class:`ReplicationStart`), so
    when the explorer reruns a scenario after a lever change, or ``plan`` tries another package
    on the same seeds, each start is found here rather than drawn again: about 0.3 ms, a
    quarter of a replication.  Workers are pinned to chunks (``iter_map(pinned=True)``), so a
    worker is sent the replications it kept.  At most ``capacity`` starts are kept (about 45 kB
    each), the least recently used going first.
    """

    def __init__(self, capacity: int = 1000):
        self.capacity = capacity
        self._starts: OrderedDict[tuple[str, int, int], ReplicationStart] = OrderedDict()
        self._lock = threading.Lock()  # the explorer runs in this process from two threads at times

    def start(self, setup: Setup, key: str, seed: int, i: int, seed_sequence: np.random.SeedSequence) -> ReplicationStart:
        """Replication ``i`` of ``seed``'s start for a setup whose :func:`start_key` is ``key``."""
        with self._lock:
            found = self._starts.get((key, seed, i))
            if found is not None:
                self._starts.move_to_end((key, seed, i))
                return found
        start = replication_start(setup, seed_sequence)
        with self._lock:
            self._starts[(key, seed, i)] = start
            if len(self._starts) > self.capacity:
                self._starts.popitem(last=False)
        return start

    def __len__(self) -> int:
        return len(self._starts)

    def clear(self) -> None:
        self._starts.clear()


#: This process's starts (a worker's own, in a worker).
STARTS = StartCache()


def _run_chunk(
    setup: Setup, seed: int, replications: list[int], month_dates: list[dt.date], keep_events: bool, keep_monthly: bool
) -> ChunkOutput:
    seeds = dict(zip(replications, replication_seeds(seed, replications)))
    month_days = np.array([to_day(d) for d in month_dates])
    key = start_key(setup)
    out = []
    for i in replications:
        # A stop asked for takes effect between replications: raised inside a compiled call (by the
        # signal handler, while Numba checks the arguments or boxes the result) it ends the process
        # with a SystemError or a crash instead of a clean stop.
        with interrupts.deferred():
            record, pairings, params = simulate(setup, seeds[i], STARTS.start(setup, key, seed, i, seeds[i]))
        threshold = condition_day(record, pairings, setup.condition, setup.start_day, params.completion_share)
        out.append(
            ReplicationOutput(
                replication=i,
                threshold_day=threshold,
                # (group, month, stage) counts; column 0 of monthly_counts is "not started", left out.
                monthly=np.ascontiguousarray(monthly_counts(record, month_days, pairings.group, 3)[:, :, 1:]),
                entered=record.entered if keep_events else None,
                group=pairings.group if keep_events else None,
                review_ids=pairings.review_ids if keep_events else None,
                events=record.events,
            )
        )
    sizes = (max(pairings.group_sizes().values()), pairings.n_reviews)
    counts_bytes = sum(o.monthly.nbytes for o in out if o.monthly is not None)
    if keep_monthly or counts_bytes < MonthlySummary.bytes_for(len(month_dates), *sizes):
        return ChunkOutput(out, None, sizes)
    summary = MonthlySummary.empty(month_dates, *sizes)
    for output in out:
        assert output.monthly is not None
        summary.add(output.monthly)
        output.monthly = None
    return ChunkOutput(out, summary, sizes)


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


#: The most replications one call runs: the Monte Carlo error of a probability is then under 0.12
#: points, far below every other uncertainty; 10**12 asked for once ended in a MemoryError.
MAX_REPLICATIONS = 200_000


def run_replications(
    setup: Setup,
    replications: int,
    seed: int = 1,
    workers: int | None = None,
    keep_events: bool = True,
    scheduler: str | None = None,
    progress: Progress | None = None,
    keep_monthly: bool = True,
    first: int = 0,
) -> Results:
    """Run ``replications`` replications from ``seed`` on ``workers`` processes (default: all cores).

    They are replications ``first`` to ``first + replications - 1`` of the seed: a caller that has
    run the first few already (a screening) runs only the rest, and gets the same numbers.

    With ``scheduler`` (a Dask scheduler's address) the chunks go to that cluster instead.
    The monthly stage counts always stream into :attr:`Results.monthly_summary`; the
    per-replication tables (``events``, ``monthly``) are kept only when asked for, so a run of
    any size holds little more than one number per replication.
    """
    if not 1 <= replications <= MAX_REPLICATIONS:
        raise InputError("replications", "replications", f"{replications}", f"a whole number from 1 to {MAX_REPLICATIONS:,}")
    # More processes than cores or replications only add start-up time (measured: 1000 asked
    # with 20 replications started 20 processes on 2 cores and ran ten times slower).
    workers = default_workers() if workers is None else max(1, min(int(workers), default_workers()))
    workers = min(workers, replications)
    month_dates = month_starts(setup.start_date, setup.horizon)
    load_compiled_code()

    started = time.perf_counter()
    n_chunks = chunk_count(replications, workers, scheduler)
    indices = np.arange(first, first + replications)
    chunks = [[int(i) for i in c] for c in np.array_split(indices, n_chunks) if len(c)]
    if progress is not None and n_chunks == 1 and replications > 1:  # chunk serial runs too, to report progress
        chunks = [[int(i) for i in c] for c in np.array_split(indices, min(replications, 10))]
    tasks = [(setup, seed, c, month_dates, keep_events, keep_monthly) for c in chunks]
    outputs: list[ReplicationOutput] = []
    summary = None
    for part in iter_map(_run_chunk, tasks, workers, scheduler, progress, pinned=True):
        summary = part.add_to(summary, month_dates, keep_monthly)
        outputs.extend(part.replications)
    outputs.sort(key=lambda o: o.replication)
    elapsed = time.perf_counter() - started
    assert summary is not None, "at least one chunk ran"
    return _tabulate(outputs, summary, setup, seed, replications, workers, elapsed, month_dates)


def _tabulate(
    outputs: list[ReplicationOutput],
    summary: MonthlySummary,
    setup: Setup,
    seed: int,
    n: int,
    workers: int,
    elapsed: float,
    month_dates: list[dt.date],
) -> Results:
    start_day = setup.start_day
    threshold_days = np.array([o.threshold_day for o in outputs])
    threshold = pd.DataFrame(
        {
            "replication": [o.replication for o in outputs],
            "reached": np.isfinite(threshold_days),
            "date": to_timestamps(threshold_days),
            "years_from_start": (threshold_days - start_day) / DAYS_PER_YEAR,
        }
    )
    monthly = None
    if outputs and outputs[0].monthly is not None:
        n_months = len(month_dates)
        counts = np.stack([o.monthly for o in outputs if o.monthly is not None])  # (rep, group, month, stage)
        reps, groups, mons = np.meshgrid(np.arange(len(outputs)), [1, 2, 3], np.arange(n_months), indexing="ij")
        monthly = pd.DataFrame(
            {
                "replication": np.array([o.replication for o in outputs])[reps.ravel()],
                "date": pd.to_datetime(np.array(month_dates, dtype="datetime64[D]"))[mons.ravel()],
                "group": groups.ravel().astype(np.int8),
            }
        )
        for k, col in enumerate(STAGE_COLUMNS.values()):
            monthly[col] = counts[..., k].ravel()
    events = None
    if outputs and outputs[0].entered is not None:
        frames = []
        stage_names = np.array([s.name.lower() for s in STAGES])
        for o in outputs:
            assert o.entered is not None and o.group is not None
            review, stage = np.nonzero(np.isfinite(o.entered))
            frames.append(
                pd.DataFrame(
                    {
                        "replication": o.replication,
                        "review": np.array(o.review_ids)[review],
                        "group": o.group[review].astype(np.int8),
                        "stage": stage_names[stage],
                        "date": to_timestamps(o.entered[review, stage]),
                    }
                )
            )
        events = pd.concat(frames, ignore_index=True)
        events["stage"] = pd.Categorical(events["stage"], categories=list(stage_names), ordered=True)
    return Results(
        threshold=threshold,
        monthly=monthly,
        events=events,
        monthly_summary=summary,
        setup=setup,
        seed=seed,
        replications=n,
        workers=workers,
        elapsed_s=elapsed,
        simulated_events=int(sum(o.events for o in outputs)),
    )


_compiled_code_loaded = False


def load_compiled_code() -> None:
    """Run what a chunk of replications runs, briefly, from the report and from 2020: the compiled
    code it calls is then loaded in this process (and in any worker forked from it).  Once per
    process, and whole: a Ctrl-C or SIGTERM in the middle of Numba loading machine code could
    leave it broken (a crash, not a clean stop), so a stop asked for meanwhile takes effect after."""
    global _compiled_code_loaded
    if _compiled_code_loaded:
        return
    with interrupts.deferred():
        for start in ("report", "history"):
            setup = default_setup(start=start, horizon=dt.date(2021, 1, 1) if start == "history" else dt.date(2024, 6, 1))
            _run_chunk(setup, 0, [0], month_starts(setup.start_date, setup.horizon), keep_events=False, keep_monthly=False)
        _compiled_code_loaded = True


load_before_forking(load_compiled_code)


def warm_up() -> float:
    """Compile (or load from the cache) everything a replication runs: about 20 s the first time
    after installation, a fraction of a second after; returns the seconds it took."""
    started = time.perf_counter()
    run_replications(default_setup(horizon=dt.date(2026, 1, 1)), 1, seed=0, workers=1, keep_events=False)
    return time.perf_counter() - started
