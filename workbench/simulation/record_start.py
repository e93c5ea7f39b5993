"""The state a review record describes: every review where the record puts it, nothing placed.

With the Secretariat's record (:mod:`workbench.inputs.record`) a replication needs no
placement draw: each review starts in the stage the record puts it in, under way since the day
the record gives, with the redraws it has used and its last one; each party has its focal
point from the day it nominated, and was replaced when it was.  Only what no record can show is
drawn: each party's responsiveness and whether a party without a focal point will ever act,
conditioned on what it has done so far (:func:`workbench.simulation.traits.traits_at_start`).
"""

from __future__ import annotations

import numpy as np

from workbench.core.timeline import GROUP_STARTS, to_day
from workbench.inputs.parameters import Parameters
from workbench.inputs.record import REVIEW_STAGE_EVENTS, ReviewRecord
from workbench.simulation import rules
from workbench.simulation.layout import pack_parameters
from workbench.simulation.schema import N_STAGES, InitialState, RunRecord, Stage
from workbench.simulation.streams import ReplicationStreams
from workbench.simulation.traits import traits_at_start

#: The stage each of the record's review events begins (the stage table's order, ¶26-39).
#: (consultation held: the SAQ; SAQ submitted: the feedback; feedback sent: the lists; lists
#: agreed: the summaries; completed.)
STAGE_BEGUN_BY: dict[str, Stage] = dict(
    zip(REVIEW_STAGE_EVENTS, (Stage.SAQ, Stage.WRITTEN_FEEDBACK, Stage.LISTS, Stage.SUMMARIES, Stage.COMPLETED), strict=True)
)


def record_stages(record: ReviewRecord, params: Parameters) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each review's stage at the record's date, the day it entered each stage, the deadlines agreed
    on entry and how late its SAQ came (¶31): the record's events replayed through the same rule
    the engines record an entry with (:func:`workbench.simulation.rules.record_entry`)."""
    pairings, day0 = record.pairings, record.day
    n = pairings.n_reviews
    P = pack_parameters(params, int(np.sum(pairings.group == 1)))
    stage = np.full(n, -1, np.int64)
    entered, deadline, lateness = np.full((n, N_STAGES), np.nan), np.full((n, N_STAGES), np.nan), np.full(n, np.nan)
    ready = record.ready_day()
    for r in range(n):
        group_start = to_day(GROUP_STARTS[int(pairings.group[r])])
        if group_start > day0:
            continue
        entries = [(Stage.NOMINATIONS, group_start), (Stage.CONSULTATION, ready[r])]
        entries += [(STAGE_BEGUN_BY[event], record.stage_events[r, k]) for k, event in enumerate(REVIEW_STAGE_EVENTS)]
        for s, day in entries:
            if not np.isfinite(day):
                break
            rules.record_entry(r, int(s), float(day), entered, deadline, lateness, P)
            stage[r] = int(s)
    return stage, entered, deadline, lateness


def record_start(record: ReviewRecord, params: Parameters, streams: ReplicationStreams) -> InitialState:
    """The state of ``record`` at its date, with each party's unrecorded traits drawn from ``streams``."""
    pairings, day0 = record.pairings, record.day
    stage, entered, deadline, lateness = record_stages(record, params)
    group_start = {g: to_day(d) for g, d in GROUP_STARTS.items()}
    done = record.handovers[np.isfinite(record.handovers[:, 2]), 0].astype(int) if record.handovers_recorded else None
    handovers_done = None if done is None else np.bincount(done, minlength=pairings.n_parties)
    responsiveness, silent = traits_at_start(day0, record.first_involved(), record.nominated_at, params, streams, handovers_done)
    used, last_redraw = record.redraws_used()
    gathering = stage == int(Stage.NOMINATIONS)
    waiting_since = np.where(np.isnan(last_redraw), entered[:, int(Stage.NOMINATIONS)], last_redraw)
    return InitialState(
        day=day0,
        label=record.label(),
        review_stage=stage,
        review_entered=entered,
        review_deadline=deadline,
        review_languages=np.where(stage >= int(Stage.SAQ), record.languages, 0),
        saq_lateness=lateness,
        party_nominated_at=record.nominated_at.copy(),
        party_first_replaced_at=record.first_replaced_at.copy(),
        party_responsiveness=responsiveness,
        party_silent=silent,
        review_redraws_used=np.where(gathering, used, -1),
        review_waiting_since=np.where(gathering, waiting_since, np.nan),
        party_in_handover_since=record.in_handover_since(),
        review_work_done_at=np.where(stage == int(Stage.CONSULTATION), record.scheduled_at, np.nan),
        group_start=group_start,
    )


def record_as_run(record: ReviewRecord, params: Parameters) -> RunRecord:
    """The record as a run that ends on its date: what the observation operator reads to count it in
    the report's categories (the handovers and replacements a record does not list are empty)."""
    _, entered, deadline, lateness = record_stages(record, params)
    pairings = record.pairings
    return RunRecord(
        start_day=record.day,
        end_day=record.day,
        entered=entered,
        deadline=deadline,
        languages=np.where(np.isfinite(entered[:, int(Stage.SAQ)]), record.languages, 0),
        saq_lateness=lateness,
        nominated_at=record.nominated_at.copy(),
        first_replaced_at=record.first_replaced_at.copy(),
        replacements=np.zeros(pairings.n_parties, np.int64),
        redraw_log=record.redraws.copy(),
        handover_log=np.empty((0, 3)),
        threshold_day=np.nan,
        events=0,
        draws=0,
    )
