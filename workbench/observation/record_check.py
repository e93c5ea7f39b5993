"""A review record counted in the report's categories, beside the report of the same date.

An export from RevMod and a published report describe the same Mechanism: counted at the
report's date, the record must give the report's figures.  Where it does not, either the
export is incomplete or the report counted differently, and the analyst must know before a
forecast stands on either.
"""

from __future__ import annotations

import pandas as pd

from workbench.inputs.observations import Snapshot
from workbench.inputs.parameters import Parameters
from workbench.inputs.record import ReviewRecord
from workbench.observation.observe import observe
from workbench.simulation.record_start import record_as_run


def record_against_report(record: ReviewRecord, snapshot: Snapshot, params: Parameters | None = None) -> pd.DataFrame:
    """Every figure of ``snapshot`` beside the record's count at the snapshot's date: name, group,
    paragraph, the report's reading (and the range it allows), the record's count, and whether it
    agrees.  Figures the model does not count (focal points ever nominated, governmental experts)
    have no count and ``agrees`` is left empty (None).

    ``params`` gives the agreed deadlines (six months for the SAQ and the feedback, ¶31, ¶35)."""
    if snapshot.as_at > record.as_at:
        raise ValueError(f"the record ends on {record.as_at}, before the report's date {snapshot.as_at}")
    seen = observe(record_as_run(record, params or Parameters()), record.pairings, snapshot.as_at)
    rows = []
    for (name, group), fig in snapshot.figures.items():
        low, high = fig.range
        count = seen.get((name, group))
        rows.append(
            {
                "figure": name,
                "group": group,
                "paragraph": fig.paragraph,
                "report": fig.value,
                "allowed": f"{low:g} to {high:g}" if low != high else f"{low:g}",
                "record": count,
                "agrees": None if count is None else bool(low <= count <= high),
            }
        )
    return pd.DataFrame(rows)


def disagreements(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`record_against_report` where the record's count is outside the report's."""
    return table[table["agrees"].eq(False)]
