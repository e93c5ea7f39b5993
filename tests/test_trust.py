"""Outputs are atomic and reproducible: a killed forecast leaves the previous result intact,
and `workbench reproduce` reruns an output from its manifest and checks the numbers."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT

pytestmark = pytest.mark.subprocess  # starts processes: left out of make test-fast

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _forecast(out: Path, *extra, **kw):
    cmd = [sys.executable, "-m", "workbench", "forecast", "--output", str(out), "--horizon", "2045-12-31", "--hand-set", *extra]
    return subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600, **kw)


@pytest.mark.parametrize(
    "sig,after",
    [(signal.SIGINT, 2.0), (signal.SIGTERM, 2.0), (signal.SIGINT, 0.4), (signal.SIGINT, 1.2), (signal.SIGTERM, 1.6)],
    ids=["SIGINT", "SIGTERM", "SIGINT-early", "SIGINT-loading", "SIGTERM-loading"],
)
def test_killed_forecast_leaves_the_previous_result_intact(tmp_path, sig, after):
    """At any moment: while Numba loads the compiled code, or inside a replication (a stop raised
    inside a compiled call once crashed the process, or ended it with a SystemError)."""
    out = tmp_path / "fc"
    first = _forecast(out, "--replications", "4", "--workers", "1")
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    cmd = [
        sys.executable,
        "-m",
        "workbench",
        "forecast",
        "--output",
        str(out),
        "--horizon",
        "2060-12-31",
        "--hand-set",
        "--replications",
        "400",
        "--workers",
        "1",
        "--seed",
        "5",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = proc.stderr.readline()  # the run has begun (imports done, handlers installed)
    assert "running 400 replications" in started
    time.sleep(after)  # into the loading or the replications, long before they finish
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "previous result" in err
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_reproduce_confirms_a_forecast_and_catches_a_changed_input(tmp_path):
    out = tmp_path / "fc"
    scenario = tmp_path / "s.toml"
    scenario.write_text('[scenario]\nname = "more officers"\n[parameters]\nsecretariat_officers = 3\n')
    made = _forecast(out, "--replications", "6", "--workers", "2", "--seed", "4", "--scenario", str(scenario))
    assert made.returncode == 0, made.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"]["scenario"]["sha256"] and manifest["inputs"]["observations"]["sha256"]
    assert manifest["code_version"] and manifest["seed"] == 4

    again = subprocess.run(
        [sys.executable, "-m", "workbench", "reproduce", str(out), "--workers", "1"],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "reproduced: every number agrees" in again.stdout

    scenario.write_text('[scenario]\nname = "more officers"\n[parameters]\nsecretariat_officers = 4\n')
    changed = subprocess.run(
        [sys.executable, "-m", "workbench", "reproduce", str(out)], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600
    )
    assert changed.returncode == 2 and "changed since the output was made" in changed.stderr


def test_reproduce_detects_tampered_numbers(tmp_path):
    out = tmp_path / "fc"
    assert _forecast(out, "--replications", "4", "--workers", "1", "--seed", "8").returncode == 0
    summary = pd.read_csv(out / "summary.csv")
    summary.loc[summary["quantity"] == "replications", "count"] = 5
    summary.to_csv(out / "summary.csv", index=False)
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "reproduce", str(out)], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 1 and "NOT reproduced" in done.stdout, done.stdout
    assert "replications" in done.stdout, done.stdout  # names the number that disagrees


def test_workers_of_a_killed_forecast_end_with_it(tmp_path):
    """A forecast killed outright (SIGKILL: no clean-up can run) leaves no worker processes behind."""
    psutil = pytest.importorskip("psutil")
    cmd = [sys.executable, "-m", "workbench", "forecast", "--output", str(tmp_path / "fc"), "--replications", "4000", "--workers", "2"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 60
    while len(parent.children()) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    workers = parent.children()
    assert len(workers) >= 2, "the forecast never started its workers"
    proc.kill()
    proc.wait(timeout=30)
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, f"workers left running: {[w.pid for w in alive]}"


_KERNEL_LIKE = """
import os, sys, threading, time
threading.Thread(target=time.sleep, args=(600,), daemon=True).start()  # a thread, as in a Jupyter kernel: no forking
from workbench.experiments.workers import iter_map
print(sorted(set(iter_map(os.getpid, [()] * 4, workers=2, pinned={pinned}))), flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("pinned", [False, True], ids=["shared pool", "pinned pools"])
def test_workers_and_trackers_of_a_killed_kernel_end_with_it(pinned):
    """The explorer's path (loky workers, started where forking is unsafe; replications pin theirs): a
    kernel killed outright leaves neither its workers nor their resource trackers behind (they held
    about 0.6 GB for 5+ minutes)."""
    psutil = pytest.importorskip("psutil")
    proc = subprocess.Popen(
        [sys.executable, "-c", _KERNEL_LIKE.format(pinned=pinned)], cwd=ROOT, env=ENV, stdout=subprocess.PIPE, text=True
    )
    try:
        worker_pids = proc.stdout.readline()
        assert worker_pids.startswith("["), "the pool never answered"
        children = psutil.Process(proc.pid).children()
        assert {int(p) for p in worker_pids.strip("[]\n").split(",")} <= {c.pid for c in children}
        assert len(children) >= 3, f"expected two workers and a resource tracker, found {children}"
    finally:
        proc.kill()
        proc.wait(timeout=30)
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"left running after the kernel was killed: {[' '.join(p.cmdline())[:80] for p in alive]}"


def test_an_input_error_crosses_a_process_boundary_intact():
    import pickle

    from workbench.core.errors import InputError

    err = pickle.loads(pickle.dumps(InputError("scenario.toml", "levers.redraw.after_months", "0.5 is out of range", "1 to 120")))
    assert isinstance(err, InputError) and (err.source, err.field, err.problem, err.allowed) == (
        "scenario.toml",
        "levers.redraw.after_months",
        "0.5 is out of range",
        "1 to 120",
    )
    assert str(err) == "scenario.toml: levers.redraw.after_months: 0.5 is out of range (allowed: 1 to 120)"


def test_an_input_error_raised_in_a_worker_reaches_the_caller_as_itself():
    from workbench.core.errors import InputError
    from workbench.experiments.workers import parallel_map

    with pytest.raises(InputError, match="raised in a worker"):
        parallel_map(_raise_input_error, [(1,), (2,)], 2, None)


def _raise_input_error(k):
    from workbench.core.errors import InputError

    raise InputError("worker", f"task {k}", "raised in a worker", "nothing")


def test_a_negative_seed_is_an_input_error_in_the_library_too():
    from workbench.core.errors import InputError
    from workbench.simulation.streams import replication_seeds

    with pytest.raises(InputError, match="-1 is not a whole number from 0 up"):
        replication_seeds(-1, 3)


# --- destinations: nothing of the user's is replaced, and a bad one is refused before any work ---


def _forecast_in(tmp_path, *extra):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "workbench", "forecast", "--replications", "4", "--workers", "1", *extra]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.subprocess
def test_output_never_replaces_a_folder_or_file_the_workbench_did_not_write(tmp_path):
    thesis = tmp_path / "mine" / "thesis.txt"
    thesis.parent.mkdir()
    thesis.write_text("years of work", encoding="utf-8")
    done = _forecast_in(tmp_path, "--output", "mine")
    assert done.returncode == 2 and "is a folder of other files (no .workbench-output marker)" in done.stderr
    assert thesis.read_text(encoding="utf-8") == "years of work" and "running" not in done.stderr  # refused before any work
    note = tmp_path / "notes.txt"
    note.write_text("keep", encoding="utf-8")
    done = _forecast_in(tmp_path, "--output", "notes.txt")
    assert done.returncode == 2 and "is an existing file" in done.stderr and note.read_text(encoding="utf-8") == "keep"
    done = _forecast_in(tmp_path, "--output", ".")
    assert done.returncode == 2 and "is the current folder" in done.stderr


@pytest.mark.subprocess
def test_output_replaces_its_own_folder_with_ordinary_permissions(tmp_path):
    assert _forecast_in(tmp_path, "--output", "fc").returncode == 0
    assert (tmp_path / "fc" / ".workbench-output").is_file()
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "fc").stat().st_mode & 0o777 == 0o777 & ~umask  # not mkdtemp's private 0700
    for written in (tmp_path / "fc").iterdir():  # every table and the manifest readable as any new file is
        assert written.stat().st_mode & 0o777 == 0o666 & ~umask, written.name
    again = _forecast_in(tmp_path, "--output", "fc", "--seed", "2")
    assert again.returncode == 0, again.stderr
    assert json.loads((tmp_path / "fc" / "manifest.json").read_text(encoding="utf-8"))["inputs"]["seed"] == 2


def test_a_single_file_output_has_the_permissions_of_any_new_file(tmp_path):
    """The brief, the report, a comparison's table: written through a private temporary file, but
    left as readable as any file the umask allows (0644 under the usual 022), not 0600."""
    from workbench.core.atomic import write_text_atomic

    previous = os.umask(0o022)
    try:
        path = write_text_atomic(tmp_path / "brief.html", "<p>two pages</p>")
        assert path.stat().st_mode & 0o777 == 0o644 and path.read_text() == "<p>two pages</p>"
        os.umask(0o077)
        assert write_text_atomic(tmp_path / "private.html", "x").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(previous)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left behind


@pytest.mark.subprocess
def test_bad_destinations_are_refused_before_the_computation(tmp_path):
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    done = _forecast_in(tmp_path, "--output", "afile/fc")
    assert done.returncode == 2 and "is a file, not a folder" in done.stderr
    (tmp_path / "adir").mkdir()
    done = _forecast_in(tmp_path, "--output", "fc", "--export", "adir")
    assert done.returncode == 2 and "--export: is a folder" in done.stderr and not (tmp_path / "fc").exists()
    done = _forecast_in(tmp_path, "--output", "fc", "--export", "fc/hub.csv")
    assert done.returncode == 2 and "inside the --output folder" in done.stderr


# --- inputs that used to be accepted or to end in a traceback (#14 class 4) ---------------


def test_a_pairing_list_must_have_the_reports_groups(tmp_path):
    from workbench.core.errors import InputError
    from workbench.experiments.setup import default_setup
    from workbench.inputs.parties import load_pairings

    rows = ["review,group,party_under_review,reviewer_1,reviewer_2", "R1,1,A,B,C", "R2,1,B,C,A", "R3,2,C,A,B"]
    (tmp_path / "pairs.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"reviews per group are group 1: 2, group 2: 1, group 3: 0 \(allowed: those of the report"):
        default_setup(pairings=load_pairings(tmp_path / "pairs.csv"))


def test_a_posterior_missing_a_calibrated_column_is_refused_on_load(tmp_path):
    import shutil

    import pandas as pd

    from workbench.core.errors import InputError
    from workbench.inputs.posterior import load_posterior

    folder = tmp_path / "post"
    shutil.copytree(ROOT / "calibration" / "posterior", folder)
    frame = pd.read_csv(folder / "particles.csv").drop(columns="saq_median_months")
    frame.to_csv(folder / "particles.csv", index=False)
    with pytest.raises(InputError, match="saq_median_months: missing column of a calibrated parameter"):
        load_posterior(folder)
    (folder / "provenance.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError, match="a JSON list, not an object"):
        load_posterior(folder)


def test_a_group_figure_is_checked_against_the_all_groups_total_not_itself(tmp_path):
    from workbench.core.errors import InputError
    from workbench.inputs.observations import load_snapshot

    text = (ROOT / "calibration" / "observations" / "2024-05-21.toml").read_text(encoding="utf-8")
    old = 'name = "reviews_lists_of_observations"\ngroup = 1\nvalue = 4'
    assert old in text
    path = tmp_path / "2024-05-21.toml"
    path.write_text(text.replace(old, old.replace("value = 4", "value = 9")), encoding="utf-8")
    with pytest.raises(InputError, match="9 exceeds its total reviews_lists_of_observations = 6"):
        load_snapshot(path)


def test_an_overlong_extends_and_an_unreachable_scheduler_are_clear_errors(tmp_path):
    from workbench.core.errors import InputError
    from workbench.experiments.workers import parallel_map
    from workbench.inputs.scenarios import load_scenario

    path = tmp_path / "s.toml"
    path.write_text(f'[scenario]\nname = "x"\ndescription = "x"\nextends = "{"x" * 300}.toml"\n', encoding="utf-8")
    with pytest.raises(InputError, match="not a usable path"):
        load_scenario(path)
    with pytest.raises(InputError, match="no Dask scheduler answered at tcp://127.0.0.1:9"):
        parallel_map(_raise_input_error, [(1,)], 1, "tcp://127.0.0.1:9")


def _reproduce(out):
    cmd = [sys.executable, "-m", "workbench", "reproduce", str(out), "--workers", "1"]
    return subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)


@pytest.mark.subprocess
def test_reproduce_refuses_a_damaged_manifest_before_rerunning(tmp_path):
    out = tmp_path / "fc"
    assert _forecast_in(tmp_path, "--output", "fc", "--seed", "8").returncode == 0  # on the shipped posterior
    original = json.loads((out / "manifest.json").read_text())

    def damaged(change) -> subprocess.CompletedProcess:
        manifest = json.loads(json.dumps(original))
        change(manifest)
        (out / "manifest.json").write_text(json.dumps(manifest))
        return _reproduce(out)

    done = damaged(lambda m: m["inputs"].pop("seed"))
    assert done.returncode == 2 and "inputs.seed: missing from the manifest" in done.stderr
    done = damaged(lambda m: m["inputs"].update(horizon="2020-01-01"))
    assert done.returncode == 2 and "inputs.horizon: 2020-01-01 is not after the snapshot date" in done.stderr
    done = damaged(lambda m: m["inputs"]["posterior"].update(dir="calibration"))
    assert done.returncode == 2 and "its file and folder disagree" in done.stderr
    done = damaged(lambda m: m["summary"].update(p_not_within_horizon=0.123))
    assert done.returncode == 1 and "manifest summary: p_not_within_horizon: recorded 0.123" in done.stdout
    (out / "manifest.json").write_text(json.dumps(original))
    (out / "threshold.csv").unlink()
    done = _reproduce(out)
    assert done.returncode == 2 and "threshold.csv: (file): recorded output missing" in done.stderr


@pytest.mark.subprocess
def test_a_killed_runs_staging_folder_is_cleared_by_the_next_run(tmp_path):
    debris = tmp_path / ".fc.staging-pid999999-x1"  # no such process: left by a run killed outright
    debris.mkdir()
    (debris / "threshold.csv").write_text("half", encoding="utf-8")
    assert _forecast_in(tmp_path, "--output", "fc").returncode == 0
    assert not debris.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["fc"]


@pytest.mark.subprocess
def test_two_runs_into_one_folder_never_both_claim_success(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    slow = subprocess.Popen(
        [sys.executable, "-m", "workbench", "forecast", "--replications", "4000", "--workers", "1", "--output", "fc"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    fast = _forecast_in(tmp_path, "--output", "fc", "--seed", "2")
    out, err = slow.communicate(timeout=600)
    assert fast.returncode == 0, fast.stderr
    assert slow.returncode == 2 and "was written by another run while this one computed" in err
    assert json.loads((tmp_path / "fc" / "manifest.json").read_text())["inputs"]["seed"] == 2  # the first to finish is kept


_SIGNAL_DURING_A_COMMIT = """
import os, signal, sys
import pyabc
from workbench.faces import cli

write = pyabc.History.append_population


def append_population(self, *args, **kwargs):  # SIGTERM arrives while the generation is being written
    os.kill(os.getpid(), signal.SIGTERM)
    return write(self, *args, **kwargs)


pyabc.History.append_population = append_population
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_signal_during_a_database_write_lets_the_write_finish(tmp_path):
    """SIGTERM while pyabc commits a generation: the generation is kept whole, and the command ends
    with the interrupt's own message (it once ended in sqlalchemy's InvalidRequestError, status 1)."""
    import pyabc

    db = tmp_path / "run.db"
    cmd = [sys.executable, "-c", _SIGNAL_DURING_A_COMMIT, "calibrate", "--population", "60", "--generations", "2"]
    cmd += ["--watch-replications", "0", "--workers", "1", "--db", str(db), "--output", str(tmp_path / "post")]
    done = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
    assert "calibration interrupted" in done.stderr
    history = pyabc.History(f"sqlite:///{db}")
    history.id = 1
    assert history.max_t == 0, "the generation written when the signal came was lost"
    assert not (tmp_path / "post").exists()
