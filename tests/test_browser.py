"""End to end: the real `storyline serve` in a subprocess, pages opened in headless Chromium.

Checks what a person sees (visible headline, a timeline with one mark per event, marked search
results, a hostile article's script shown as text with no dialog), and leaves screenshots in
out/screenshots/ for a person to look at. Chromium comes from Debian (`apt-get install chromium`);
nothing is downloaded, `playwright install` is never run."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HOSTILE_ID = "hostile-20251106-1"
SCREENSHOTS = REPO / "out" / "screenshots"
CHROMIUM = Path(os.environ.get("STORYLINE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _unavailable(reason: str):
    """CI installs Chromium and Playwright (.ci/run): missing there is a failure, not a skip."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: .ci/run should have installed it)", pytrace=False)
    pytest.skip(f"browser test not run: {reason}; `apt-get install -y chromium` and "
                f"`pip install -e '.[dev]'` make it run")


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def db_url(web_db_url) -> str:
    return web_db_url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _storyline_command() -> list[str]:
    # The console script of the Python running the tests (its venv), else the one on PATH.
    found = shutil.which("storyline", path=str(Path(sys.executable).parent)) or shutil.which("storyline")
    if not found:
        pytest.fail("the storyline command is not installed (pip install -e . in the venv)")
    return [found]


@pytest.fixture(scope="module")
def server(db_url, tmp_path_factory):
    """`storyline serve` on a free port; its base URL."""
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [*_storyline_command(), "serve", "--db", db_url, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"storyline serve exited with {process.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{base}/api/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"storyline serve did not answer within 90 s:\n{log.read_text()}")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def expected(db_url):
    """What the pages should show, from the library itself."""
    from storyline.store import open_store
    from storyline.stories import list_stories, story_view

    with open_store(db_url) as store:
        ranked = list_stories(store, limit=10)
        top = ranked[0]
        view = story_view(store, top.id, embed=False)
        return {"top": top, "events": len(view.timeline), "story_headline": view.headline.text}


class Visit:
    """A browser context that records what a person should never get: dialogs, console errors
    (a CSP violation is one), failed requests and server errors."""

    def __init__(self, browser, **options):
        self.context = browser.new_context(**options)
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.context.on("page", self._watch)
        self.page = self.context.new_page()

    def _watch(self, page) -> None:
        def on_dialog(dialog):
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        # A request the browser itself cancels because the page navigated on (the favicon, when
        # the next goto comes quickly) is not a failure anyone sees.
        page.on("requestfailed", lambda r: r.failure != "net::ERR_ABORTED"
                and self.errors.append(f"failed: {r.url} ({r.failure})"))
        page.on("response", lambda r: r.status >= 500 and self.errors.append(f"{r.status}: {r.url}"))

    def goto(self, url: str):
        response = self.page.goto(url)
        assert response is not None and response.ok, f"{url}: {response and response.status}"
        return response

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
        return path

    def close(self) -> None:
        self.context.close()
        assert not self.dialogs, f"dialogs opened: {self.dialogs}"
        assert not self.errors, f"browser errors: {self.errors}"


@pytest.fixture
def desktop(chromium):
    visit = Visit(chromium, viewport=DESKTOP)
    yield visit
    visit.close()


@pytest.fixture
def phone(chromium):
    visit = Visit(chromium, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    yield visit
    visit.close()


def test_front_page_shows_ranked_stories(desktop, server, expected):
    response = desktop.goto(f"{server}/")
    assert "script-src 'none'" in response.headers["content-security-policy"]
    page = desktop.page
    top = expected["top"]
    first = page.locator(".story-card .headline").first
    assert first.is_visible()
    assert first.inner_text().strip() == top.headline.text
    assert page.locator(".story-card").count() == 10
    badges = page.locator(".story-card").first.locator(".badge")
    shown = [b.get_attribute("class").removeprefix("badge lang-") for b in badges.all()]
    assert sorted(shown) == sorted(top.languages) and badges.first.is_visible()
    # The stylesheet applied: the CSS grid lays the rank beside the headline.
    assert page.locator(".story-card").first.evaluate("e => getComputedStyle(e).display") == "grid"
    desktop.shot("front")


def test_story_page_draws_a_timeline(desktop, server, expected):
    desktop.goto(f"{server}/")
    page = desktop.page
    page.locator(".story-card .headline a").first.click()
    page.wait_for_url(f"**/stories/{expected['top'].id}")
    heading = page.locator("h1#story-title")
    assert heading.is_visible() and heading.inner_text().strip() == expected["story_headline"]
    timeline = page.locator("svg.timeline-wide")
    assert timeline.is_visible()
    assert not page.locator("svg.timeline-narrow").is_visible()
    marks = timeline.locator(".tl-mark")
    assert marks.count() == expected["events"] >= 2
    assert all(mark.is_visible() for mark in marks.all())
    titles = timeline.locator(".tl-title")
    assert titles.count() == expected["events"] and titles.first.text_content().strip()
    box = timeline.bounding_box()
    assert box["width"] > 600 and box["height"] > 200
    assert page.get_by_role("heading", name="Articles by language").is_visible()
    desktop.shot("story")


def test_story_page_on_a_phone_uses_the_narrow_timeline(phone, server, expected):
    phone.goto(f"{server}/stories/{expected['top'].id}")
    page = phone.page
    assert page.locator("svg.timeline-narrow").is_visible()
    assert not page.locator("svg.timeline-wide").is_visible()
    assert page.locator("svg.timeline-narrow .tl-mark").count() == expected["events"]
    # Nothing is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.shot("story-phone")


def test_search_marks_what_matched(desktop, server):
    desktop.goto(f"{server}/search")
    page = desktop.page
    page.locator("#q").fill("страховий пул")
    page.locator("#q").press("Enter")
    page.wait_for_url("**/search?q=*")
    results = page.locator(".results .result")
    results.first.wait_for()
    assert results.count() >= 3
    marks = page.locator(".results mark")
    assert marks.count() >= 3 and marks.first.is_visible()
    assert any(m.inner_text().casefold().startswith(("страхов", "пул")) for m in marks.all())
    assert page.locator(".story-hits li").count() >= 1
    desktop.shot("search")


def test_hostile_article_shows_its_script_as_text(desktop, server):
    desktop.goto(f"{server}/articles/{HOSTILE_ID}")
    page = desktop.page
    title = page.locator("h1#article-title")
    assert "<script>alert(1)</script>" in title.inner_text()
    assert "<img src=x onerror=alert(2)>" in title.inner_text()
    body = page.locator(".article .body").inner_text()
    assert "<script>alert(1)</script>" in body and "<img src=x onerror=alert(2)>" in body
    assert page.locator("article script, article img").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    # The javascript: URL is not the article's URL: it is listed, as text, among what ingest removed.
    assert page.locator("details", has_text="javascript:alert(3)").count() == 1
    # Where else it shows up: its search results.
    desktop.goto(f"{server}/search?q=lighthouse+keepers")
    assert "<script>alert(1)</script>" in desktop.page.locator(".results").inner_text()
    desktop.goto(f"{server}/articles/{HOSTILE_ID}")
    desktop.shot("article")
    # Visit.close (the fixture) fails the test if any dialog opened.


def test_unknown_story_gets_the_sites_404_page(desktop, server):
    response = desktop.page.goto(f"{server}/stories/st_nothing_here")
    assert response.status == 404
    assert desktop.page.locator(".error-code").inner_text() == "404"
    assert desktop.page.get_by_role("link", name="Back to the stories").is_visible()
    # The browser logs the 404 itself as a console error; that one is expected.
    desktop.errors = [e for e in desktop.errors if "404" not in e]


def test_the_dialog_watch_would_catch_an_alert(chromium, server):
    # The hostile-article test relies on this: a dialog that fired would be recorded.
    visit = Visit(chromium, viewport=DESKTOP)
    visit.goto(f"{server}/")
    visit.page.evaluate("() => alert('caught')")
    assert visit.dialogs == ["alert: caught"]
    visit.dialogs.clear()
    visit.close()
