"""Where a result came from: code version and checksums of every input file."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from workbench.core.paths import PROJECT_ROOT
from workbench.core.version import __version__

ROOT = PROJECT_ROOT


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def display_path(path: str | Path) -> str:
    """A path relative to the project when it lies inside it, so provenance travels with the repo."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def resolve(path: str) -> Path:
    """The inverse of :func:`display_path`."""
    p = Path(path)
    return p if p.is_absolute() else ROOT / p


def file_record(path: str | Path) -> dict:
    return {"file": display_path(path), "sha256": sha256_file(path)}


def code_version() -> str:
    """The package version plus the git commit (``-dirty`` if the tree has changes), when known."""
    try:
        rev = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        if rev.returncode == 0 and rev.stdout.strip():
            return f"{__version__}+{rev.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        pass
    return __version__


def folder_fingerprint(folder: str | Path, pattern: str = "*.toml") -> dict[str, str]:
    """Checksums of a folder's files matching ``pattern``, by name: what a result computed from
    them records, so that a later reader can tell whether they have changed since."""
    return {f.name: sha256_file(f) for f in sorted(Path(folder).glob(pattern))}
