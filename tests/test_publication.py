"""A headline is published only with its evidence: the rolling origin's 80 % coverage within two
binomial standard errors of nominal, and no more figures outside the hindcast's 95 % band than
chance allows.  Where it fails, the README, the findings page and the brief say so instead."""

from __future__ import annotations

import copy
import html
import json

import pandas as pd
import pytest
from scipy import stats

import workbench.faces.findings as findings
from workbench.faces.brief import render_brief
from workbench.inference.publication import in_sample_check, most_outside, out_of_sample_check, publication_checks


def _scores(covered_80: list[bool], covered_95: list[bool] | None = None) -> pd.DataFrame:
    return pd.DataFrame({"covered_80%": covered_80, "covered_95%": covered_95 if covered_95 is not None else covered_80})


def test_a_calibrated_model_passes_the_in_sample_check_nineteen_times_in_twenty():
    """The bound is the binomial's: a model whose figures each fall outside with chance 5 % exceeds
    it with chance under 5 %, and would have passed a bound one lower less often than that."""
    for n in (20, 37, 100):
        bound = most_outside(n)
        assert stats.binom.sf(bound, n, 0.05) <= 0.05 < stats.binom.sf(bound - 1, n, 0.05)
    assert most_outside(37) == 4  # refusing at the first figure outside would refuse a sound model 85 % of the time
    assert in_sample_check(_scores([True] * 37, [True] * 33 + [False] * 4)).passed
    assert not in_sample_check(_scores([True] * 37, [True] * 32 + [False] * 5)).passed


def test_the_out_of_sample_check_allows_two_binomial_standard_errors_below_nominal():
    """100 later figures: the floor is 80 % - 2 x 4 % = 72 %."""
    assert out_of_sample_check(_scores([True] * 72 + [False] * 28)).passed
    failed = out_of_sample_check(_scores([True] * 71 + [False] * 29))
    assert not failed.passed and failed.bound == pytest.approx(0.72) and "below the 72 %" in failed.words


def test_without_an_out_of_sample_score_nothing_is_published():
    verdict = publication_checks(_scores([True] * 37), None, "no backtest in calibration/backtest/")
    assert not verdict["published"]
    assert verdict["checks"][0]["measured"] is None and "no backtest" in verdict["checks"][0]["words"]


def test_a_backtest_of_other_observations_is_no_evidence(tmp_path, monkeypatch):
    (tmp_path / "scores.csv").write_text("origin,covered_80%,covered_95%\nfitted to 2022-11-01,True,True\n", encoding="utf-8")
    (tmp_path / "provenance.json").write_text(json.dumps({"observations": {"report.toml": "0" * 64}}), encoding="utf-8")
    monkeypatch.setattr(findings, "BACKTEST_DIR", tmp_path)
    verdict = findings._publication(_scores([True] * 37))
    assert not verdict["published"] and "other observations" in verdict["checks"][0]["words"]


def test_the_shipped_backtest_is_of_the_shipped_observations():
    """Else the findings' verdict is stale: `make backtest`, then `make findings`."""
    from workbench.core.paths import BACKTEST_DIR, OBSERVATIONS_DIR
    from workbench.core.provenance import folder_fingerprint

    recorded = json.loads((BACKTEST_DIR / "provenance.json").read_text(encoding="utf-8"))["observations"]
    assert recorded == folder_fingerprint(OBSERVATIONS_DIR)


@pytest.fixture
def withheld() -> dict:
    """The shipped findings, as if the out-of-sample check had failed."""
    f = copy.deepcopy(findings.load_findings())
    failed = out_of_sample_check(_scores([True] * 60 + [False] * 40)).as_dict()
    f["publication"] = {"published": False, "checks": [failed, in_sample_check(_scores([True] * 37)).as_dict()]}
    return f


def test_a_withheld_headline_is_not_in_the_readme_and_the_readme_says_why(withheld):
    block = findings.render_readme_block(withheld)
    assert "No forecast is published" in block and "(FAILED)" in block
    assert "out of sample, fitted to the earlier snapshots only, 60 %" in block
    assert withheld["headline"]["horizon"][:4] not in block.replace(withheld["made_on"][:4], "")  # no "met by 2060 in ..."
    assert "(not published)" in findings.render_page(withheld)


@pytest.mark.parametrize("code", ["en", "fr", "es"])
def test_a_withheld_headline_is_not_in_the_brief_and_the_brief_says_why(withheld, code):
    page = html.unescape(render_brief(withheld, code))
    said = {
        "en": "No forecast is published",
        "fr": "Aucune prévision n'est publiée",
        "es": "No se publica ningún pronóstico",
    }[code]
    assert said in page
    assert "<img" not in page.split("</section>")[0]  # no chart of the chances on page 1
