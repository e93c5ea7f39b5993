"""When the next cluster may start (¶25): the 70 % rule, or the rule the Conference decides.

Read from a run's recorded stage entries, so the same run can be scored under any rule.
"""

from __future__ import annotations

import math

import numpy as np

from workbench.core.timeline import to_day
from workbench.inputs.levers import COUNTED_STAGES as STAGES_A_CONDITION_COUNTS
from workbench.inputs.levers import Condition
from workbench.inputs.parties import Pairings
from workbench.simulation.schema import RunRecord, Stage

#: The stage a condition counts, by its name in scenario files.
COUNTED_STAGES = {name: Stage[name.upper()] for name in STAGES_A_CONDITION_COUNTS}


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


def condition_day(record: RunRecord, pairings: Pairings, condition: Condition, start_day: float, rule_share: float = 0.70) -> float:
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
