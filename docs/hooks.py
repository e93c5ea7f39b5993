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


def _generated(name: str) -> str:
    from workbench.simulation import describe

    if name == "cli":
        return _cli()
    if name == "stress_des":
        return describe.markdown_table([{"item": item, "description": text} for item, text in describe.stress_des()])
    tables = {"stage_table": describe.stage_table, "parameter_table": describe.parameter_table, "lever_table": describe.lever_table}
    if name not in tables:
        raise ValueError(f"unknown generated section {name!r} (known: cli, stress_des, {', '.join(tables)})")
    return describe.markdown_table(tables[name]())


def on_page_markdown(markdown: str, **kwargs) -> str:
    return _MARKER.sub(lambda m: _generated(m.group(1)), markdown)
