"""Likelihood-free calibration: ABC-SMC with model selection (pyabc) of the model run from 2020.

A :class:`Calibration` is its settings (:class:`CalibrationSettings`: the budget, seed,
structures, priors and observations), its run (:meth:`Calibration.run`) and its result
(:class:`CalibrationResult`, exported with :meth:`CalibrationResult.export`), in the manner of
Starsim's ``Calibration``.  The model, its statistics and their scales are the
:mod:`~workbench.inference.simulator`'s; the pieces of pyabc it replaces are in
:mod:`~workbench.inference.pyabc_parts`.

* **Distance**: L1 over the statistics, each divided by the spread the model's runs give it,
  refitted every generation, with no one report carrying more than half of it
  (:mod:`~workbench.inference.distance`).  The scales come from the stored population, so a
  resumed run sees the same distance as an uninterrupted one.  After the last generation, a
  sample of its particles is run again on fresh seeds: the share that lands within the final
  epsilon says whether acceptance picked the parameters or lucky runs.
* **Proposal**: pyabc's multivariate normal kernel, three times Silverman's bandwidth, so that
  importance weights do not collapse in 14 dimensions; structures jump as pyabc's kernel says.
* **Storage**: pyabc's SQLite run database; one generation per ``ABCSMC.run`` call, each
  re-initialized from the database, so a run interrupted between generations resumes to
  exactly the result an uninterrupted one gives.  The posterior is exported atomically.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyabc

from workbench.core import interrupts
from workbench.core.atomic import atomic_folder
from workbench.core.errors import InputError
from workbench.core.paths import POSTERIOR_DIR, RUN_DATABASE
from workbench.core.provenance import code_version, display_path, resolve, sha256_file
from workbench.core.timeline import CONFERENCE_SESSIONS, HEADLINE_SESSION
from workbench.experiments.setup import Setup
from workbench.experiments.workers import default_workers
from workbench.inference.distance import REPORT_SHARE_CAP, SpreadScaledDistance, Weights, distance_of, spread_weights
from workbench.inference.pyabc_parts import CholeskyTransition, OrderedSampler, box_prior, model_kernels
from workbench.inference.settings import Budget, CalibrationSettings
from workbench.inference.simulator import Simulator, from_sampling_scale
from workbench.inference.structures import Structure
from workbench.inputs.observations import Snapshot, load_observations
from workbench.inputs.parameters import Parameters
from workbench.inputs.priors import Priors, load_priors

DEFAULT_OUTPUT = POSTERIOR_DIR
DEFAULT_DB = RUN_DATABASE
DEFAULT_SETTINGS = CalibrationSettings()  # the shipped calibration's

__all__ = ["Budget", "Calibration", "CalibrationResult", "CalibrationSettings", "export_posterior", "posterior_summary"]


def _snapshot_digest(snapshot: Snapshot) -> str:
    """Checksum of the observations file, or of the figures themselves for one built in memory."""
    path = Path(snapshot.path)
    if path.is_file():
        return sha256_file(path)
    content = sorted((name, group or 0, fig.value, fig.alternatives) for (name, group), fig in snapshot.figures.items())
    return hashlib.sha256(repr((snapshot.as_at.isoformat(), content)).encode()).hexdigest()


def run_config(priors: Priors, snapshots: list[Snapshot], budget: Budget, seed: int, structures: tuple[Structure, ...]) -> dict:
    return {
        "seed": seed,
        "population": budget.population,
        "structures": [s.name for s in structures],
        "priors": {"file": display_path(priors.path), "sha256": priors.sha256},
        "observations": [{"file": display_path(s.path), "as_at": s.as_at.isoformat(), "sha256": _snapshot_digest(s)} for s in snapshots],
    }


@dataclass
class CalibrationResult:
    particles: pd.DataFrame  # generation, structure, weight, one column per calibrated parameter
    provenance: dict
    db: Path
    generations_run: int

    @property
    def structure_probabilities(self) -> dict[str, float]:
        """Posterior probability of each structure (ABC model selection)."""
        return {s["name"]: s["probability"] for s in self.provenance["structures"]}

    def export(self, output: str | Path = DEFAULT_OUTPUT) -> Path:
        """Write particles, summary and provenance to ``output`` (see :func:`export_posterior`)."""
        return export_posterior(self, output)


def _progress_line(t: int, eps: float, accepted: int, evaluations: int, elapsed: float, expected: float | None) -> str:
    rate = accepted / evaluations if evaluations else float("nan")
    tail = f", at most {expected / 60:.1f} min to go" if expected is not None else ""
    return f"generation {t}: epsilon {eps:.4g}, acceptance {accepted}/{evaluations} = {rate:.1%}, elapsed {elapsed / 60:.1f} min{tail}"


class Calibration:
    """ABC-SMC with model selection over the settings' structures, kept in a run database.

    Each structure is a model of its own (its answers fix some parameters, the rest have the
    priors); pyabc fits them in one run and returns their posterior probabilities.  The run
    database ``db`` keeps every finished generation: if it exists, ``run(resume=True)``
    continues it (checking that seed, population, structures, priors and observations are
    unchanged) and ``run(fresh=True)`` deletes it first; with neither, it is an error rather
    than a silent choice.  ``simulator`` and ``snapshots`` replace the model and the figures
    (tests fit synthetic truths).
    """

    def __init__(
        self,
        settings: CalibrationSettings = DEFAULT_SETTINGS,
        db: str | Path = DEFAULT_DB,
        workers: int | None = None,
        scheduler: str | None = None,
        simulator: Simulator | None = None,
        snapshots: list[Snapshot] | None = None,
        progress: Callable[[str], None] = print,
    ):
        self.settings = settings
        self.db = Path(db)
        self.workers = default_workers() if workers is None else max(1, int(workers))
        self.scheduler = scheduler
        self.priors = load_priors(settings.priors_path)
        self.snapshots = snapshots if snapshots is not None else load_observations(settings.observations_dir)
        self.simulator = simulator or Simulator(self.snapshots, engine=settings.engine)
        self.progress = progress
        self.config = run_config(self.priors, self.snapshots, settings.budget, settings.seed, settings.structures)

    def run(self, resume: bool = False, fresh: bool = False) -> CalibrationResult:
        """Run (or resume) the calibration to its stopping rule: the posterior of its last generation."""
        _quiet_pyabc()
        lock = _open_run_database(self.db, self.config, resume, fresh)
        try:
            db_url = f"sqlite:///{self.db.resolve()}"
            started = time.perf_counter()
            watch = self._watch if self.settings.budget.watch_replications else None
            stopped_because, headlines = _run_generations(
                self._abc, self.db, db_url, self.simulator.observed(), self.settings.budget, self.progress, self.settings.structures, watch
            )
            history = pyabc.History(db_url)
            history.id = 1
            return self._result(history, time.perf_counter() - started, stopped_because, headlines)
        finally:
            os.close(lock)

    def _abc(self) -> Any:
        """A pyabc run over the structures (re-initialized from the database for each generation)."""
        structures, budget, simulator = self.settings.structures, self.settings.budget, self.simulator
        model_prior, model_kernel = model_kernels(len(structures))
        models = structure_models(simulator, structures)
        return pyabc.ABCSMC(
            models,
            [box_prior(self.priors, s.fixed) for s in structures],
            model_prior=model_prior,
            model_perturbation_kernel=model_kernel,
            distance_function=SpreadScaledDistance(simulator.table, len(simulator.snapshots)),
            population_size=budget.population,
            transitions=[CholeskyTransition() for _ in structures],
            sampler=OrderedSampler(self.settings.seed, self.workers, self.scheduler),
            eps=pyabc.QuantileEpsilon(alpha=0.5),
        )

    def _watch(self, history: Any, t: int) -> dict:
        """The forecast generation ``t``'s particles give (the stopping rule watches it settle)."""
        particles, _ = particles_at(history, t, self.settings.structures, self.priors)
        replications = self.settings.budget.watch_replications
        return watched_headline(particles, self.priors, self.simulator, replications, self.settings.seed, self.workers, self.scheduler)

    def _result(self, history: Any, elapsed: float, stopped_because: str, headlines: list[dict]) -> CalibrationResult:
        t = history.max_t
        particles, table = particles_at(history, t, self.settings.structures, self.priors)
        pops = history.get_all_populations()
        w = particles["weight"].to_numpy()
        budget = self.settings.budget
        provenance = {
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "code_version": code_version(),
            "method": f"ABC-SMC with model selection (pyabc {pyabc.__version__}), L1 distance scaled by the runs' spread "
            f"(adaptive, each report at most {REPORT_SHARE_CAP:.0%}), quantile epsilon 0.5, log scale for log-uniform priors, "
            "ordered reproducible sampler",
            **self.config,
            "structures": table,
            "budget": {k: getattr(budget, k) for k in ("population", "generations", "max_minutes", "min_epsilon_drop")},
            "generations_run": int(t + 1),
            "stopped_because": stopped_because,
            "headline_by_generation": headlines,
            "converged": stopped_because.startswith("converged"),
            "epsilon_by_generation": [round(float(e), 4) for e in pops[pops.t >= 0].sort_values("t").epsilon],
            "final_epsilon": float(pops[pops.t == t].epsilon.iloc[0]),
            "effective_sample_size": round(float(1.0 / np.sum(w**2)), 1),
            "total_simulations": int(pops.samples.sum()),  # including the prior sample that sets the first epsilon
            "wall_time_s": round(float(pops.wall_time.sum()), 1),  # pyabc's sampling time of all generations, across resumes
            "wall_clock_s": round(float(elapsed), 1),  # this call from start to export, with the watched forecasts
            "generation_wall_times_s": [round(float(x), 1) for x in pops.wall_time],
            "workers": self.workers,
            "scheduler": self.scheduler,
            "engine": getattr(self.simulator, "engine", "compiled"),
            "database": display_path(self.db),
            "distance": self._distance_record(history, t),
        }
        return CalibrationResult(particles, provenance, self.db, int(t + 1))

    def _weights_at(self, history: Any, t: int) -> Weights:
        """The distance's weights in generation ``t``: fitted on generation t - 1's accepted runs."""
        _, stats = history.get_weighted_sum_stats(t=t - 1)
        table = self.simulator.table
        values = np.array([[s[k] for k in table.keys] for s in stats], dtype=float)
        return spread_weights(values, table, len(self.simulator.snapshots))

    def _distance_record(self, history: Any, t: int) -> dict:
        """What the final generation's distance weighed, and how often its particles, run again on
        fresh seeds, land within its epsilon (re-simulation acceptance)."""
        table = self.simulator.table
        weights = self._weights_at(history, t)
        pops = history.get_all_populations()
        epsilon = float(pops[pops.t == t].epsilon.iloc[0])
        inside, draws = resimulation_acceptance(history, t, self.settings.structures, self.simulator, weights, epsilon, self.settings.seed)
        return {
            "report_share_cap": REPORT_SHARE_CAP,
            "reports": [
                {"as_at": snap.as_at.isoformat(), "statistics": int(np.sum(table.date == d)), "share": round(float(weights.shares[d]), 4)}
                for d, snap in enumerate(self.simulator.snapshots)
            ],
            "scales": {k: round(float(v), 5) for k, v in zip(table.keys, weights.scales)},
            "resimulation": {"draws": draws, "inside_final_epsilon": round(inside / draws, 4) if draws else None},
        }


def structure_models(simulator: Simulator, structures: tuple[Structure, ...]) -> list[Simulator]:
    """One simulator per structure: the model with that structure's answers fixed."""
    return [dataclasses.replace(simulator, base=simulator.base.updated(s.fixed, source=f"structure {s.name}")) for s in structures]


#: Particles of the final generation run again on fresh seeds to measure re-simulation acceptance.
RESIMULATION_DRAWS = 200


def resimulation_acceptance(
    history: Any, t: int, structures: tuple[Structure, ...], simulator: Simulator, weights: Weights, epsilon: float, seed: int
) -> tuple[int, int]:
    """How many of :data:`RESIMULATION_DRAWS` particles of generation ``t`` (drawn by weight, at most
    as many as it has), each run once more on a fresh seed, land within ``epsilon``; and how many
    were run.  Every one was within epsilon on its own run: the fewer do again, the more
    acceptance picked lucky runs rather than parameters (19 % on the shipped 0.5 posterior)."""
    rng = np.random.default_rng([seed, 7, t])
    probabilities = _model_probabilities(history, t)
    rows = []
    for m in range(len(structures)):
        if probabilities.get(m, 0.0) > 0:
            frame, w = history.get_distribution(m=m, t=t)
            rows += [(m, record, weight) for record, weight in zip(frame.to_dict("records"), np.asarray(w, dtype=float))]
    if not rows:
        return 0, 0
    p = np.array([w * probabilities.get(m, 0.0) for m, _, w in rows])
    draws = min(RESIMULATION_DRAWS, len(rows))  # a test's population of ten: ten runs
    picks = rng.choice(len(rows), size=draws, p=p / p.sum())
    seeds = np.random.SeedSequence([seed, 7, t]).spawn(draws)
    score = distance_of(weights, simulator.table)
    models = structure_models(simulator, structures)  # once, not once per draw: each builds its set-up
    inside = 0
    for pick, fresh in zip(picks, seeds):
        m, record, _ = rows[pick]
        values = np.array(list(models[m].statistics(from_sampling_scale(record), fresh).values()), dtype=float)
        inside += int(score(values)[0] <= epsilon)
    return inside, draws


def _quiet_pyabc() -> None:
    """pyabc logs every step at INFO; the progress line says what a user needs."""
    for name in ("ABC", "ABC.Sampler", "ABC.History", "ABC.Distance", "ABC.Epsilon", "ABC.Adaptation", "ABC.Predictor"):
        logging.getLogger(name).setLevel(logging.WARNING)


#: What a run's settings file beside its database must hold to be one the workbench wrote.
RUN_KEYS = ("seed", "population", "structures", "priors", "observations")
#: The first bytes of every SQLite database (the file format's header string).
SQLITE_HEADER = b"SQLite format 3\x00"


def _run_settings(path: Path) -> dict | None:
    """The run settings recorded at ``path``, or None if it holds none the workbench wrote."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return saved if isinstance(saved, dict) and all(key in saved for key in RUN_KEYS) else None


def _is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def check_run_database(db: Path, resume: bool, fresh: bool) -> None:
    """Refuse, before any work, a ``--db`` the workbench did not write (it would be deleted by
    ``--fresh`` or read as a run), or whose settings file would replace a file of the user's."""
    config_path = db.with_suffix(".json")
    allowed = "a new file name (e.g. calibration/runs/mine.db), or a run database the workbench wrote"
    if db.is_dir():
        raise InputError(db, "--db", "is a folder", allowed)
    if db.exists() and (not _is_sqlite(db) or _run_settings(config_path) is None):
        why = "is not a SQLite database" if not _is_sqlite(db) else f"has no run settings beside it ({config_path.name})"
        raise InputError(db, "--db", f"{why}, so it is not a calibration run database the workbench wrote; it is left as it is", allowed)
    if not db.exists() and config_path.exists() and _run_settings(config_path) is None:
        raise InputError(
            config_path, "--db", "the run's settings would be written here, over a file the workbench did not write", "another --db name"
        )
    if db.exists() and not (resume or fresh):
        raise InputError(
            db, "(run database)", "a calibration run database already exists", "--resume to continue it, or --fresh to start over"
        )
    damage = _damage(db) if db.exists() and resume else None
    if damage:
        raise InputError(db, "--resume", f"the run database {damage}, so it cannot be resumed", "--fresh to start over, or another --db")


#: The tables every pyabc run database holds (its storage format 2).
PYABC_TABLES = frozenset({"abc_smc", "populations", "models", "particles", "version"})


def _damage(db: Path) -> str | None:
    """What is wrong with the run database ``db`` as pyabc would read it (None if nothing)."""
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
            tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            missing = sorted(PYABC_TABLES - tables)
            if missing:
                return f"lacks pyabc's tables ({', '.join(missing)})"
            versions = [v for (v,) in connection.execute("SELECT version_num FROM version")]
    except sqlite3.Error as err:
        return f"is damaged ({err})"
    if versions != ["2"] and versions != [2]:
        return f"has pyabc storage version {versions or 'none'}, not 2"
    return None


def finished_generations(db: Path) -> int:
    """How many generations the run database ``db`` holds whole (0 if none, or no database)."""
    import sqlite3

    if not _is_sqlite(db):
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
            (count,) = connection.execute("SELECT COUNT(*) FROM populations WHERE t >= 0").fetchone()
        return int(count)
    except sqlite3.Error:
        return 0


def _lock_run_database(db: Path) -> int:
    """Hold ``db`` for this run (released when the process ends): a second run on the same
    database would write the same generations and corrupt both."""
    import fcntl

    db.parent.mkdir(parents=True, exist_ok=True)
    lock_path = db.with_name(f".{db.name}.lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise InputError(
            db, "--db", f"is in use by another calibration (process {holder})", "one run at a time per database: wait, or another --db"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def _open_run_database(db: Path, config: dict, resume: bool, fresh: bool) -> int:
    """Make ready the run database: lock it, then start it (writing the run's settings beside it),
    or check that the existing run is the one being resumed.  Never reuse or overwrite a run
    silently, nor delete or read as a run a file the workbench did not write.  Returns the lock."""
    check_run_database(db, resume, fresh)
    lock = _lock_run_database(db)
    try:
        config_path = db.with_suffix(".json")
        if db.exists() and fresh:
            db.unlink()
            config_path.unlink(missing_ok=True)
        if db.exists():
            saved = _run_settings(config_path) or {}
            for key in RUN_KEYS:
                if saved.get(key) != config[key]:
                    raise InputError(
                        config_path,
                        key,
                        f"differs from this call ({saved.get(key)!r} vs {config[key]!r})",
                        "the same settings as the run being resumed, or --fresh",
                    )
            return lock
        tmp = config_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(config, indent=2), encoding="utf-8")
        os.replace(tmp, config_path)
    except BaseException:
        os.close(lock)
        raise
    return lock


def _run_generations(
    make_abc: Callable,
    db: Path,
    db_url: str,
    observed: dict,
    budget: Budget,
    progress: Callable[[str], None],
    structures: tuple[Structure, ...],
    watch: Callable[[Any, int], dict] | None = None,
) -> tuple[str, list[dict]]:
    """One generation at a time, each committed to the database, until converged, the budget's
    generations are done, or the next generation would pass its time limit (extrapolating how
    long it would take).  Converged: the headline the posterior forecasts (``watch``) moved by
    less than the budget's tolerance in each of the last three generations, or epsilon fell by
    less than ``budget.min_epsilon_drop`` in each of them.  Returns why it stopped, and the
    watched headline of each generation (recomputed from the database on a resume)."""
    started = time.perf_counter()
    durations: list[float] = []
    headlines: dict[int, dict] = {}
    while True:
        interrupts.raise_if_requested()  # an interrupt swallowed inside pyabc's generator clean-up
        abc = make_abc()
        with interrupts.deferred():
            history = abc.load(db_url, 1) if db.exists() and _has_run(db_url) else abc.new(db_url, observed)
        _defer_interrupts_in_writes(history)
        done = history.max_t + 1
        if watch is not None:
            for t in range(max(1, done - CONVERGED_GENERATIONS - 1), done):
                if t not in headlines:
                    headlines[t] = {"generation": t, **watch(history, t)}
        listed = [headlines[t] for t in sorted(headlines)]
        moves = _headline_moves(listed)[-CONVERGED_GENERATIONS:]
        if len(moves) == CONVERGED_GENERATIONS and max(moves) < budget.headline_tolerance:
            moved = " and ".join(f"{m:.1%}" for m in moves)
            return (
                f"converged: the forecast moved by at most {moved} in the last generations (less than {budget.headline_tolerance:.0%})",
                listed,
            )
        drops = _epsilon_drops(history)[-CONVERGED_GENERATIONS:]
        if len(drops) == CONVERGED_GENERATIONS and max(drops) < budget.min_epsilon_drop:
            fell = " and ".join(f"{d:.1%}" for d in drops)
            return f"converged: epsilon fell by {fell} in the last generations (less than {budget.min_epsilon_drop:.0%} each)", listed
        if done >= budget.generations:
            return f"generation limit: {budget.generations} generations, not converged", listed
        elapsed = time.perf_counter() - started
        # Generations slow down as epsilon shrinks: extrapolate the last growth in duration.
        predicted = durations[-1] * max(1.0, durations[-1] / durations[-2]) if len(durations) >= 2 else (durations or [0.0])[-1]
        if durations and elapsed + predicted > budget.max_minutes * 60:
            message = f"time limit: the next generation would pass the {budget.max_minutes:g}-minute limit; not converged"
            progress(f"stopping after {done} generation(s): {message}")
            return message, listed
        generation_started = time.perf_counter()
        abc.run(max_nr_populations=1)
        durations.append(time.perf_counter() - generation_started)
        pops = abc.history.get_all_populations()
        t = abc.history.max_t
        row = pops[pops.t == t].iloc[0]
        probabilities = _model_probabilities(abc.history, t)
        leading = ", ".join(f"{structures[m].name} {p:.0%}" for m, p in sorted(probabilities.items(), key=lambda kv: -kv[1])[:3])
        watched = ""
        if watch is not None and t >= 1:
            headlines[t] = {"generation": t, **watch(abc.history, t)}
            watched = "; forecast: " + ", ".join(f"{k} {v:.1%}" for k, v in headlines[t].items() if k != "generation")
        progress(
            _progress_line(
                t,
                float(row.epsilon),
                budget.population,
                int(row.samples),
                time.perf_counter() - started,
                _time_left(durations, budget, time.perf_counter() - started, t),
            )
            + f"; leading structures: {leading}{watched}"
        )


#: pyabc's History methods that commit to the run database: an interrupt waits for them to finish.
_HISTORY_WRITES = ("append_population", "done", "store_initial_data", "store_pre_population", "update_after_calibration")


def _defer_interrupts_in_writes(history: Any) -> None:
    """Make this run's database writes whole: a signal inside one takes effect when it returns.

    Without this, SIGTERM during a commit left pyabc's session unusable, and its clean-up's
    error (``InvalidRequestError``) replaced the interrupt: exit status 1 and a traceback.
    """
    for name in _HISTORY_WRITES:
        write = getattr(history, name, None)
        if write is not None:
            setattr(history, name, _deferring(write))


def _deferring(write: Callable) -> Callable:
    def whole(*args: Any, **kwargs: Any) -> Any:
        with interrupts.deferred():
            return write(*args, **kwargs)

    return whole


def _headline_moves(headlines: list[dict]) -> list[float]:
    """The largest change of any watched quantity from each generation to the next."""
    return [max(abs(b[k] - a[k]) for k in a if k != "generation") for a, b in zip(headlines[:-1], headlines[1:])]


def watched_headline(
    particles: pd.DataFrame, priors: Priors, simulator: Simulator, replications: int, seed: int, workers: int, scheduler: str | None
) -> dict:
    """What a forecast on these particles says: P(not met by the horizon) and P(met before the
    2030 session), from the report's state on ``replications`` runs (the same seeds every time)."""
    from workbench.experiments.replications import run_replications
    from workbench.experiments.setup import DEFAULT_HORIZON
    from workbench.inputs.posterior import Posterior

    posterior = Posterior(
        tuple(priors.names),
        particles[priors.names].to_numpy(dtype=float),
        particles["weight"].to_numpy(dtype=float),
        {},
        Path("generation"),
        particles["structure"].to_numpy() if "structure" in particles else None,
    )
    setup = Setup(simulator.base, simulator.report, None, "report", DEFAULT_HORIZON, posterior=posterior)
    threshold = run_replications(
        setup, replications, seed=seed, workers=workers, keep_events=False, scheduler=scheduler, keep_monthly=False
    ).threshold
    session = pd.Timestamp(CONFERENCE_SESSIONS[HEADLINE_SESSION])
    return {
        "p_not_by_horizon": float((~threshold["reached"]).mean()),
        f"p_before_{HEADLINE_SESSION}_session": float((threshold["reached"] & (threshold["date"] < session)).mean()),
    }


def _model_probabilities(history: Any, t: int) -> dict[int, float]:
    """Posterior probability of each structure still alive at generation ``t``, by index."""
    return {int(m): float(p) for m, p in history.get_model_probabilities(t)["p"].items()}


#: Generations in a row in which the watched forecast (or epsilon) must barely move.  One or two
#: quiet generations can be chance: in the measured runs the forecast held within 1.5 points for
#: two generations, then moved by 3.4 as epsilon kept falling.
CONVERGED_GENERATIONS = 3


def _epsilon_drops(history: Any) -> list[float]:
    """Relative fall of epsilon from each generation to the next."""
    pops = history.get_all_populations()
    eps = pops[pops.t >= 0].sort_values("t").epsilon.to_numpy(dtype=float)
    return [float((a - b) / a) for a, b in zip(eps[:-1], eps[1:]) if np.isfinite(a) and a > 0]


def _time_left(durations: list[float], budget: Budget, elapsed: float, t: int) -> float | None:
    """At most this long to go: the remaining generations' growth, capped by the time limit
    (a run that converges stops sooner)."""
    expected = _seconds_to_go(durations, budget.generations - (t + 1))
    return None if expected is None else min(expected, max(budget.max_minutes * 60 - elapsed, 0.0))


def _seconds_to_go(durations: list[float], remaining: int) -> float | None:
    """Seconds the remaining generations should take, from the growth of the last ones."""
    if not remaining:
        return None
    # The first generation samples the prior and is no guide to growth; cap it, since a
    # compounded outlier once forecast 200 minutes for a run that took 2.
    growth = min(2.0, durations[-1] / durations[-2]) if len(durations) >= 3 else 1.5
    return sum(durations[-1] * max(growth, 1.0) ** k for k in range(1, remaining + 1))


def _has_run(db_url: str) -> bool:
    import pyabc

    try:
        h = pyabc.History(db_url)
        return bool(h.all_runs())
    except Exception:
        return False


def particles_at(history: Any, t: int, structures: tuple[Structure, ...], priors: Priors) -> tuple[pd.DataFrame, list[dict]]:
    """Generation ``t`` as one table of weighted particles on the parameters' own scale (a
    structure's fixed parameters filled in, weights summing to 1 across structures), and a row
    per structure with its posterior probability."""
    probabilities = _model_probabilities(history, t)
    frames, table = [], []
    for m, structure in enumerate(structures):
        p = float(probabilities.get(m, 0.0))
        row = {"name": structure.name, "probability": p, "fixed": structure.fixed, "particles": 0, "effective_sample_size": 0.0}
        if p > 0:
            frame, weights = history.get_distribution(m=m, t=t)
            natural = pd.DataFrame([{**from_sampling_scale(r), **structure.fixed} for r in frame.to_dict("records")])
            w = np.asarray(weights, dtype=float) / np.sum(weights)
            part = natural.reindex(columns=priors.names)
            for name in priors.names:  # a parameter neither fitted nor fixed keeps its default
                if part[name].isna().all():
                    part[name] = getattr(Parameters(), name)
            part.insert(0, "weight", w * p)
            part.insert(0, "structure", structure.name)
            part.insert(0, "generation", t)
            frames.append(part)
            row.update(particles=len(part), effective_sample_size=round(float(1.0 / np.sum(w**2)), 1))
        table.append(row)
    particles = pd.concat(frames, ignore_index=True)
    particles["weight"] /= particles["weight"].sum()
    return particles, table


def posterior_summary(particles: pd.DataFrame, priors: Priors) -> pd.DataFrame:
    """Weighted mean, sd and quantiles of each parameter, with the prior's sd for comparison."""
    w = particles["weight"].to_numpy()
    rows = []
    for p in priors.priors:
        x = particles[p.name].to_numpy()
        order = np.argsort(x)
        cdf = np.cumsum(w[order])
        q = {f"q{int(k * 100):02d}": float(x[order][np.searchsorted(cdf, k * cdf[-1])]) for k in (0.05, 0.5, 0.95)}
        mean = float(np.sum(w * x))
        sd = float(np.sqrt(np.sum(w * (x - mean) ** 2)))
        rows.append(
            {
                "parameter": p.name,
                "mean": mean,
                "sd": sd,
                **q,
                "prior_low": p.low,
                "prior_high": p.high,
                "prior_sd": p.sd(),
                "sd_ratio": sd / p.sd(),
            }
        )
    return pd.DataFrame(rows)


def export_posterior(result: CalibrationResult, output: str | Path) -> Path:
    """Write particles, summary and provenance to ``output`` via a staging folder and a rename."""
    output = Path(output)
    with atomic_folder(output, kind="posterior") as staging:
        result.particles.to_csv(staging / "particles.csv", index=False)
        priors = load_priors(resolve(result.provenance["priors"]["file"]))
        posterior_summary(result.particles, priors).to_csv(staging / "summary.csv", index=False)
        pd.DataFrame(result.provenance["structures"]).drop(columns="fixed").to_csv(staging / "structures.csv", index=False)
        (staging / "provenance.json").write_text(json.dumps(result.provenance, indent=2), encoding="utf-8")
    return output
