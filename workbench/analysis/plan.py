"""What would it take?  Packages of levers that meet the condition in time, at least effort.

The reverse of a forecast: given a target (the condition met before a Conference session, a
date, or the horizon), a required probability and the levers a planner may use, find the
packages on the frontier of probability against effort, and the cheapest that reaches the
required probability, if any does.

* **Search.**  Optuna's NSGA-II explores packages (for each lever: its intensity in tenths,
  its start date, whom it is aimed at) for the two objectives, probability up and effort
  down.  Every candidate runs on the same seeds (common random numbers), so two candidates
  differ by their levers, not by their luck.  A candidate first runs on a few replications;
  one that a cheaper candidate already evaluated beats with confidence there (a higher
  probability, or the same and an earlier mean date) is dropped (pruned).
* **Verification.**  A probability chosen as the best of many noisy estimates is biased up.
  The frontier's packages are therefore rerun on fresh seeds, disjoint from the search's,
  and only those verified numbers are reported; a package that, verified, does no better
  than a cheaper one leaves the frontier, so more effort never shows a lower probability.

Effort comes from the effort file (:mod:`workbench.inputs.effort`): assumptions, not figures
of the report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import InputError
from workbench.core.timeline import CONFERENCE_SESSIONS, DAYS_PER_YEAR, HEADLINE_SESSION, earliest_start, today
from workbench.experiments.replications import run_replications
from workbench.experiments.setup import Setup
from workbench.inputs.effort import EffortModel, LeverEffort, load_effort
from workbench.inputs.levers import LEVER_TYPES, Levers, Target
from workbench.inputs.scenarios import Scenario
from workbench.simulation.streams import replication_seeds

#: The target a plan searches for by default: the session the headline asks about.
DEFAULT_TARGET = str(HEADLINE_SESSION)

#: Intensities are searched in tenths: finer steps are below what a few hundred runs can tell apart.
INTENSITY_STEPS = 10

#: Start dates searched: from the earliest start, every this many months.
START_STEP_MONTHS = 6

#: How many standard errors above its estimate a screened candidate's probability may lie.
SCREEN_Z = 2.0


@dataclass(frozen=True)
class PlanTarget:
    """Met (strictly) before ``before``, with probability at least ``probability``."""

    before: dt.date
    label: str
    probability: float


def plan_target(when: str, probability: float, horizon: dt.date) -> PlanTarget:
    """``"2028"`` (a Conference session), ``"2040-01-01"`` (a date) or ``"horizon"``."""
    if not 0.0 < probability < 1.0 or isinstance(probability, bool):
        raise InputError("--probability", "probability", f"{probability!r}", "a probability strictly between 0 and 1, e.g. 0.5")
    text = str(when).strip()
    if text.isdigit() and int(text) in CONFERENCE_SESSIONS:
        session = CONFERENCE_SESSIONS[int(text)]
        if session > horizon:
            raise InputError("--horizon", "horizon", f"{horizon} is before the {text} session", f"a date after {session}")
        return PlanTarget(session, f"the {text} Conference session ({session.isoformat()})", probability)
    if text == "horizon":
        return PlanTarget(horizon + dt.timedelta(days=1), f"the horizon ({horizon.isoformat()})", probability)
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        sessions = ", ".join(str(y) for y in CONFERENCE_SESSIONS)
        raise InputError(
            "--target", "target", f"{text!r}", f"a Conference session ({sessions}), a date such as 2040-01-01, or horizon"
        ) from None
    if day > horizon:
        raise InputError("--target", "target", f"{day} is after the horizon {horizon}", "a date up to the horizon")
    return PlanTarget(day, day.isoformat(), probability)


@dataclass(frozen=True)
class Choice:
    """One lever of a package: how hard, from when, aimed at whom."""

    lever: str
    intensity: float  # 0.1 .. 1.0
    start: dt.date
    target: str  # "all" or "group 1"

    def describe(self) -> str:
        aim = "" if self.target == "all" else f", {self.target}"
        return f"{self.lever.replace('_', ' ')} {self.intensity:.0%} from {self.start:%Y-%m}{aim}"


@dataclass(frozen=True)
class Package:
    """Levers used together (none: the baseline)."""

    choices: tuple[Choice, ...] = ()

    def describe(self) -> str:
        return "; ".join(c.describe() for c in self.choices) or "nothing added (the baseline)"

    def levers(self, effort: EffortModel) -> Levers:
        chosen = {}
        for c in self.choices:
            cls, _ = LEVER_TYPES[c.lever]
            target = Target() if c.target == "all" else Target(groups=(int(c.target.split()[1]),))
            chosen[c.lever] = cls(start=c.start, target=target, **effort.levers[c.lever].effect_values(c.intensity))
        return Levers(**chosen)

    def effort(self, effort: EffortModel, until: dt.date) -> float:
        return sum(effort.levers[c.lever].effort(c.intensity, c.target, c.start, until) for c in self.choices)

    def scenario(self, effort: EffortModel, name: str) -> Scenario:
        """The package as a scenario that forecast, compare and the explorer load unchanged."""
        return Scenario(name, self.describe(), None, {}, self.levers(effort))


def start_options(earliest: dt.date, before: dt.date, horizon: dt.date) -> list[dt.date]:
    """Start dates searched: every six months from ``earliest``, ending at least six months
    before the target (a lever started later cannot act in time)."""
    last = min(before, horizon)
    options: list[dt.date] = []
    year, month = earliest.year, earliest.month
    day = earliest
    while day <= last - dt.timedelta(days=182) or not options:
        options.append(day)
        month += START_STEP_MONTHS
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
        day = dt.date(year, month, 1)
        if len(options) >= 8:  # beyond four years, later starts only save effort the planner can weigh alone
            break
    return options


def verification_seed(seed: int) -> int:
    """The seed of the verification runs: derived from the search's, and never equal to it."""
    derived = int(np.random.SeedSequence([seed, 0x5EED_7E57]).generate_state(1)[0])
    return derived if derived != seed else derived + 1


def seeds_disjoint(seed_a: int, seed_b: int, replications: int) -> bool:
    """No replication seed of one run is a replication seed of the other (their streams differ)."""

    def states(seed: int) -> set[tuple[int, ...]]:
        return {tuple(s.generate_state(4)) for s in replication_seeds(seed, replications)}

    return not states(seed_a) & states(seed_b)


@dataclass
class Plan:
    """What :func:`plan` found: every candidate tried, the verified frontier, and the answer."""

    target: PlanTarget
    effort_unit: str
    candidates: pd.DataFrame  # one row per distinct package tried
    frontier: pd.DataFrame  # verified, ordered by effort, probability rising
    packages: dict[str, Package]  # the frontier's packages by name
    chosen: str | None  # the cheapest frontier package reaching the target probability
    baseline_probability: float  # verified, on the verification seeds
    best_probability: float  # the highest verified probability of any frontier package
    settings: dict = field(default_factory=dict)

    @property
    def reachable(self) -> bool:
        return self.chosen is not None


def outcomes(
    setup: Setup,
    levers: Levers,
    before: dt.date,
    replications: int,
    seed: int,
    workers: int | None,
    scheduler: str | None = None,
    first: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Per replication (``first`` onwards): was the condition met before ``before``, and the years
    from the start to the condition (runs that do not meet it by the horizon count at the horizon:
    a lower bound)."""
    results = run_replications(
        dataclasses.replace(setup, levers=levers),
        replications,
        seed=seed,
        workers=workers,
        keep_events=False,
        keep_monthly=False,
        scheduler=scheduler,
        first=first,
    )
    t = results.threshold
    met = (t["reached"] & (t["date"] < pd.Timestamp(before))).to_numpy()
    cap = (setup.horizon - setup.start_date).days / DAYS_PER_YEAR
    years = np.where(t["reached"].to_numpy(), t["years_from_start"].to_numpy(), cap)
    return met, years


def met_before(
    setup: Setup, levers: Levers, before: dt.date, replications: int, seed: int, workers: int | None, scheduler: str | None = None
) -> np.ndarray:
    """Per replication: was the condition met before ``before``?"""
    return outcomes(setup, levers, before, replications, seed, workers, scheduler)[0]


@dataclass(frozen=True)
class PlanSearch:
    """How hard :func:`plan` searches: at most ``trials`` candidates or ``max_minutes``, each on
    ``replications`` runs from ``seed`` (after ``screen`` runs, a candidate dominated with
    confidence is pruned); the frontier then verified on ``verify_replications`` runs from another
    seed.  Levers start on one of ``start_dates`` (default: every six months from ``earliest_start``)."""

    trials: int = 150
    max_minutes: float = 8.0
    replications: int = 200
    screen: int = 50
    verify_replications: int = 500
    seed: int = 1
    earliest_start: dt.date = field(default_factory=earliest_start)  # decisions taken now act from the next month
    start_dates: tuple[dt.date, ...] | None = None

    def starts(self, setup: Setup, target: PlanTarget) -> list[dt.date]:
        """The start dates searched, checked against the forecast's start and the target."""
        if not 1 <= self.screen <= self.replications:
            raise InputError("plan", "screen", f"{self.screen}", f"1 to the replications ({self.replications})")
        # An option is taken from now, and cannot act before the simulated futures begin.
        not_before, meaning = max((today(), "today"), (setup.start_date, "the forecast's start"))
        if self.earliest_start < not_before:
            raise InputError(
                "--earliest-start",
                "earliest_start",
                f"{self.earliest_start} is before {meaning} ({not_before})",
                f"on or after {not_before}",
            )
        if self.earliest_start >= target.before:
            raise InputError(
                "--earliest-start",
                "earliest_start",
                f"{self.earliest_start} is not before the target {target.before}",
                f"before {target.before}",
            )
        starts = sorted(set(self.start_dates)) if self.start_dates else start_options(self.earliest_start, target.before, setup.horizon)
        if starts[0] < self.earliest_start or starts[-1] >= target.before:
            raise InputError(
                "--start", "start_dates", f"{starts[0]} to {starts[-1]}", f"from {self.earliest_start} and before {target.before}"
            )
        return starts


def plan(
    setup: Setup,
    target: PlanTarget,
    levers: Sequence[str] | None = None,
    effort: EffortModel | None = None,
    search: PlanSearch = PlanSearch(),
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Plan:
    """Search packages of ``levers`` (default: every lever the effort file costs) for ``target``,
    as hard as ``search`` says.  ``setup`` is the forecast's (posterior, snapshot, pairings,
    condition); its own levers are replaced by each candidate's."""
    effort = effort or load_effort()
    allowed = list(levers) if levers is not None else list(effort.levers)
    for name in allowed:
        if name not in effort.levers:
            raise InputError(
                effort.path or "effort", f"levers.{name}", "this lever has no effort, so a plan cannot weigh it", ", ".join(effort.levers)
            )
    if not allowed:
        raise InputError("--levers", "levers", "no lever allowed", ", ".join(effort.levers))
    searched = _Search(setup, target, effort, allowed, search, search.starts(setup, target), workers, scheduler, progress)
    return searched.run()


class _Search:
    """One planning search: NSGA-II over packages, screening, then verification on fresh seeds."""

    def __init__(
        self,
        setup: Setup,
        target: PlanTarget,
        effort: EffortModel,
        allowed: list[str],
        search: PlanSearch,
        starts: list[dt.date],
        workers: int | None,
        scheduler: str | None,
        progress: Callable[[int, int, str], None] | None,
    ) -> None:
        self.setup, self.target, self.effort, self.allowed, self.search = setup, target, effort, allowed, search
        self.start_names = [d.isoformat() for d in starts]
        self.workers, self.scheduler = workers, scheduler
        self.say = progress or (lambda done, total, message: None)
        self.until = min(target.before, setup.horizon)
        self.evaluated: dict[Package, dict] = {}
        self.started = time.perf_counter()

    def outcomes(self, levers: Levers, replications: int, seed: int, first: int = 0) -> tuple[np.ndarray, np.ndarray]:
        return outcomes(self.setup, levers, self.target.before, replications, seed, self.workers, self.scheduler, first=first)

    def package_of(self, trial: Any) -> Package:
        choices = []
        for name in self.allowed:
            cost: LeverEffort = self.effort.levers[name]
            intensity = trial.suggest_int(f"{name}.intensity", 0, INTENSITY_STEPS) / INTENSITY_STEPS
            start = dt.date.fromisoformat(trial.suggest_categorical(f"{name}.start", self.start_names))
            aim = trial.suggest_categorical(f"{name}.target", list(cost.targets))
            # An intensity too small to change anything (a fraction of an officer rounds to none) is no lever.
            if intensity > 0 and cost.effect_values(intensity) != cost.effect_values(0.0):
                choices.append(Choice(name, intensity, start, aim))
        return Package(tuple(choices))

    def objective(self, trial: Any) -> tuple[float, float, float]:
        import optuna

        package, search = self.package_of(trial), self.search
        known = self.evaluated.get(package)
        if known is not None:  # NSGA-II proposes a package again: same seeds, same answer
            if known["pruned"]:
                raise optuna.TrialPruned()
            return known["probability"], known["effort"], known["mean_years"]
        cost = package.effort(self.effort, self.until)
        levers = package.levers(self.effort)
        met, years = self.outcomes(levers, search.screen, search.seed)
        row = {"package": package, "effort": cost, "screened": float(met.mean()), "trial": trial.number}
        if search.screen < search.replications and self._beaten(cost, met, years):
            self.evaluated[package] = {
                **row,
                "probability": float(met.mean()),
                "mean_years": float(years.mean()),
                "replications": search.screen,
                "pruned": True,
            }
            raise optuna.TrialPruned()
        if search.screen < search.replications:  # the rest of the runs, after the screening ones (same seeds, not run twice)
            more_met, more_years = self.outcomes(levers, search.replications - search.screen, search.seed, first=search.screen)
            met, years = np.concatenate([met, more_met]), np.concatenate([years, more_years])
        p, mean_years = float(met.mean()), float(years.mean())
        self.evaluated[package] = {**row, "probability": p, "mean_years": mean_years, "replications": search.replications, "pruned": False}
        return p, cost, mean_years

    def _beaten(self, cost: float, met: np.ndarray, years: np.ndarray) -> bool:
        """A cheaper candidate already evaluated beats this one with confidence on its screening runs:
        a probability above this one's plausible best, or as high and an earlier mean date."""
        screen = len(met)
        screened = float(met.mean())
        upper = screened + SCREEN_Z * math.sqrt(max(screened * (1 - screened), 1.0 / screen) / screen)
        # Its condition date, at best (the earliest its mean could plausibly be).
        earliest = float(years.mean() - SCREEN_Z * years.std(ddof=1) / math.sqrt(screen)) if screen > 1 else -math.inf
        return any(
            not r["pruned"]
            and r["effort"] <= cost
            and (r["probability"] > upper or (r["probability"] >= screened and r["mean_years"] < earliest))
            for r in self.evaluated.values()
        )

    def report(self, study: Any, trial: Any) -> None:
        done = len(study.trials)
        elapsed = time.perf_counter() - self.started
        best = max((r["probability"] for r in self.evaluated.values() if not r["pruned"]), default=0.0)
        left = min((self.search.trials - done) * elapsed / done, self.search.max_minutes * 60 - elapsed)
        pruned = sum(r["pruned"] for r in self.evaluated.values())
        self.say(done, self.search.trials, f"{pruned} pruned, best so far {best:.1%}, about {max(left, 0) / 60:.1f} min to go")

    def optimize(self) -> Any:
        import optuna

        trials = self.search.trials
        # ERROR, not WARNING: Optuna logs a failed trial with its traceback at WARNING and then re-raises
        # the exception, so an interrupt (Ctrl-C) printed a KeyboardInterrupt traceback before the clean
        # message; the exception itself still reaches the caller.
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        sampler = optuna.samplers.NSGAIISampler(population_size=min(24, max(4, trials // 4)), seed=self.search.seed)
        # Probability up and effort down; and, where no package moves the probability (a target out of
        # reach), the condition's mean date earlier, so the search still learns which packages come closest.
        study = optuna.create_study(directions=["maximize", "minimize", "minimize"], sampler=sampler)
        # The two ends of the frontier, so that every search knows them: nothing, and everything at once.
        study.enqueue_trial({f"{n}.intensity": 0 for n in self.allowed})
        study.enqueue_trial(
            {
                **{f"{n}.intensity": INTENSITY_STEPS for n in self.allowed},
                **{f"{n}.start": self.start_names[0] for n in self.allowed},
                **{f"{n}.target": "all" for n in self.allowed},
            }
        )
        study.optimize(self.objective, n_trials=trials, timeout=self.search.max_minutes * 60, callbacks=[self.report])
        return study

    def verified_frontier(self, front: list[dict], check_seed: int) -> pd.DataFrame:
        """The frontier's packages rerun on fresh seeds, kept where more effort buys something."""
        rows = []
        for r in front:
            met, years = self.outcomes(r["package"].levers(self.effort), self.search.verify_replications, check_seed)
            se = float(met.std(ddof=1) / math.sqrt(len(met))) if len(met) > 1 else math.nan
            rows.append({**r, "verified": float(met.mean()), "verified_se": se, "verified_years": float(years.mean())})
        start = pd.Timestamp(self.setup.start_date)
        kept = monotone_frontier(rows)
        frontier = pd.DataFrame(
            [
                {
                    "name": f"plan-{k + 1:02d}",
                    "package": r["package"].describe(),
                    "effort": r["effort"],
                    "probability_verified": r["verified"],
                    "probability_verified_se": r["verified_se"],
                    "probability_in_search": r["probability"],
                    "mean_date_verified": (start + pd.Timedelta(days=r["verified_years"] * DAYS_PER_YEAR)).date(),
                    "levers": len(r["package"].choices),
                    "_package": r["package"],
                }
                for k, r in enumerate(kept)
            ]
        )
        if len(frontier):
            frontier["reaches_target"] = frontier["probability_verified"] >= self.target.probability
        return frontier

    def run(self) -> Plan:
        search = self.search
        study = self.optimize()
        search_s = time.perf_counter() - self.started
        candidates = pd.DataFrame(
            [
                {
                    "package": r["package"].describe(),
                    "effort": r["effort"],
                    "probability": r["probability"],
                    "mean_years_to_condition": r["mean_years"],
                    "replications": r["replications"],
                    "pruned": r["pruned"],
                    "levers": len(r["package"].choices),
                    "first_trial": r["trial"],
                }
                for r in self.evaluated.values()
            ]
        )
        front = pareto_front([r for r in self.evaluated.values() if not r["pruned"]])
        self.say(
            len(study.trials),
            len(study.trials),
            f"verifying {len(front)} frontier packages on {search.verify_replications} fresh runs each",
        )
        check_seed = verification_seed(search.seed)
        baseline = float(self.outcomes(Levers(), search.verify_replications, check_seed)[0].mean())
        frontier = self.verified_frontier(front, check_seed)
        packages = dict(zip(frontier["name"], frontier["_package"])) if len(frontier) else {}
        frontier = frontier.drop(columns="_package") if len(frontier) else frontier.assign(reaches_target=[])
        reaching = frontier[frontier["reaches_target"]] if len(frontier) else frontier
        return Plan(
            target=self.target,
            effort_unit=self.effort.unit,
            candidates=candidates.sort_values("effort").reset_index(drop=True),
            frontier=frontier,
            packages=packages,
            chosen=str(reaching.iloc[0]["name"]) if len(reaching) else None,
            baseline_probability=baseline,
            best_probability=float(frontier["probability_verified"].max()) if len(frontier) else baseline,
            settings={
                "levers": self.allowed,
                "trials": len(study.trials),
                "distinct_candidates": len(self.evaluated),
                "pruned": int(candidates["pruned"].sum()) if len(candidates) else 0,
                "replications": search.replications,
                "screen": search.screen,
                "verify_replications": search.verify_replications,
                "seed": search.seed,
                "verification_seed": check_seed,
                "earliest_start": search.earliest_start.isoformat(),
                "start_options": self.start_names,
                "search_s": round(search_s, 1),
                "total_s": round(time.perf_counter() - self.started, 1),
                "effort_file": str(self.effort.path) if self.effort.path else None,
            },
        )


def plan_record(result: Plan) -> dict:
    """What a plan found, as plain data (``plan.json``): target, answer, and how it was searched."""
    return {
        "target": {"before": result.target.before.isoformat(), "label": result.target.label, "probability": result.target.probability},
        "chosen": result.chosen,
        "baseline_probability": result.baseline_probability,
        "best_probability": result.best_probability,
        "effort_unit": result.effort_unit,
        **result.settings,
    }


def load_plan(folder: str | Path) -> tuple[dict, pd.DataFrame]:
    """A plan folder written by ``workbench plan``: its record and its verified frontier."""
    import json

    folder = Path(folder)
    for name in ("plan.json", "frontier.csv"):
        if not (folder / name).is_file():
            raise InputError(folder / name, "(file)", "missing", "a folder written by `workbench plan`")
    try:
        record = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
        frontier = pd.read_csv(folder / "frontier.csv")
    except (ValueError, OSError) as err:
        raise InputError(folder, "(file)", f"not readable: {err}", "a folder written by `workbench plan`") from None
    needed = {"name", "package", "effort", "probability_verified", "probability_verified_se"}
    if not isinstance(record, dict) or "target" not in record or not needed <= set(frontier.columns):
        raise InputError(folder, "plan.json / frontier.csv", "not the layout `workbench plan` writes", ", ".join(sorted(needed)))
    return record, frontier


def _better(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """(probability, mean years) ``a`` beats ``b``: a higher probability, or the same and an earlier mean date."""
    return a[0] > b[0] or (a[0] == b[0] and a[1] < b[1])


def pareto_front(rows: list[dict]) -> list[dict]:
    """In order of effort, the rows that beat every cheaper row: on probability, then on the mean date."""
    front: list[dict] = []
    for r in sorted(rows, key=lambda r: (r["effort"], -r["probability"], r["mean_years"])):
        if not front or _better((r["probability"], r["mean_years"]), (front[-1]["probability"], front[-1]["mean_years"])):
            front.append(r)
    return front


def monotone_frontier(rows: list[dict]) -> list[dict]:
    """The same on the verified numbers: more effort never shows a lower verified probability
    (nor, at the same probability, a later mean date)."""
    kept: list[dict] = []
    for r in sorted(rows, key=lambda r: r["effort"]):
        if not kept or _better((r["verified"], r["verified_years"]), (kept[-1]["verified"], kept[-1]["verified_years"])):
            kept.append(r)
    return kept
