"""The calibration's model: parameters in, summary statistics out.

* **Simulator**: the model in history mode (every review from its group's start), observed
  by the observation operator at the date of every snapshot in ``calibration/observations``.
  Adding a later status report as a file adds its figures to the fit; no code changes.
* **Summary statistics**: every fact a report gives that the operator expresses, once: one
  statistic per (snapshot, figure, group), less the figures another one determines (189 less
  the consultations held is the reviews not commenced).  A part of a total the model counts
  enters as its share of that total (16 of the 43 SAQs on time), so the total is not counted
  again through its parts.  A figure with alternative readings (e.g. 23 or 25 two-language
  consultations, ¶28) is a *range*: the statistic is the simulated value's distance outside
  [lowest reading, highest reading], so any value inside is a perfect match.  Point figures
  are the special case of a range of width zero.
* **Scales** are not here: the distance (:mod:`~workbench.inference.distance`) scales each
  statistic by the spread the model's own runs give it.
* **Parameter scale**: parameters with a log-uniform prior are sampled as their natural logarithm
  (``ln_<name>``, uniform prior), so proposal kernels work on the scale the prior is flat on.

Nothing here imports pyabc: the check, the backtest and the tests use the simulator alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from workbench.core.timeline import to_day
from workbench.experiments.setup import Setup, simulate
from workbench.inputs.observations import Figure, Snapshot, groups_report
from workbench.inputs.parameters import Parameters
from workbench.inputs.report_categories import CATEGORY_INDEX, REVIEW_CATEGORIES, SPLITS
from workbench.observation.observe import observation_table

#: Figures that are constants of the setup, not evidence about the parameters.
CONSTANT_FIGURES = {"parties_total", "reviews_total"}

#: Figures another statistic of the same report already carries, with the figures that carry
#: them: the report's total less a counted part, or the same count under another name.  Each
#: fact enters the distance once (``consultations_held`` is kept because every report gives it).
REDUNDANT_FIGURES = {
    "reviews_not_commenced": ("consultations_held",),  # the 189 reviews less those consulted (¶23)
    "reviews_advancing": ("consultations_held", "reviews_completed"),  # consulted, less completed (¶23)
    "parties_without_focal_point": ("parties_with_focal_point",),  # the 189 parties less those with one (¶12, ¶15)
}

#: The sampler's name of a parameter sampled on the log scale.
LOG_PREFIX = "ln_"

#: The least a statistic's scale may be: half a review (or party) for a count, and half of one
#: in its total for a share, the resolution a report's whole numbers have.  A statistic that
#: every run of a generation gives alike would otherwise weigh without bound.
HALF_A_COUNT = 0.5


def statistic_key(snapshot: Snapshot, name: str, group: int | None) -> str:
    return f"{snapshot.as_at.isoformat()}|{name}" + (f"|group {group}" if group else "")


def _parent(snapshot: Snapshot, name: str, group: int | None) -> Figure | None:
    """The figure ``name`` (of ``group``) is a part of, if that total is one the model counts and
    the report gives as more than zero: the figure then enters as its share of that total."""
    fig = snapshot.figures[(name, group)]
    if fig.part_of is None or fig.part_of in CONSTANT_FIGURES:
        return None
    same_group = (fig.part_of, group)
    in_group = group is not None and fig.part_of != name and same_group in snapshot.figures
    total = snapshot.figures.get(same_group if in_group else (fig.part_of, None))
    if total is None or total.name not in CATEGORY_INDEX or total.value <= 0:
        return None
    return total


def _redundant(name: str, group: int | None, scored: set[tuple[str, int | None]]) -> bool:
    carried_by = REDUNDANT_FIGURES.get(name)
    return group is None and carried_by is not None and all((other, None) in scored for other in carried_by)


def _last_parts(snapshot: Snapshot, kept: set[tuple[str, int | None]]) -> set[tuple[str, int | None]]:
    """The last part of every split the report gives whole (its parts add up to its total: the
    SAQs by lateness, the consultations by language, the lists by group) and that enters whole
    (``kept``): its share is one less the others', so it does not enter."""
    Key = tuple[str, int | None]
    splits: list[tuple[list[Key], Key]] = [([(part, None) for part in parts], (total, None)) for total, parts in SPLITS]
    splits += [([(name, g) for g in (1, 2, 3)], (name, None)) for name in REVIEW_CATEGORIES]
    last: set[Key] = set()
    for parts, total in splits:
        present = [key for key in parts if key in kept]
        whole = total in snapshot.figures and len(present) == len(parts)
        if whole and sum(snapshot.figures[key].value for key in present) == snapshot.figures[total].value:
            last.add(present[-1])
    return last


@dataclass(frozen=True)
class StatisticTable:
    """Where each summary statistic is read from a run's observation table, and its reported range.

    Made once per calibration.  Statistic k is read on date ``date[k]`` (the index of its
    report) from category ``category[k]``, column ``column[k]`` (0: all, g: group g), and scored
    against [low[k], high[k]].  A figure that is part of a total the model also counts
    (``parent[k] >= 0``: the SAQs by lateness of the SAQs submitted, the lists by group of all
    lists) enters as its share of that total, so that the total's own count is not scored a
    second time through its parts; the others enter as counts.  Figures that a kept figure
    determines (:data:`REDUNDANT_FIGURES`, and the last part of a split given whole) and the
    set-up's constants do not enter.
    """

    keys: tuple[str, ...]
    date: np.ndarray
    category: np.ndarray
    column: np.ndarray
    parent: np.ndarray  # the total's category for a share, -1 for a count
    parent_column: np.ndarray  # the total's column (0: all groups, as for the lists by group)
    low: np.ndarray
    high: np.ndarray
    resolution: np.ndarray  # the least scale: half a count, or half of one in the reported total

    @classmethod
    def of(cls, snapshots: list[Snapshot]) -> StatisticTable:
        rows = []
        for d, snap in enumerate(snapshots):
            expressed = [
                (name, group)
                for (name, group) in snap.figures
                if name not in CONSTANT_FIGURES and name in CATEGORY_INDEX and (group is None or name in REVIEW_CATEGORIES)
            ]
            scored = set(expressed)
            kept = {(name, group) for name, group in expressed if not _redundant(name, group, scored)}
            last_parts = _last_parts(snap, kept)
            for name, group in expressed:
                if (name, group) not in kept or (name, group) in last_parts:
                    continue
                fig = snap.figures[(name, group)]
                low, high = fig.range
                total = _parent(snap, name, group)
                per = total.value if total is not None else 1.0
                parent = CATEGORY_INDEX[total.name] if total is not None else -1
                parent_column = (total.group or 0) if total is not None else 0
                key = statistic_key(snap, name, group)
                rows.append((key, d, CATEGORY_INDEX[name], group or 0, parent, parent_column, low / per, high / per, HALF_A_COUNT / per))
        columns = list(zip(*rows)) if rows else [()] * 9
        return cls(
            tuple(str(key) for key in columns[0]),
            *(np.array(values, dtype=np.int64) for values in columns[1:6]),
            *(np.array(values, dtype=float) for values in columns[6:9]),
        )

    @property
    def is_share(self) -> np.ndarray:
        return self.parent >= 0

    def values(self, table: np.ndarray) -> np.ndarray:
        """Each statistic as a run shows it: a count, or a share of its total (0 of none)."""
        counts = table[self.date, self.category, self.column].astype(float)
        totals = table[self.date, np.where(self.is_share, self.parent, self.category), self.parent_column].astype(float)
        return np.where(self.is_share, counts / np.maximum(totals, 1.0), counts)

    def distances(self, table: np.ndarray) -> np.ndarray:
        """Each statistic: the run's signed distance outside its reported range (0 inside)."""
        values = self.values(table)
        return values - np.clip(values, self.low, self.high)


@dataclass
class Simulator:
    """The calibration model: parameters in, summary statistics out (picklable)."""

    snapshots: list[Snapshot]
    base: Parameters = field(default_factory=Parameters)
    transform: Callable[[dict], dict] | None = None  # for tests: a deliberately different model
    engine: str = "compiled"  # or "simpy": the same statistics, slower
    report: Snapshot | None = None  # the groups' sizes and start dates (default: the latest snapshot listing them)

    def __post_init__(self) -> None:
        self.snapshots = sorted(self.snapshots, key=lambda s: s.as_at)
        self.horizon = self.snapshots[-1].as_at + dt.timedelta(days=1)
        self.report = self.report or groups_report(self.snapshots)
        self.table = StatisticTable.of(self.snapshots)
        self._days = np.array([to_day(snap.as_at) for snap in self.snapshots], dtype=float)
        self._setup = Setup(self.base, self.report, None, start="history", horizon=self.horizon, engine=self.engine)

    def observe_all(self, theta: dict, seed: np.random.SeedSequence) -> np.ndarray:
        """One run from 2020 with parameters ``theta``, counted in the report's categories at every
        snapshot date: the observation table (:func:`~workbench.observation.observe.observation_table`)."""
        if self.transform is not None:
            theta = self.transform(dict(theta))
        setup = dataclasses.replace(self._setup, params=self.base.updated(theta, source="calibration proposal"))
        record, pairings, _ = simulate(setup, seed)
        return observation_table(record, pairings, self._days)

    def statistics(self, theta: dict, seed: np.random.SeedSequence) -> dict[str, float]:
        """Each statistic's value in one run (the distance scores it against its range)."""
        return dict(zip(self.table.keys, self.table.values(self.observe_all(theta, seed)).tolist()))

    def __call__(self, theta: dict) -> dict[str, float]:
        # The sampler has seeded numpy's global generator for this evaluation (see OrderedSampler).
        seed = np.random.SeedSequence(np.random.randint(0, 2**32 - 1, size=4, dtype=np.uint64).tolist())  # noqa: NPY002 (pyabc's protocol)
        return self.statistics(from_sampling_scale(theta), seed)

    def observed(self) -> dict[str, float]:
        """The reported statistics (the lowest reading of a range), as pyabc records them."""
        return dict(zip(self.table.keys, self.table.low.tolist()))


def from_sampling_scale(theta: dict) -> dict[str, float]:
    """Sampler names and values (``ln_x`` for log-uniform priors) to parameter names and values."""
    return {
        (k[len(LOG_PREFIX) :] if k.startswith(LOG_PREFIX) else k): (math.exp(float(v)) if k.startswith(LOG_PREFIX) else float(v))
        for k, v in theta.items()
    }
