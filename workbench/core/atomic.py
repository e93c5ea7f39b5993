"""Atomic outputs, and the rule that nothing the workbench did not write is ever replaced.

Everything is written into a staging folder (or file) beside the target and renamed into
place at the end; on any exception, Ctrl-C included, the staging copy is removed and the
previous result is left untouched.

Ownership: a folder output carries :data:`MARKER`, which lists every file the workbench put in it
and what kind of output it is; a file output gets a hidden record beside it (``.NAME.workbench``)
holding its checksum.  A destination may be replaced only if that record says the workbench wrote
what is there now (a folder holding nothing else, a file unchanged since), or, for a file, when the
user says ``--overwrite``.  The project's shipped data folders are never a destination.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workbench.core.errors import InputError
from workbench.core.interrupts import raise_if_requested as _refuse_if_interrupted
from workbench.core.paths import BACKTEST_DIR, CALIBRATION_DIR, POSTERIOR_DIR, SCENARIOS_DIR, SYNTHETIC_RECORD_DIR

#: The file that marks a folder as written by the workbench, with the inventory of what it wrote.
MARKER = ".workbench-output"
#: The longest file name the file systems we run on accept (bytes, not characters).
NAME_MAX = 255


def _inventory(folder: Path) -> dict | None:
    """The marker's record (``{"kind": ..., "files": [...]}``), or None if the folder has no readable one."""
    try:
        record = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("files"), list):
        return None
    return record


def _files_in(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir() and p.name != MARKER}


def _not_written_by_workbench(folder: Path, kind: str) -> str | None:
    """Why the workbench may not replace ``folder`` with an output of ``kind`` (None if it may)."""
    if not (folder / MARKER).exists():
        return f"is a folder of other files (no {MARKER} marker), which the output would replace"
    record = _inventory(folder)
    if record is None:
        return f"carries a {MARKER} marker without the list of what the workbench wrote (an earlier version's, or not ours)"
    if record.get("kind") != kind:
        return f"holds a {record.get('kind')} output, not a {kind} one: a different kind of output is never written over it"
    extra = sorted(_files_in(folder) - {str(f) for f in record["files"]})
    if extra:
        more = f" and {len(extra) - 1} more" if len(extra) > 1 else ""
        return f"holds {extra[0]}{more}, which the workbench did not write there: move it out first"
    return None


def _shipped(path: Path, kind: str) -> bool:
    """Whether ``path`` is, or is inside, or holds, the project's shipped data: everything in
    ``calibration/`` (the observations, the priors, the reference class, the posterior) and in
    ``scenarios/``.  Only a calibration may replace the shipped posterior, only the synthetic
    record's generator the synthetic record, and only a backtest the backtest the findings publish with."""
    path = path.resolve()
    for own_kind, own_dir in (("posterior", POSTERIOR_DIR), ("synthetic-record", SYNTHETIC_RECORD_DIR), ("backtest", BACKTEST_DIR)):
        if kind == own_kind and (path == own_dir.resolve() or path.is_relative_to(own_dir.resolve())):
            return False
    return any(
        path == d.resolve() or path.is_relative_to(d.resolve()) or d.resolve().is_relative_to(path)
        for d in (CALIBRATION_DIR, SCENARIOS_DIR)
    )


def is_shipped_data(path: str | Path) -> bool:
    """Whether ``path`` is, is inside, or holds the project's shipped data (never a destination)."""
    return _shipped(Path(path), "file")


def _check_name_length(path: Path, option: str) -> None:
    """The staging name (``.NAME.staging-pidN-XXXXXXXX``) must fit the file system too, so the
    limit is checked here, before any work, rather than found after it."""
    longest = NAME_MAX - len(".staging-pid4194304-xxxxxxxx.") - 1
    if len(path.name.encode()) > longest:
        raise InputError(path, option, f"the name is {len(path.name.encode())} bytes long", f"a name of at most {longest} bytes")


def check_destination(output: str | Path, option: str = "--output", kind: str = "forecast") -> Path:
    """Refuse, before any work, a destination whose replacement would lose something: an existing
    file, a folder with anything the workbench did not write there, another kind of output, the
    shipped data; and one that cannot be written."""
    output = Path(output)
    allowed = f"a new or empty folder, or one that holds only a {kind} output the workbench wrote"
    if output.resolve() == Path.cwd().resolve():
        raise InputError(output, option, "is the current folder", "a folder inside it, e.g. results/forecast")
    if _shipped(output, kind):
        raise InputError(output, option, "is the project's shipped data (calibration/, scenarios/)", "a folder outside them, e.g. results/")
    _check_name_length(output, option)
    if output.exists() and not output.is_dir():
        raise InputError(output, option, "is an existing file, which the output would replace", allowed)
    if output.is_dir() and any(output.iterdir()):
        why = _not_written_by_workbench(output, kind)
        if why:
            raise InputError(output, option, why, allowed)
    _check_parent(output, option)
    _STATE_AT_START.setdefault(output.resolve(), _state(output))
    return output


def _check_parent(path: Path, option: str) -> None:
    """The nearest existing folder above ``path`` is a folder, and writable."""
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(path, option, f"{parent} is a file, not a folder", "a path under an existing folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(path, option, f"{parent} is not writable", "a folder you can write in")


#: The state of each destination when this process first checked it: a run that finds it changed
#: when it comes to write has been overtaken by another run writing to the same place.
_STATE_AT_START: dict[Path, tuple[int, int] | None] = {}


def _state(output: Path) -> tuple[int, int] | None:
    """Identity of what is at ``output`` now (inode and change time), or None if nothing is."""
    try:
        st = output.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_ctime_ns)


def _clear_debris(output: Path) -> None:
    """Remove staging and retired folders of this output left by processes that no longer exist
    (a run killed outright, SIGKILL, cannot clean up after itself)."""
    for leftover in output.parent.glob(f".{output.name}.*-pid*-*"):
        try:
            pid = int(leftover.name.split("-pid", 1)[1].split("-", 1)[0])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- single files --------------------------------------------------------------------------------


def _record_of(path: Path) -> Path:
    """The hidden record beside a file output that says the workbench wrote it, and what it held."""
    return path.with_name(f".{path.name}.workbench")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def written_file(path: Path) -> bool:
    """Whether ``path`` is a file the workbench wrote and nobody has changed since."""
    try:
        record = json.loads(_record_of(path).read_text(encoding="utf-8"))
        return isinstance(record, dict) and record.get("sha256") == _sha256(path)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False


def check_file_destination(path: str | Path, option: str, overwrite: bool = False) -> Path:
    """Refuse, before any work, a file destination that is a folder, the shipped data, a file the
    workbench did not write (unless ``overwrite``), or one that cannot be written."""
    path = Path(path)
    if path.is_dir():
        raise InputError(path, option, "is a folder", "a file name, e.g. results/report.html")
    if _shipped(path, "file"):
        raise InputError(path, option, "is in the project's shipped data (calibration/, scenarios/)", "a file outside them, e.g. results/")
    _check_name_length(path, option)
    if path.exists() and not overwrite and not written_file(path):
        raise InputError(
            path,
            option,
            "is an existing file the workbench did not write (or one changed since), which the output would replace",
            "a new file name, or --overwrite to replace it",
        )
    _check_parent(path, option)
    return path


@contextmanager
def atomic_file(path: str | Path, option: str = "--output", overwrite: bool = False) -> Iterator[Path]:
    """``with atomic_file(out) as tmp:`` write ``tmp``; it becomes ``out``, recorded as the workbench's.

    The destination is checked as :func:`check_file_destination` does; the file gets the mode of
    the file it replaces, or that of any new file under the umask (not the temporary file's 0600).
    """
    path = check_file_destination(path, option, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
        yield tmp
        _refuse_if_interrupted()
        tmp.chmod(mode)
        record = json.dumps({"sha256": _sha256(tmp), "written_by": "the review-pipeline workbench: safe for it to replace"})
        write_text_atomic(_record_of(path), record + "\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_output_file(path: str | Path, content: str | bytes, option: str = "--output", overwrite: bool = False) -> Path:
    """Write a single-file output (a table, a page) under the rule of :func:`atomic_file`."""
    path = Path(path)
    with atomic_file(path, option, overwrite) as tmp:
        tmp.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# --- folders ----------------------------------------------------------------------------------


@contextmanager
def atomic_folder(output: str | Path, kind: str = "forecast", option: str = "--output") -> Iterator[Path]:
    """``with atomic_folder(out) as staging:`` write files into ``staging``; they become ``out``.

    Only a new or empty folder, or one holding only a ``kind`` output the workbench wrote, is
    replaced; the marker lists what the new one holds.  The new folder gets ordinary permissions
    (those of a new folder under the umask).
    """
    output = check_destination(output, option, kind)
    output.parent.mkdir(parents=True, exist_ok=True)
    _clear_debris(output)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.staging-pid{os.getpid()}-", dir=output.parent))
    staging.chmod(0o777 & ~_umask())  # mkdtemp makes it private (0700)
    try:
        yield staging
        _refuse_if_interrupted()
        inventory = {"written_by": "the review-pipeline workbench", "kind": kind, "files": sorted(_files_in(staging))}
        (staging / MARKER).write_text(json.dumps(inventory, indent=1) + "\n", encoding="utf-8")
        _swap(staging, output, option, kind)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap(staging: Path, output: Path, option: str, kind: str) -> None:
    """Put ``staging`` in the place of ``output``, under a lock on the parent folder, and only if
    nobody wrote the output meanwhile nor put a file of their own in it."""
    lock = os.open(output.parent, os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _state(output) != _STATE_AT_START.get(output.resolve(), _state(output)):
            raise InputError(
                output,
                option,
                "was written by another run while this one computed; that result is kept and this one is discarded",
                "one run at a time per output folder",
            )
        if output.is_dir() and any(output.iterdir()):
            why = _not_written_by_workbench(output, kind)  # a file saved into it while we computed
            if why:
                raise InputError(output, option, why + "; nothing was replaced", "a folder that holds only the workbench's output")
        if output.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{output.name}.retired-pid{os.getpid()}-", dir=output.parent))
            os.replace(output, retired / output.name)
            os.replace(staging, output)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, output)
        _STATE_AT_START[output.resolve()] = _state(output)  # this process may write it again
    finally:
        os.close(lock)


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write a text file through a temporary file beside it and a rename, keeping the mode of the
    file it replaces (or that of any new file under the umask).  No ownership check: this is for
    the project's own files (the findings, the README's block) and the records above; outputs
    at a user's path go through :func:`write_output_file`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.chmod(fd, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask())  # mkstemp makes it 0600
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        _refuse_if_interrupted()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
