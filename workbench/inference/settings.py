"""What a calibration is asked to do: its budget and its settings (no pyabc here, so the command
line and the backtest can read them without loading the calibration machinery)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from workbench.core.errors import InputError
from workbench.inference.structures import ALL_STRUCTURES, Structure
from workbench.inputs.observations import DEFAULT_DIR as OBSERVATIONS_DIR
from workbench.inputs.priors import DEFAULT_PRIORS


@dataclass(frozen=True)
class Budget:
    """The shipped settings: 2000 particles (eight structures share them; with 500, whole
    structures died out by chance within five generations); generations until the forecast
    the posterior gives (P not met by 2060, P met before the 2030 session, on
    ``watch_replications`` runs) moves by less than ``headline_tolerance`` three times in a row, or epsilon falls by less than
    ``min_epsilon_drop`` from one to the next (converged), at most ``generations`` of them, and
    none that would pass ``max_minutes``."""

    population: int = 2000
    generations: int = 20
    max_minutes: float = 45.0  # the shipped run: 11 generations in 40 minutes on 2 cores
    min_epsilon_drop: float = 0.03
    watch_replications: int = 2000  # forecast runs per generation to watch the headline (0: do not watch)
    headline_tolerance: float = 0.02  # converged once the headline moves less than this three times in a row

    def __post_init__(self) -> None:
        if self.population < 10:
            raise InputError("--population", "population", f"{self.population} is too small", "at least 10")
        if self.generations < 1:
            raise InputError("--generations", "generations", f"{self.generations}", "at least 1")
        if not self.max_minutes > 0:
            raise InputError("--max-minutes", "max_minutes", f"{self.max_minutes}", "more than 0")
        if not 0 <= self.min_epsilon_drop < 1:
            raise InputError("--min-epsilon-drop", "min_epsilon_drop", f"{self.min_epsilon_drop}", "0 to less than 1")
        if self.watch_replications < 0:
            raise InputError("--watch-replications", "watch_replications", f"{self.watch_replications}", "0 (off) or more")
        if not 0 < self.headline_tolerance < 1:
            raise InputError("--headline-tolerance", "headline_tolerance", f"{self.headline_tolerance}", "more than 0 and less than 1")


@dataclass(frozen=True)
class CalibrationSettings:
    """What a calibration fits, to what, and for how long: what its run database records."""

    budget: Budget = field(default_factory=Budget)
    seed: int = 2024  # the shipped posterior's
    structures: tuple[Structure, ...] = ALL_STRUCTURES
    observations_dir: Path = OBSERVATIONS_DIR
    priors_path: Path = DEFAULT_PRIORS
    engine: str = "compiled"  # or "simpy": the same statistics, slower

    def __post_init__(self) -> None:
        if not self.structures:
            raise InputError("structures", "(list)", "no structure to fit", "at least one structure")
