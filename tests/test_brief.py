"""The delegation brief and the Mechanism's languages: the brief says the forecast's numbers, fits two
pages, and every text a reader sees is in each catalog; a translator adds a language without code."""

import datetime as dt
import html
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from workbench.faces.brief import render_brief
from workbench.faces.findings import load_findings
from workbench.faces.i18n import DOMAIN, LOCALE_DIR, Language, language, languages

from conftest import ROOT

FINDINGS = load_findings()


def _extracted() -> set[str]:
    """Every text marked for translation, as Babel extracts it with the project's babel.cfg: ``_``
    and ``N_``, and Babel's own keywords, so that a ``lang.gettext(...)`` call is found too."""
    method_map = [
        (line.strip()[1:-1].split(":", 1)[1].strip(), "python")
        for line in (ROOT / "babel.cfg").read_text().splitlines()
        if line.startswith("[python:")
    ]
    found = extract_from_dir(ROOT, method_map=method_map, keywords={**DEFAULT_KEYWORDS, "N_": None})
    return {message for _, _, message, _, _ in found}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("code", [c for c in languages() if c != "en"])
def test_every_text_is_translated_with_the_same_placeholders(code):
    with (LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as fh:
        catalog = read_po(fh)
    wanted = _extracted()
    assert len(wanted) > 150  # the brief, the explorer, its planning tab, the charts, the levers' words
    missing = sorted(m for m in wanted if not (catalog.get(m) and catalog.get(m).string))
    assert not missing, f"untranslated in {code}: {missing[:5]}"
    for message in wanted:
        entry = catalog.get(message)
        assert not entry.fuzzy and _fields(entry.string) == _fields(message), f"{code}: {message!r} -> {entry.string!r}"


def test_french_and_spanish_follow_the_reports_official_terms():
    fr, es = language("fr").gettext, language("es").gettext
    assert "liste d'observations" in fr("Facilitation of the lists of observations (¶37-39)").replace("listes", "liste")
    assert "listas de observaciones" in es("Facilitation of the lists of observations (¶37-39)")
    assert "Conférence" in fr("the Conference's new rule") and "Conferencia" in es("the Conference's new rule")


def test_the_brief_states_the_forecasts_numbers():
    """Each number the brief states is the findings' (which the README and the findings page also show)."""
    text = html.unescape(render_brief(FINDINGS, "en"))
    h = FINDINGS["headline"]
    for p in h["p_before_session"].values():  # none of 1,000 runs is not "0 %"
        assert (f"{100 * p:.1f} %" if p else "fewer than 1 in 1,000") in text
    assert f"{round(100 * (1 - h['p_not_by_horizon']))} %" in text
    best = FINDINGS["plan"]["best_probability"]
    assert f"{100 * best:.{1 if best < 0.1 else 0}f} %" in text  # a tenth of a point below 10 %, whole points above
    assert dt.date.fromisoformat(h["median"]).strftime("%B %Y") in text
    share = FINDINGS["decision"]["2030"]["today's practice"]
    assert f"{round(100 * share['share'])} % ({share['reviews']} of 62 reviews)" in text
    assert "21 May 2024" in text  # dates as the United Nations write them


@pytest.mark.slow
def test_the_findings_are_the_forecast_the_code_gives_today():
    """The findings (and so the brief and the README) are what a forecast computes now, number for number."""
    from workbench.analysis.forecast import forecast

    fc = forecast(None, FINDINGS["replications"], FINDINGS["seed"], keep_events=False, keep_monthly=False)
    h = FINDINGS["headline"]
    assert {str(k): v for k, v in fc.summary["p_before_session"].items()} == h["p_before_session"]
    assert fc.summary["p_not_within_horizon"] == h["p_not_by_horizon"]
    assert fc.summary["median"].strftime("%Y-%m-%d") == h["median"]


def test_the_brief_in_french_uses_french_words_dates_and_numbers():
    text = html.unescape(render_brief(FINDINGS, "fr"))
    assert "<html lang='fr' dir='ltr'>" in text
    assert "Quand le groupe d'articles suivant peut-il commencer ?" in text
    p = FINDINGS["plan"]["best_probability"]
    best = f"{100 * p:.{1 if p < 0.1 else 0}f}".replace(".", ",")
    assert "21 mai 2024" in text and re.search(re.escape(best) + r"\s%", text)  # French dates and numbers
    if 0 in FINDINGS["headline"]["p_before_session"].values():
        assert "moins de 1 sur 1\u202f000" in text


def test_a_translator_adds_a_right_to_left_language_without_code(tmp_path):
    """An Arabic catalog dropped into a locale folder is found, and the brief renders right to left."""
    folder = tmp_path / "ar" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / f"{DOMAIN}.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "When can the next cluster of articles start?"\nmsgstr "متى يمكن أن تبدأ المجموعة التالية من المواد؟"\n\n'
        'msgid "When"\nmsgstr "متى"\n',
        encoding="utf-8",
    )
    arabic = language("ar", locale_dir=tmp_path)
    assert isinstance(arabic, Language) and arabic.direction == "rtl"
    text = render_brief(FINDINGS, lang=arabic)
    assert "<html lang='ar' dir='rtl'>" in text and "متى يمكن أن تبدأ المجموعة التالية من المواد؟" in text
    assert "What helps most" in text  # a text the catalog lacks falls back to English
    assert re.search(r"[٠-٩]|2024", text)  # dates and numbers in the locale's own way


def test_an_unknown_language_is_an_input_error_naming_those_available():
    from workbench.core.errors import InputError

    with pytest.raises(InputError, match="en, es, fr"):
        language("xx")


@pytest.mark.subprocess
@pytest.mark.parametrize("code", ["en", "fr", "es"])
def test_the_brief_prints_on_two_numbered_pages(code, tmp_path):
    """Chromium prints the brief on exactly two A4 pages, each with its number."""
    from test_browser import CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.skip("BROWSER TEST NOT RUN: Debian's chromium is missing (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / f"brief-{code}.html"
    page_file.write_text(render_brief(FINDINGS, code), encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(page_file.as_uri())
        pdf = page.pdf(format="A4", print_background=True)
        browser.close()
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 2
    text = page_file.read_text(encoding="utf-8")
    assert "1 / 2" in text and "2 / 2" in text and "@page" in text


def test_the_brief_names_the_options_in_the_readers_language():
    from workbench.faces.brief import render_brief
    from workbench.faces.findings import load_findings

    findings = load_findings()
    best = max(findings["scenarios"], key=lambda r: r["p_by_horizon"])["scenario"]  # an English name in the findings
    assert best in render_brief(findings, "en")
    french, spanish = render_brief(findings, "fr"), render_brief(findings, "es")
    assert "ensemble : financement supplémentaire" in french and "conjunto: financiación adicional" in spanish
    assert f"<td>{best}</td>" not in french and f"<td>{best}</td>" not in spanish
