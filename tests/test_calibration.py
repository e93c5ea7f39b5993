"""Calibration: priors are validated, the sampler is reproducible across workers, several
snapshots fit jointly, an interrupted run resumes to the same result, and the fit recovers
known parameters (and visibly fails to when the model is wrong)."""

import dataclasses
import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.core.errors import InputError
from workbench.experiments.setup import Setup, simulate
from workbench.inference.calibrate import Budget, Calibration, CalibrationSettings, posterior_summary
from workbench.inference.distance import REPORT_SHARE_CAP
from workbench.inference.simulator import Simulator, StatisticTable
from workbench.inference.structures import Structure
from workbench.inputs.observations import load_observations
from workbench.inputs.parameters import Parameters
from workbench.inputs.posterior import load_posterior
from workbench.inputs.priors import DEFAULT_PRIORS, load_priors
from workbench.observation.observe import N_CATEGORIES, observe
from workbench.simulation.streams import replication_seeds

from conftest import ROOT

# --- priors ---------------------------------------------------------------------------


def test_shipped_priors_load_with_reasons():
    priors = load_priors()
    assert len(priors.names) >= 10
    assert all(p.why for p in priors.priors)


@pytest.mark.parametrize(
    "entry,message",
    [
        ('name = "saq_medain_months"\ndistribution = "uniform"\nlow = 1\nhigh = 2\nwhy = "x"', "is not a parameter"),
        ('name = "saq_median_months"\ndistribution = "normal"\nlow = 1\nhigh = 2\nwhy = "x"', "'normal' is not supported"),
        ('name = "saq_median_months"\ndistribution = "uniform"\nlow = 5\nhigh = 2\nwhy = "x"', "not inside the parameter's range"),
        ('name = "silent_share"\ndistribution = "loguniform"\nlow = 0.0\nhigh = 0.2\nwhy = "x"', "needs low > 0"),
        ('name = "saq_median_months"\ndistribution = "uniform"\nlow = 1\nhigh = 2', "missing the reasoning"),
        ('name = "saq_median_months"\ndistribution = "uniform"\nlow = 1\nhigh = "2"\nwhy = "x"', "expected a finite number"),
        ('name = "secretariat_officers"\ndistribution = "uniform"\nlow = 1\nhigh = 4\nwhy = "x"', "whole-number"),
    ],
)
def test_malformed_priors_name_file_and_field(tmp_path, entry, message):
    path = tmp_path / "priors.toml"
    path.write_text("[[prior]]\n" + entry + "\n")
    with pytest.raises(InputError, match=message) as err:
        load_priors(path)
    assert "priors.toml" in str(err.value)


def test_a_count_inside_the_reported_range_is_a_zero_distance(snapshot):
    """¶28's two-language consultations read 23 or 25 of the 78 held: any share from 23/78 to
    25/78 matches, and a run is scored on its share of the consultations it held."""
    table = StatisticTable.of([snapshot])
    k = table.keys.index(f"{snapshot.as_at.isoformat()}|consultations_two_languages")
    assert (table.low[k], table.high[k]) == (23 / 78, 25 / 78)
    observed = np.zeros((1, N_CATEGORIES, 4), np.int64)
    observed[0, table.parent[k], 0] = 78
    for count, distance in ((24, 0), (27, 2 / 78), (20, -3 / 78)):
        observed[0, table.category[k], 0] = count
        assert table.distances(observed)[k] == pytest.approx(distance)
    observed[0, [table.parent[k], table.category[k]], 0] = 0  # no consultation held: a share of 0, not 0/0
    assert table.values(observed)[k] == 0


# --- the sampler ----------------------------------------------------------------------

TINY = Budget(population=12, generations=2, max_minutes=10, watch_replications=20)


def _tiny(tmp_path, name, workers, **kw):
    result = Calibration(CalibrationSettings(TINY, seed=5), db=tmp_path / name / "abc.db", workers=workers, progress=lambda line: None).run(
        **kw
    )
    result.export(tmp_path / name / "post")
    return result


@pytest.mark.subprocess
def test_one_and_two_workers_give_identical_particles(tmp_path):
    one = _tiny(tmp_path, "one", 1)
    two = _tiny(tmp_path, "two", 2)
    pd.testing.assert_frame_equal(one.particles, two.particles)
    assert one.provenance["total_simulations"] == two.provenance["total_simulations"]


def test_posterior_is_exported_with_provenance(tmp_path):
    result = _tiny(tmp_path, "p", 1)
    posterior = load_posterior(tmp_path / "p" / "post")
    assert set(posterior.names) == set(load_priors().names)
    prov = posterior.provenance
    for key in ("created", "code_version", "seed", "observations", "budget", "priors", "total_simulations"):
        assert key in prov
    assert prov["observations"][0]["sha256"]
    assert np.isclose(posterior.weights.sum(), 1.0)
    assert (tmp_path / "p" / "post" / "summary.csv").is_file()
    assert result.generations_run == 2
    # what the last generation's distance weighed, and whether its particles pass again on fresh seeds
    distance = prov["distance"]
    assert [r["as_at"] for r in distance["reports"]] == [s["as_at"] for s in prov["observations"]]
    assert max(r["share"] for r in distance["reports"]) <= REPORT_SHARE_CAP + 1e-9
    assert sum(r["share"] for r in distance["reports"]) == pytest.approx(1.0, abs=1e-3)
    assert distance["resimulation"]["draws"] == TINY.population
    assert 0 <= distance["resimulation"]["inside_final_epsilon"] <= 1


def test_existing_run_database_needs_resume_or_fresh(tmp_path):
    _tiny(tmp_path, "r", 1)
    with pytest.raises(InputError, match="--resume to continue it, or --fresh"):
        _tiny(tmp_path, "r", 1)
    with pytest.raises(InputError, match="seed"):
        Calibration(CalibrationSettings(TINY, seed=6), db=tmp_path / "r" / "abc.db", workers=1, progress=lambda l: None).run(resume=True)


# --- several snapshots ----------------------------------------------------------------


def synthetic_snapshot(base, params: Parameters, as_at: dt.date, seed: int):
    """A snapshot whose figures are what one run from 2020 with ``params`` shows at ``as_at``."""
    setup = Setup(params, base, None, start="history", horizon=as_at + dt.timedelta(days=1))
    record, pairings, _ = simulate(setup, replication_seeds(seed, 1)[0])
    seen = observe(record, pairings, as_at)
    figures = {
        key: dataclasses.replace(fig, value=float(seen[key]), alternatives=(), started_between=None)
        for key, fig in base.figures.items()
        if key in seen
    }
    return dataclasses.replace(base, as_at=as_at, figures=figures, path=Path(f"synthetic-{as_at}.toml"))


def test_two_snapshots_are_fitted_jointly(tmp_path, snapshot):
    later = synthetic_snapshot(snapshot, Parameters(), dt.date(2025, 5, 21), seed=3)
    simulator = Simulator([snapshot, later])
    stats = simulator.observed()
    assert any(k.startswith("2024-05-21|") for k in stats) and any(k.startswith("2025-05-21|") for k in stats)
    result = Calibration(
        CalibrationSettings(Budget(population=10, generations=1), seed=2),
        db=tmp_path / "abc.db",
        workers=1,
        simulator=simulator,
        snapshots=[snapshot, later],
        progress=lambda l: None,
    ).run()
    assert len(result.particles) == 10


def test_a_second_observations_file_joins_the_fit_without_code_change(tmp_path, snapshot):
    source = (ROOT / "calibration" / "observations" / "2024-05-21.toml").read_text(encoding="utf-8")
    obs = tmp_path / "observations"
    obs.mkdir()
    (obs / "2024-05-21.toml").write_text(source, encoding="utf-8")
    (obs / "2025-05-21.toml").write_text(source.replace("as_at = 2024-05-21", "as_at = 2025-05-21"), encoding="utf-8")
    snaps = load_observations(obs)
    assert [s.as_at.year for s in snaps] == [2024, 2025]
    assert len(Simulator(snaps).observed()) == 2 * len(Simulator(snaps[:1]).observed())


# --- interrupt and resume ---------------------------------------------------------------


def _cli(tmp_path, *extra):
    cmd = [
        sys.executable,
        "-m",
        "workbench",
        "calibrate",
        "--population",
        "12",
        "--generations",
        "3",
        "--seed",
        "9",
        "--workers",
        "1",
        "--watch-replications",
        "40",
        *extra,
    ]
    return cmd


@pytest.mark.subprocess
def test_interrupted_calibration_resumes_to_the_uninterrupted_result(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    base = ["--db", str(tmp_path / "a" / "abc.db"), "--output", str(tmp_path / "a" / "post")]
    proc = subprocess.Popen(_cli(tmp_path, *base), cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if line.startswith("generation 0:"):
            proc.send_signal(signal.SIGINT)
            break
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "Resume with: workbench calibrate --resume" in err
    assert not (tmp_path / "a" / "post").exists()  # nothing half-written
    resumed = subprocess.run(_cli(tmp_path, *base, "--resume"), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    straight = subprocess.run(
        _cli(tmp_path, "--db", str(tmp_path / "b" / "abc.db"), "--output", str(tmp_path / "b" / "post")),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert straight.returncode == 0, straight.stderr
    a = pd.read_csv(tmp_path / "a" / "post" / "particles.csv")
    b = pd.read_csv(tmp_path / "b" / "post" / "particles.csv")
    pd.testing.assert_frame_equal(a, b)
    assert a["generation"].iloc[0] == 2


# --- recovery -----------------------------------------------------------------------------

TRUTH = {
    "nomination_rate": 0.5,
    "responsiveness_shape": 1.0,
    "silent_share": 0.08,
    "replacement_rate": 0.24,
    "handover_months": 2.0,
    "responsiveness_coupling": 0.5,
    "consultation_scheduling_months": 10.0,
    "saq_median_months": 8.0,
    "saq_sigma": 0.8,
    "feedback_part_median_months": 13.0,
    "feedback_sigma": 0.9,
    "lists_median_months": 8.0,
    "lists_sigma": 1.0,
    "summaries_median_months": 2.0,
}
#: The recovery test calibrates these, with the shipped priors, and holds the rest at the truth:
#: a CI-sized budget cannot search 14 dimensions, but it can check that the machinery finds
#: known values where the report's figures carry information.
RECOVERED = [
    "replacement_rate",
    "consultation_scheduling_months",
    "saq_median_months",
    "feedback_part_median_months",
    "summaries_median_months",
]
#: Parameters the report's figures pin down at this budget (replacement_rate and the feedback
#: median are covered but barely narrowed: their signal is a few counts among 35) ...
IDENTIFIABLE = ["consultation_scheduling_months", "saq_median_months"]
#: ... and one they cannot: no review had reached the summaries by May 2024.
NOT_IDENTIFIABLE = ["summaries_median_months"]
RECOVERY = Budget(population=150, generations=4, watch_replications=0)


def _priors_for(tmp_path, names, filename) -> Path:
    """The shipped priors of ``names`` only, as a file of their own."""
    text = DEFAULT_PRIORS.read_text(encoding="utf-8")
    blocks = ["[[prior]]" + b for b in text.split("[[prior]]")[1:]]
    kept = [b for b in blocks if any(f'name = "{n}"' in b for n in names)]
    path = tmp_path / filename
    path.write_text("\n".join(kept), encoding="utf-8")
    return path


def _recovery_priors(tmp_path) -> Path:
    return _priors_for(tmp_path, RECOVERED, "recovery-priors.toml")


def _recover(tmp_path, snapshot, transform=None, name="run"):
    observed = synthetic_snapshot(snapshot, Parameters().updated(TRUTH), snapshot.as_at, seed=77)
    simulator = Simulator([observed], base=Parameters().updated(TRUTH), transform=transform)
    priors = _recovery_priors(tmp_path)
    result = Calibration(
        # the truth's structure (no deadline effect); selection is tested below
        CalibrationSettings(RECOVERY, seed=13, structures=(SMOOTH,), priors_path=priors),
        db=tmp_path / name / "abc.db",
        workers=2,
        simulator=simulator,
        snapshots=[observed],
        progress=lambda l: None,
    ).run()
    return posterior_summary(result.particles, load_priors(priors)).set_index("parameter")


@pytest.mark.slow
def test_calibration_recovers_known_parameters(tmp_path, snapshot):
    summary = _recover(tmp_path, snapshot)
    for name in RECOVERED:
        row = summary.loc[name]
        assert row.q05 <= TRUTH[name] <= row.q95, (name, row.q05, TRUTH[name], row.q95)
    for name in IDENTIFIABLE:
        assert summary.loc[name, "sd_ratio"] < 0.7, (name, summary.loc[name, "sd_ratio"])  # the data narrowed the prior
    for name in NOT_IDENTIFIABLE:
        assert summary.loc[name, "sd_ratio"] > 0.85, (name, summary.loc[name, "sd_ratio"])  # the data said little


@pytest.mark.slow
def test_recovery_check_fails_for_a_deliberately_wrong_model(tmp_path, snapshot):
    """A model whose questionnaires take three times what its parameter says cannot recover the truth."""

    def wrong(theta):
        if "saq_median_months" in theta:
            theta["saq_median_months"] = min(theta["saq_median_months"] * 3, 120.0)
        return theta

    summary = _recover(tmp_path, snapshot, transform=wrong, name="wrong")
    row = summary.loc["saq_median_months"]
    assert not (row.q05 <= TRUTH["saq_median_months"] <= row.q95), (row.q05, row.q95)


# --- model selection --------------------------------------------------------------------

CLUSTERED = Structure(("silent", "coupled", "clustered"))
SMOOTH = Structure(("silent", "coupled", "smooth"))
SELECTION = Budget(population=300, generations=5, min_epsilon_drop=0.0, watch_replications=0)


def _select(tmp_path, simulator: Simulator, name: str) -> dict[str, float]:
    """Posterior probabilities of the clustered and smooth structures, fitting the questionnaire's
    median and (clustered only) its deadline effect."""
    priors = _priors_for(tmp_path, ("saq_median_months", "saq_deadline_pull"), "selection-priors.toml")
    result = Calibration(
        CalibrationSettings(SELECTION, seed=21, structures=(CLUSTERED, SMOOTH), priors_path=priors),
        db=tmp_path / name / "abc.db",
        workers=2,
        simulator=simulator,
        snapshots=simulator.snapshots,
        progress=lambda l: None,
    ).run()
    return result.structure_probabilities


@pytest.mark.slow
@pytest.mark.parametrize("truth_structure,pull", [(CLUSTERED, 0.6), (SMOOTH, 0.0)])
def test_model_selection_recovers_the_structure_that_made_the_data(tmp_path, snapshot, truth_structure, pull):
    truth = Parameters(saq_deadline_pull=pull)
    observed = synthetic_snapshot(snapshot, truth, snapshot.as_at, seed=77)
    probabilities = _select(tmp_path, Simulator([observed], base=truth), truth_structure.name)
    assert probabilities[truth_structure.name] > 0.5, probabilities
    assert max(probabilities, key=probabilities.get) == truth_structure.name


@pytest.mark.slow
def test_model_selection_does_not_claim_certainty_from_too_little_data(tmp_path, snapshot):
    """One figure that neither structure touches (no review finalized by May 2023) cannot decide."""
    truth = Parameters(saq_deadline_pull=0.6)
    full = synthetic_snapshot(snapshot, truth, dt.date(2023, 5, 29), seed=77)
    thin = dataclasses.replace(full, figures={k: f for k, f in full.figures.items() if k == ("reviews_completed", None)})
    probabilities = _select(tmp_path, Simulator([thin], base=truth, report=snapshot), "thin")
    assert max(probabilities.values()) < 0.8, probabilities  # prior odds are 1:1; the data barely move them
