"""The numbers shown to readers come from one computed source: docs/findings.json renders the
README's headline block and the findings page, and records the inputs it was computed from."""

import pytest

from workbench.faces.findings import (
    END,
    FINDINGS_JSON,
    FINDINGS_PAGE,
    README,
    START,
    inputs_fingerprint,
    load_findings,
    render_page,
    render_readme_block,
    replace_block,
)


def test_the_findings_were_computed_from_the_shipped_posterior_and_observations():
    recorded = load_findings()["inputs"]
    assert recorded == inputs_fingerprint(), "the findings are stale: run `make findings` after recalibrating"


def test_the_readme_shows_exactly_what_the_findings_render():
    text = README.read_text(encoding="utf-8")
    block = text[text.index(START) : text.index(END) + len(END)]
    assert block == render_readme_block(load_findings())


def test_the_findings_page_is_what_the_findings_render():
    assert FINDINGS_PAGE.read_text(encoding="utf-8") == render_page(load_findings())


def test_replacing_the_block_keeps_the_rest_and_refuses_a_readme_without_markers():
    text = f"intro\n{START}\nold\n{END}\noutro\n"
    assert replace_block(text, f"{START}\nnew\n{END}") == f"intro\n{START}\nnew\n{END}\noutro\n"
    with pytest.raises(ValueError, match="no findings block"):
        replace_block("no markers", "x")
    assert FINDINGS_JSON.is_file()
