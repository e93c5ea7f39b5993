"""A start that agrees with history: the histories from 2020 that lead to the report's state.

The report's state can be placed (:func:`workbench.simulation.snapshot.report_start`), but the
placement knows neither the redraws already made nor how long each group has waited, and its
runs continue unlike the histories that lead to the report (``workbench start-consistency``).
The other way is to run the model from 1 December 2020, each run on its own posterior draw, and
keep the runs whose state on the report's date matches the report's key figures
(:mod:`workbench.observation.matching`): each kept history, as the record the Secretariat would
hold of it on that day, is a start that agrees with history by construction, and a start from a
history's record continues as the history does (``start-consistency``'s record arm).  Each
replication then draws one of them (from its own seed) and runs on with that history's
parameters: the posterior is the one the kept histories carry, which the report's figures have
weighed once more.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import pickle
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from workbench.core.counters import replication_key, stream_seed, uniform_at
from workbench.core.errors import InputError
from workbench.experiments.synthetic_record import record_of_run
from workbench.experiments.workers import default_workers, parallel_map
from workbench.inputs.parameters import Parameters
from workbench.inputs.record import ReviewRecord
from workbench.observation.matching import matches_report
from workbench.observation.observe import observe_dates

if TYPE_CHECKING:
    from workbench.experiments.setup import Setup

#: The counter stream from which a replication draws its history (apart from every other draw).
HISTORY_DRAW = 500


@dataclass(frozen=True)
class MatchedHistories:
    """The kept histories: each one's record on the report's date and the parameters it ran on."""

    records: tuple[ReviewRecord, ...]
    params: tuple[Parameters, ...]
    tried: int  # histories run from 2020
    seed: int  # their seed
    digest: str  # of everything above, for the starts' cache key

    def pick(self, seed: np.random.SeedSequence) -> int:
        """The history replication ``seed`` starts from, each with equal chance."""
        u = uniform_at(np.uint64(stream_seed(replication_key(seed), HISTORY_DRAW, 0)), 0)
        return min(int(u * len(self.records)), len(self.records) - 1)


def _kept(history_setup: Setup, seeds: list[np.random.SeedSequence], as_at: dt.date) -> list[tuple[ReviewRecord, Parameters]]:
    from workbench.experiments.setup import simulate

    out = []
    for sequence in seeds:
        run, pairings, params = simulate(history_setup, sequence)
        if matches_report(observe_dates(run, pairings, [as_at])[0]):
            out.append((record_of_run(run, pairings, as_at, "a history from 2020 that leads to the report", {}), params))
    return out


def matched_histories(report_setup: Setup, tried: int = 4000, seed: int = 1, workers: int | None = None) -> MatchedHistories:
    """Run ``tried`` histories from 2020 on ``report_setup``'s posterior (or parameters) and keep
    those that match the report's key figures on its date."""
    from workbench.experiments.setup import default_setup

    snapshot = report_setup.report
    history_setup = default_setup(
        params=report_setup.params,
        start="history",
        horizon=snapshot.as_at + dt.timedelta(days=1),
        snapshot=snapshot,
        posterior=report_setup.posterior,
        engine=report_setup.engine,
    )
    workers = default_workers() if workers is None else workers
    # Their own seeds, apart from the forecast's replications (which would otherwise replay a
    # history's draws when they start from it: the draws of work under way at the report's date
    # are the long ones, since that work had not ended).
    seeds = np.random.SeedSequence(seed, spawn_key=(HISTORY_DRAW,)).spawn(tried)
    chunks = [list(c) for c in np.array_split(np.array(seeds, dtype=object), max(1, min(tried, workers * 4))) if len(c)]
    kept = [pair for part in parallel_map(_kept, [(history_setup, c, snapshot.as_at) for c in chunks], workers) for pair in part]
    if not kept:
        raise InputError("--histories", "histories", f"none of {tried} histories from 2020 matches the report", "more histories")
    records, params = tuple(r for r, _ in kept), tuple(p for _, p in kept)
    digest = hashlib.sha256(pickle.dumps((records, params, tried, seed))).hexdigest()
    return MatchedHistories(records, params, tried, seed, digest)


def with_history(setup: Setup, seed: np.random.SeedSequence) -> tuple[ReviewRecord, Parameters]:
    """The history replication ``seed`` starts from, and its parameters under the setup's scenario
    (the parameters a scenario sets replace the history's)."""
    histories = setup.histories
    if histories is None:
        raise ValueError("this setup does not start from matched histories")
    i = histories.pick(seed)
    params = histories.params[i]
    if setup.fixed:
        params = params.updated({name: getattr(setup.params, name) for name in setup.fixed})
    return histories.records[i], params
