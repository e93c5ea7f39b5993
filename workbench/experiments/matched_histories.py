"""A start that agrees with history: the histories from 2020 that lead to the report's state.

The report's state can be placed (:func:`workbench.simulation.snapshot.report_start`), but the
placement knows neither the redraws already made nor how long each group has waited, and its
runs continue unlike the histories that lead to the report (``workbench start-consistency``).
The other way is to run the model from 1 December 2020 and keep the runs whose state on the
report's date matches the report's key figures (:mod:`workbench.observation.matching`): each kept
history, as the record the Secretariat would hold of it on that day, is a start that agrees with
history by construction, and a start from a history's record continues as the history does
(``start-consistency``'s record arm).  Each replication then draws one of them (from its own
seed) and runs on with that history's parameters.

The parameters must stay the posterior's.  Keeping the matching runs of one run per posterior
draw would weigh each draw again by its chance of matching the report, P(match | parameters):
the report's figures, which the posterior was fitted to, counted twice.  So each posterior draw
is run from 2020 until a history matches (a rejection sampler per draw), and every draw keeps
one history whatever its chance.  A draw with no match in :data:`TRIES_PER_DRAW` runs is left
out and counted (``unmatched``): the few the report's figures make least likely.
"""

from __future__ import annotations

import dataclasses
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
    tried: int  # posterior draws, each run until a history matches
    seed: int  # their seed
    digest: str  # of everything above, for the starts' cache key
    runs: int = 0  # histories run from 2020 in all
    unmatched: int = 0  # draws with no matching history in TRIES_PER_DRAW runs (left out)

    def pick(self, seed: np.random.SeedSequence) -> int:
        """The history replication ``seed`` starts from, each with equal chance."""
        u = uniform_at(np.uint64(stream_seed(replication_key(seed), HISTORY_DRAW, 0)), 0)
        return min(int(u * len(self.records)), len(self.records) - 1)


#: Runs from 2020 a posterior draw is given to match the report before it is left out (a run to May
#: 2024 takes under 2 ms).  Under the shipped posterior about one run in nine matches; 200 runs miss
#: a draw whose chance is one in fifty only one time in fifty ((49/50)^200 = 1.8 %).
TRIES_PER_DRAW = 200


#: A posterior draw's first matching history (None: none in TRIES_PER_DRAW runs), its parameters, and the runs it took.
FirstMatch = tuple[ReviewRecord | None, Parameters, int]


def _first_matches(history_setup: Setup, draws: list[np.random.SeedSequence], as_at: dt.date) -> list[FirstMatch]:
    """For each posterior draw: its first history that matches the report (None if none in
    TRIES_PER_DRAW runs), its parameters, and the runs it took."""
    from workbench.experiments.setup import simulate

    out = []
    for draw in draws:
        params = history_setup.parameters_for(draw)
        fixed = dataclasses.replace(history_setup, params=params, posterior=None)
        record, runs = None, 0
        for sequence in draw.spawn(TRIES_PER_DRAW):
            runs += 1
            run, pairings, _ = simulate(fixed, sequence)
            if matches_report(observe_dates(run, pairings, [as_at])[0]):
                record = record_of_run(run, pairings, as_at, "a history from 2020 that leads to the report", {})
                break
        out.append((record, params, runs))
    return out


def matched_histories(report_setup: Setup, tried: int = 500, seed: int = 1, workers: int | None = None) -> MatchedHistories:
    """For each of ``tried`` draws of ``report_setup``'s posterior (or its parameters), a history
    from 2020 on that draw that matches the report's key figures on its date."""
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
    found = [row for part in parallel_map(_first_matches, [(history_setup, c, snapshot.as_at) for c in chunks], workers) for row in part]
    kept = [(record, params) for record, params, _ in found if record is not None]
    runs = sum(n for _, _, n in found)
    if not kept:
        raise InputError(
            "--histories", "histories", f"no history of {tried} draws ({runs} runs from 2020) matches the report", "more draws"
        )
    records, params = tuple(r for r, _ in kept), tuple(p for _, p in kept)
    digest = hashlib.sha256(pickle.dumps((records, params, tried, seed))).hexdigest()
    return MatchedHistories(records, params, tried, seed, digest, runs, tried - len(kept))


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
