"""What holds up the reviews still waiting for their focal points on a given day.

A redraw replaces a reviewing State without a focal point, at most four times per review (¶6-7);
it cannot replace the party under review.  Whether a lever that redraws sooner can help from a
given day therefore depends on what the reviews still held up then are waiting for: the party
under review itself, a reviewing State with redraws left, or one whose review has used all four.
The model's own futures say, replication by replication.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from workbench.core.timeline import to_day
from workbench.experiments.setup import Setup, replication_start, simulate
from workbench.simulation import rules
from workbench.simulation.layout import pack_parameters
from workbench.simulation.schema import age_at_start
from workbench.simulation.stages import Stage
from workbench.simulation.streams import replication_seeds


@dataclass(frozen=True)
class HeldUp:
    """Mean numbers of reviews, across replications, held up by nominations on ``day``."""

    day: dt.date
    replications: int
    total: float
    party_under_review: float  # the party under review has no focal point: no redraw can help
    redraws_used: float  # a reviewing State has none, and the review has used its four redraws
    redraws_left: float  # a reviewing State has none, and a redraw is still possible
    nominated: float  # all three have focal points; the consultation is about to be prepared

    @property
    def redraw_can_reach(self) -> float:
        """The share of the held-up reviews a redraw could still act on."""
        return self.redraws_left / self.total if self.total else 0.0


def held_up(setup: Setup, day: dt.date, replications: int = 100, seed: int = 1) -> HeldUp:
    """Run ``replications`` of ``setup`` in this process and count, on ``day``, the reviews still
    held up by nominations and what each waits for (the redraws counted are those of the run and
    those its start assumes used before the report, :func:`~workbench.simulation.rules.redraws_before`)."""
    when = to_day(day)
    counts = np.zeros(5)
    for s in replication_seeds(seed, replications):
        start = replication_start(setup, s)
        record, pairings, params = simulate(setup, s, start)
        P = pack_parameters(params, int(np.sum(pairings.group == 1)))
        entered = record.entered
        begun = entered[:, Stage.NOMINATIONS] <= when
        begun |= start.initial.review_stage == Stage.NOMINATIONS
        ready = entered[:, Stage.CONSULTATION] <= when
        past = start.initial.review_stage > Stage.NOMINATIONS
        nominated = record.nominated_at <= when
        log = record.redraw_log[record.redraw_log[:, 0] <= when]
        for r in np.flatnonzero(begun & ~ready & ~past):
            counts[0] += 1
            reviewers = list(pairings.reviewers[r])
            redraws = log[log[:, 1] == r]
            for row in redraws:
                reviewers[int(row[2]) - 1] = int(row[4])
            if start.initial.review_stage[r] == Stage.NOMINATIONS:
                age = age_at_start(start.initial.review_entered[r, Stage.NOMINATIONS], start.initial.day)
                used = len(redraws) + rules.redraws_before(age, P)[0]
            else:
                used = len(redraws)
            if not nominated[pairings.under_review[r]]:
                counts[1] += 1
            elif not all(nominated[q] for q in reviewers):
                counts[2 if used >= rules.REDRAWS_ALLOWED else 3] += 1
            else:
                counts[4] += 1
    mean = counts / replications
    return HeldUp(day, replications, *map(float, mean))
