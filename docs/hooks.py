"""MkDocs hook: fill the generated sections of the docs from the code.

A page holds a marker such as ``<!-- generated: stage_table -->``; the build replaces it with
the table or text that :mod:`workbench.simulation.describe` (or the command line's own
parser) produces, so the reference and the STRESS-DES outline cannot go stale.
"""

from __future__ import annotations

import re

_MARKER = re.compile(r"<!-- generated: (\w+) -->")


def _cli() -> str:
    from workbench.faces.cli import build_parser

    parser = build_parser()
    parts = ["```text", parser.format_help().rstrip(), "```"]
    for action in parser._subparsers._group_actions:  # the subcommands, in the order they are declared
        for name, sub in action.choices.items():
            parts += ["", f"## `workbench {name}`", "", "```text", sub.format_help().rstrip(), "```"]
    return "\n".join(parts)


def _fast_lane() -> str:
    """The fast lane's size and cost, from the durations the last ``make durations`` measured."""
    import json
    from pathlib import Path

    tests = Path(__file__).resolve().parent.parent / "tests"
    measured = json.loads((tests / "durations.json").read_text(encoding="utf-8"))
    limit = 0.5  # tests/fast_lane.py's FAST_LANE_LIMIT_S
    fast = [seconds for seconds in measured.values() if seconds <= limit]
    return (
        f"{len(measured)} tests measured; {len(fast)} of them take at most {limit:g} s each and "
        f"{sum(fast):.0f} s together, {sum(measured.values()) / 60:.0f} minutes for all"
    )


def _bench(key: str) -> str:
    """One figure of the last ``make bench`` (benchmarks/results.json)."""
    import json
    from pathlib import Path

    results = json.loads((Path(__file__).resolve().parent.parent / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    value = results[key]
    return f"{value:.0f}" if key == "simpy_over_compiled" else f"{value:.2f}"


def _generated(name: str) -> str:
    from workbench.simulation import describe

    if name == "cli":
        return _cli()
    if name == "fast_lane":
        return _fast_lane()
    if name.startswith("bench_"):
        return _bench(name.removeprefix("bench_"))
    if name == "stress_des":
        return describe.markdown_table([{"item": item, "description": text} for item, text in describe.stress_des()])
    tables = {
        "stage_table": describe.stage_table,
        "parameter_table": describe.parameter_table,
        "lever_table": describe.lever_table,
        "record_event_table": describe.record_event_table,
    }
    if name not in tables:
        raise ValueError(f"unknown generated section {name!r} (known: cli, fast_lane, bench_*, stress_des, {', '.join(tables)})")
    return describe.markdown_table(tables[name]())


def on_page_markdown(markdown: str, **kwargs) -> str:
    return _MARKER.sub(lambda m: _generated(m.group(1)), markdown)
