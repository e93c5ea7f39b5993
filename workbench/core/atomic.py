"""Atomic outputs: a result appears whole or not at all, and the previous one survives a failure.

Everything is written into a staging folder (or file) beside the target and renamed into
place at the end; on any exception, Ctrl-C included, the staging copy is removed and the
previous result is left untouched.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workbench.core.errors import InputError
from workbench.core.interrupts import raise_if_requested as _refuse_if_interrupted

#: The file that marks a folder as written by the workbench, and so safe to replace.
MARKER = ".workbench-output"
#: Folders written before the marker existed are recognised by their record of provenance.
_EARLIER_MARKS = ("manifest.json", "provenance.json")


def written_by_workbench(folder: Path) -> bool:
    return any((folder / name).is_file() for name in (MARKER, *_EARLIER_MARKS))


def check_destination(output: str | Path, option: str = "--output") -> Path:
    """Refuse, before any work, a destination whose replacement would lose something: an existing
    file, or a folder with contents the workbench did not write; and one that cannot be written."""
    output = Path(output)
    allowed = "a new or empty folder, or one the workbench wrote before"
    if output.resolve() == Path.cwd().resolve():
        raise InputError(output, option, "is the current folder", "a folder inside it, e.g. results/forecast")
    if output.exists() and not output.is_dir():
        raise InputError(output, option, "is an existing file, which the output would replace", allowed)
    if output.is_dir() and any(output.iterdir()) and not written_by_workbench(output):
        raise InputError(output, option, f"is a folder of other files (no {MARKER} marker), which the output would replace", allowed)
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


def check_file_destination(path: str | Path, option: str) -> Path:
    """Refuse, before any work, a file destination that is a folder or cannot be written."""
    path = Path(path)
    if path.is_dir():
        raise InputError(path, option, "is a folder", "a file name, e.g. results/report.html")
    _check_parent(path, option)
    return path


@contextmanager
def atomic_folder(output: str | Path) -> Iterator[Path]:
    """``with atomic_folder(out) as staging:`` write files into ``staging``; they become ``out``.

    Only a new or empty folder, or one the workbench wrote (it carries :data:`MARKER`), is
    replaced; the new folder gets ordinary permissions (those of a new folder under the umask).
    """
    output = check_destination(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    _clear_debris(output)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.staging-pid{os.getpid()}-", dir=output.parent))
    staging.chmod(0o777 & ~_umask())  # mkdtemp makes it private (0700)
    (staging / MARKER).write_text("written by the review-pipeline workbench; safe for it to replace\n", encoding="utf-8")
    try:
        yield staging
        _refuse_if_interrupted()
        # Swap under a lock on the parent folder, and only if nobody wrote the output meanwhile.
        lock = os.open(output.parent, os.O_RDONLY)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if _state(output) != _STATE_AT_START.get(output.resolve(), _state(output)):
                raise InputError(
                    output,
                    "--output",
                    "was written by another run while this one computed; that result is kept and this one is discarded",
                    "one run at a time per output folder",
                )
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
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write a text file through a temporary file beside it and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.chmod(fd, 0o666 & ~_umask())  # mkstemp makes it private (0600); the file is for others to read
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        _refuse_if_interrupted()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
