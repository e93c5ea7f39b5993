"""The calibration's model: parameters in, summary statistics out.

* **Simulator**: the model in history mode (every review from its group's start), observed
  by the observation operator at the date of every snapshot in ``calibration/observations``.
  Adding a later status report as a file adds its figures to the fit; no code changes.
* **Summary statistics**: every report figure the operator expresses, one statistic per
  (snapshot, figure, group).  A figure with alternative readings (e.g. 23 or 25 two-language
  consultations, ¶28) is a *range*: the statistic is the simulated count's distance outside
  [lowest reading, highest reading], so any count inside is a perfect match.  Point figures
  are the special case of a range of width zero.  The observed value of every statistic is 0.
* **Scales**: each statistic's Poisson-scale noise, sqrt(max(reported value, 1)), so a miss of 5
  on a count of 4 weighs more than a miss of 5 on a count of 111.
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
from workbench.inputs.observations import Snapshot, groups_report
from workbench.inputs.parameters import Parameters
from workbench.inputs.report_categories import CATEGORY_INDEX, REVIEW_CATEGORIES
from workbench.observation.observe import observation_table

#: Figures that are constants of the setup, not evidence about the parameters.
CONSTANT_FIGURES = {"parties_total", "reviews_total"}

#: The sampler's name of a parameter sampled on the log scale.
LOG_PREFIX = "ln_"


def statistic_key(snapshot: Snapshot, name: str, group: int | None) -> str:
    return f"{snapshot.as_at.isoformat()}|{name}" + (f"|group {group}" if group else "")


@dataclass(frozen=True)
class StatisticTable:
    """Where each summary statistic is read from a run's observation table, and its reported range.

    Made once per calibration: statistic k is the count of category ``category[k]``, column
    ``column[k]`` (0: all, g: group g), on date ``date[k]``, scored against [low[k], high[k]].
    """

    keys: tuple[str, ...]
    date: np.ndarray
    category: np.ndarray
    column: np.ndarray
    low: np.ndarray
    high: np.ndarray
    scale: np.ndarray  # sqrt of the reported value (at least 1): its Poisson noise

    @classmethod
    def of(cls, snapshots: list[Snapshot]) -> StatisticTable:
        rows = []
        for d, snap in enumerate(snapshots):
            for (name, group), fig in snap.figures.items():
                if name in CONSTANT_FIGURES or name not in CATEGORY_INDEX or (group is not None and name not in REVIEW_CATEGORIES):
                    continue  # a constant of the set-up, or a figure the model does not express
                low, high = fig.range
                rows.append(
                    (statistic_key(snap, name, group), d, CATEGORY_INDEX[name], group or 0, low, high, math.sqrt(max(fig.value, 1.0)))
                )
        columns = list(zip(*rows)) if rows else [()] * 7
        return cls(
            tuple(str(key) for key in columns[0]),
            *(np.array(values, dtype=np.int64) for values in columns[1:4]),
            *(np.array(values, dtype=float) for values in columns[4:7]),
        )

    def distances(self, table: np.ndarray) -> np.ndarray:
        """Each statistic: the observed count's signed distance outside its reported range (0 inside)."""
        counts = table[self.date, self.category, self.column].astype(float)
        return counts - np.clip(counts, self.low, self.high)


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
        return dict(zip(self.table.keys, self.table.distances(self.observe_all(theta, seed)).tolist()))

    def __call__(self, theta: dict) -> dict[str, float]:
        # The sampler has seeded numpy's global generator for this evaluation (see OrderedSampler).
        seed = np.random.SeedSequence(np.random.randint(0, 2**32 - 1, size=4, dtype=np.uint64).tolist())  # noqa: NPY002 (pyabc's protocol)
        return self.statistics(from_sampling_scale(theta), seed)

    def scales(self) -> dict[str, float]:
        """Each statistic's scale: sqrt of the reported count (at least 1)."""
        return dict(zip(self.table.keys, self.table.scale.tolist()))

    def observed(self) -> dict[str, float]:
        """The observed statistics: zero distance from every reported figure."""
        return {k: 0.0 for k in self.table.keys}


def from_sampling_scale(theta: dict) -> dict[str, float]:
    """Sampler names and values (``ln_x`` for log-uniform priors) to parameter names and values."""
    return {
        (k[len(LOG_PREFIX) :] if k.startswith(LOG_PREFIX) else k): (math.exp(float(v)) if k.startswith(LOG_PREFIX) else float(v))
        for k, v in theta.items()
    }
