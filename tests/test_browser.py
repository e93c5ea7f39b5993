"""The served explorer in a real browser: Voilà on localhost, driven by Playwright in Debian's Chromium.

Changes a lever, presses Run, and checks that the probability table and the chart change
and no error appears; saves screenshots to results/browser-test/ and prints the time from
the click to the updated outputs.
"""

import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.subprocess  # starts processes: left out of make test-fast

CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "results" / "browser-test"
REPLICATIONS = 500  # the planners' case, whose update time issue #5 asks for (measured here, not asserted)


#: The Makefile's kernel culling (`make app`), with seconds instead of minutes so the test can watch it.
CULL_FAST = [
    "--MappingKernelManager.cull_idle_timeout=5",
    "--MappingKernelManager.cull_interval=2",
    "--MappingKernelManager.cull_connected=False",
]


def test_make_app_culls_idle_kernels():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert all(option.split("=")[0] in makefile for option in CULL_FAST)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def voila_url(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(
            "BROWSER TEST NOT RUN: Debian's chromium is missing (/usr/bin/chromium). `make setup` installs it when run "
            "as root with apt-get; otherwise: apt-get install chromium. CI (.ci/run) fails on this skip."
        )
    port = _free_port()
    env = {
        **os.environ,
        "WORKBENCH_REPLICATIONS": str(REPLICATIONS),
        "PYTHONPATH": str(ROOT),
        "WORKBENCH_USER_SCENARIOS": str(tmp_path_factory.mktemp("my-scenarios")),  # the app's saves, kept out of results/
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voila",
            "notebooks/explorer.ipynb",
            f"--port={port}",
            "--no-browser",
            "--Voila.ip=127.0.0.1",
            *CULL_FAST,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5)
            break
        except OSError:
            time.sleep(1)
    else:
        proc.kill()
        pytest.fail("Voilà did not start: " + proc.stdout.read().decode(errors="replace")[-2000:])
    yield url, proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _run_and_wait(page, previous_status: str, done: str = "updated in") -> float:
    clicked = time.perf_counter()
    page.locator(".wb-run").click()
    page.wait_for_function(
        "([prev, done]) => { const s = document.querySelector('.wb-status');"
        " return s && s.innerText.includes(done) && s.innerText !== prev; }",
        arg=[previous_status, done],
        timeout=300_000,
    )
    page.wait_for_selector(".wb-fan img", timeout=60_000)
    return time.perf_counter() - clicked


def _visible_text(page, selector: str) -> str | None:
    """The first element's text if a person can see it (it has a size on screen), else None."""
    element = page.locator(selector).first
    box = element.bounding_box()
    return element.inner_text().strip() if box and box["width"] > 0 and box["height"] > 0 else None


def _on_a_laptop(browser, url: str) -> dict:
    """At 1280×800: the start date in full, a value typed out of range, a Run whose results come into
    view, then a change that dims the charts. What a person sees at each step."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(url, timeout=180_000)
    page.wait_for_selector(".wb-run", timeout=180_000)
    seen = {"start": _visible_text(page, ".wb-start-words")}
    field = page.locator(".wb-training-saq_factor input")
    field.fill("1.5")
    field.press("Enter")
    page.wait_for_function("() => document.querySelector('.wb-notice').innerText.length > 0", timeout=30_000)
    seen["notice"] = _visible_text(page, ".wb-notice")
    page.locator(".wb-lever-handover_protocol input[type=checkbox]").check()
    _run_and_wait(page, "")
    page.wait_for_function(  # the scroll is smooth: give it its moment
        "() => { const r = document.querySelector('.wb-result').getBoundingClientRect(); return r.top >= 0 && r.top < 800; }",
        timeout=10_000,
    )
    seen["result_top"] = page.evaluate("() => document.querySelector('.wb-result').getBoundingClientRect().top")
    seen["when"] = _visible_text(page, ".wb-when")
    page.screenshot(path=str(SHOTS / "explorer-after-run-1280x800.png"))
    page.locator(".wb-lever-handover_protocol input[type=checkbox]").uncheck()
    page.wait_for_function("() => document.querySelectorAll('.wb-stale-chart').length === 2", timeout=30_000)
    seen["stale_charts"] = page.locator(".wb-stale-chart").count()
    seen["status"] = page.locator(".wb-status").inner_text()
    page.screenshot(path=str(SHOTS / "explorer-stale-1280x800.png"), full_page=True)
    return seen


def _own_texts(page) -> set[str]:
    """Every piece of text a person sees on the page, element by element (an element's own text,
    not its children's), so that a label is compared whole and not found inside a file name."""
    return set(
        page.evaluate(
            "() => Array.from(document.querySelectorAll('body *')).filter(e => e.getClientRects().length > 0)"
            ".flatMap(e => Array.from(e.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent.trim()))"
            ".filter(t => t.length > 0)"
        )
    )


def _catalog_texts(code: str) -> set[str]:
    """The English texts of the catalog that the translation changes, whole sentences and labels
    without placeholders (a placeholder's text is only known once filled in)."""
    from babel.messages.pofile import read_po

    from workbench.faces.i18n import DOMAIN, LOCALE_DIR

    with (LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as fh:
        catalog = read_po(fh)
    return {m.id for m in catalog if m.id and m.string and m.string != m.id and "{" not in m.id and len(m.id) >= 8}


def _kernels(voila) -> list:
    import psutil

    running = []
    for p in psutil.Process(voila.pid).children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE and "ipykernel" in " ".join(p.cmdline()):
                running.append(p)
        except (psutil.ZombieProcess, psutil.NoSuchProcess):  # ended (a zombie until its parent reaps it)
            pass
    return running


def test_changing_a_lever_and_running_updates_the_app(voila_url):
    from playwright.sync_api import sync_playwright

    voila_url, voila = voila_url
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1500, "height": 1300})
        page.goto(voila_url, timeout=180_000)
        page.wait_for_selector(".wb-run", timeout=180_000)
        assert "Press Run" in page.locator(".wb-probabilities").inner_text()

        page.locator(".wb-lever-redraw input[type=checkbox]").check()
        first_s = _run_and_wait(page, "")
        table_1 = page.locator(".wb-probabilities").inner_text()
        chart_1 = page.locator(".wb-fan img").first.get_attribute("src")
        status_1 = page.locator(".wb-status").inner_text()
        assert "scenario" in table_1 and "gain in one and the same future" in page.locator(".wb-difference").inner_text()
        page.screenshot(path=str(SHOTS / "explorer-redraw.png"), full_page=True)
        english_texts = _own_texts(page)  # the scenario tab with its results, as the French page will be

        page.locator(".wb-lever-redraw input[type=checkbox]").uncheck()
        page.locator(".wb-condition input[type=checkbox]").check()  # the Conference changes the condition:
        page.locator(".wb-condition-stage select").select_option(
            label="reviews at the lists of observations"
        )  # half of group 1 at the lists stage
        second_s = _run_and_wait(page, status_1)
        table_2 = page.locator(".wb-probabilities").inner_text()
        chart_2 = page.locator(".wb-fan img").first.get_attribute("src")
        page.screenshot(path=str(SHOTS / "explorer-condition.png"), full_page=True)

        # A download returns a valid file: the table as Excel.
        with page.expect_download() as download:
            page.locator(".wb-downloads a[download='chances.xlsx']").click()
        import openpyxl

        assert download.value.suggested_filename == "chances.xlsx"
        book = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
        assert book["chances"].max_row == 5  # a header and four rows: 2026, 2028, 2030, the horizon

        # Saving as "baseline" never writes over the shipped scenarios/baseline.toml.
        shipped = (ROOT / "scenarios" / "baseline.toml").read_bytes()
        page.locator(".wb-save").locator("..").locator("input[type=text]").fill("baseline")
        page.locator(".wb-save").click()
        page.wait_for_function("() => document.querySelector('.wb-status').innerText.includes('baseline.toml')", timeout=30_000)
        assert (ROOT / "scenarios" / "baseline.toml").read_bytes() == shipped

        # The "What would it take?" tab: a quick search, the verified frontier, a package saved.
        page.locator(".lm-TabBar-tab", has_text="What would it take?").click()
        clicked = time.perf_counter()
        page.locator(".wb-plan-run").click()
        page.wait_for_function(
            "() => { const s = document.querySelector('.wb-plan-status'); return s && s.innerText.includes('done:'); }", timeout=400_000
        )
        plan_s = time.perf_counter() - clicked
        page.wait_for_selector(".wb-plan-frontier img", timeout=60_000)
        answer = page.locator(".wb-plan-answer").inner_text()
        page.screenshot(path=str(SHOTS / "explorer-what-would-it-take.png"), full_page=True)
        page.locator(".wb-plan-save").click()
        page.wait_for_function("() => document.querySelector('.wb-plan-status').innerText.includes('saved ')", timeout=30_000)

        body = page.locator("body").inner_text()

        # In French, on a 1024 px screen: the labels are French and nothing runs off the side.
        french = browser.new_page(viewport={"width": 1024, "height": 900}, locale="fr-FR")
        french.goto(voila_url + "?lang=fr", timeout=180_000)
        french.wait_for_selector(".wb-run", timeout=180_000)
        assert french.locator(".wb-run").inner_text().strip() == "Lancer"
        french.locator(".wb-lever-training input[type=checkbox]").check()
        _run_and_wait(french, "", done="mis à jour en")
        french_text = french.locator("body").inner_text()
        french_texts = _own_texts(french)
        overflow = french.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        french.screenshot(path=str(SHOTS / "explorer-fr-1024.png"), full_page=True)
        french_start = _visible_text(french, ".wb-start-words")
        spanish = browser.new_page(viewport={"width": 1024, "height": 900}, locale="es-ES")
        spanish.goto(voila_url + "?lang=es", timeout=180_000)
        spanish.wait_for_selector(".wb-run", timeout=180_000)
        spanish_texts = _own_texts(spanish)
        laptop = _on_a_laptop(browser, voila_url)
        browser.close()
    assert "Probabilité que la condition soit remplie" in french_text and "Traceback" not in french_text
    # No English text of the catalogs is left on the French or the Spanish page (of the dozens the
    # English page shows: the check has something to find).
    assert len(_catalog_texts("fr") & english_texts) > 30 and len(_catalog_texts("es") & english_texts) > 30
    for code, texts in (("fr", french_texts), ("es", spanish_texts)):
        english_left = sorted(_catalog_texts(code) & english_texts & texts)
        assert not english_left, f"English on the {code} page: {english_left[:5]}"
    assert french_start == "1 janv. 2027"  # the start in full, in French order, on a 1024 px screen
    assert laptop["start"] == "1 Jan 2027" and laptop["result_top"] is not None and 0 <= laptop["result_top"] < 800
    assert laptop["stale_charts"] == 2 and "Out of date" in laptop["status"]
    assert laptop["notice"] == "self-assessment time ×: 1.50 is outside 0.30 to 1.00, so it was set to 1.00."
    assert "median date" in laptop["when"] and "8 futures in 10" in laptop["when"]
    assert overflow <= 16, f"the page is {overflow} px wider than a 1024 px screen"
    assert "verified on" in answer and "plan-01" in answer  # the frontier's table, its first package named
    # The tab is closed: its kernel (and the kernel's workers) are shut down once idle.
    deadline = time.time() + 60
    while _kernels(voila) and time.time() < deadline:
        time.sleep(1)
    assert not _kernels(voila), "the closed tab's kernel is still running"
    assert table_2 != table_1 and chart_2 != chart_1
    assert "Traceback" not in body and "Error" not in body
    timings = {
        "replications": REPLICATIONS,
        "first_run_s": round(first_s, 2),
        "second_run_s": round(second_s, 2),
        "quick_plan_s": round(plan_s, 1),
    }
    (SHOTS / "timings.json").write_text(json.dumps(timings) + "\n", encoding="utf-8")
    print(
        f"\nexplorer update after Run ({REPLICATIONS} replications, in the browser): first {first_s:.1f} s (baseline + "
        f"scenario, starting the worker processes), second {second_s:.1f} s (scenario; baseline cached); "
        f"screenshots and timings.json in {SHOTS}"
    )
