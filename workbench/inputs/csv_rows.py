"""Reading a CSV input the way every loader of the workbench must: a clear error, never a traceback.

A file exported from a spreadsheet or a case-management system may be missing, binary, in
another encoding, cut short or given extra columns; each is an :class:`InputError` naming the
file and the line or column, before any row is interpreted.
"""

from __future__ import annotations

import csv
from pathlib import Path

from workbench.core.errors import InputError


def read_rows(path: Path, columns: tuple[str, ...], what: str, extra_columns: bool = True) -> list[tuple[int, dict[str, str]]]:
    """The rows of a CSV file with the header ``columns``, as (line number, values stripped of
    spaces); the header is line 1.  ``extra_columns=False`` refuses columns it does not name."""
    if not path.is_file():
        raise InputError(path, "(file)", f"{what} not found", "a CSV file with columns " + ", ".join(columns))
    data = path.read_bytes()
    if b"\x00" in data:  # the csv module says only "line contains NUL", and the line it was on is lost
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise InputError(path, f"line {line}", "contains a NUL byte (a binary file, or a damaged export?)", "plain UTF-8 CSV text")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() if h is not None else "" for h in reader.fieldnames or []]
            missing = [c for c in columns if c not in header]
            if missing:
                raise InputError(path, "header", f"missing column(s) {', '.join(missing)}", ", ".join(columns))
            unknown = [c for c in header if c not in columns]
            if unknown and not extra_columns:
                raise InputError(path, "header", f"unknown column(s) {', '.join(repr(c) for c in unknown)}", ", ".join(columns))
            reader.fieldnames = header
            rows = []
            for row in reader:
                if None in row:  # more values than the header has columns
                    raise InputError(path, f"line {reader.line_num}", "more values than the header has columns", ", ".join(columns))
                rows.append((reader.line_num, {c: (row.get(c) or "").strip() for c in columns}))
    except UnicodeDecodeError as err:
        raise InputError(path, "(file)", f"not UTF-8 text ({err.reason} at byte {err.start})", "a UTF-8 CSV file") from None
    except csv.Error as err:
        raise InputError(path, "(file)", f"not a readable CSV: {err}", "a CSV file") from None
    return rows
