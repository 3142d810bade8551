"""Browser tests: a real ``parcours serve`` on a seeded demo database, driven by Debian's Chromium.

Playwright's own browser download does not work here, so the system Chromium is launched by path.
Every test gets a fresh browser context (fresh cookies); the server and the browser live for the session.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("PARCOURS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
DEMO_PASSWORD = "parcours-demo-2026"
STARTUP_TIMEOUT_SECONDS = 30.0
DEFAULT_TIMEOUT_MS = 15_000
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}

PSYCHIATRIST = "psychiatre@demo.parcours.fr"
OPERATOR = "infirmier@demo.parcours.fr"
REFERRER = "adresseur@demo.parcours.fr"
COORDINATOR = "coordinateur@demo.parcours.fr"
OBSERVER = "observateur@demo.parcours.fr"
ADMIN = "admin@demo.parcours.fr"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cli(env: dict[str, str], *args: str) -> None:
    completed = subprocess.run([sys.executable, "-m", "parcours_web.cli", *args], env=env, capture_output=True,
                               text=True, timeout=300, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"`parcours {' '.join(args)}` failed ({completed.returncode}):\n"
                           f"{completed.stdout}\n{completed.stderr}")


def _health_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def demo_server() -> Iterator[tuple[str, str]]:
    """Seed a throw-away demo database, serve it on a free port, yield (base URL, database URL), stop."""
    with tempfile.TemporaryDirectory(prefix="parcours-browser-") as tmp:
        root = Path(tmp)
        database_url = f"sqlite:///{(root / 'parcours.db').as_posix()}"
        env = {
            **os.environ,
            "PARCOURS_DATABASE_URL": database_url,
            "PARCOURS_VAR_DIR": str(root / "var"),
            "PARCOURS_SECRET_KEY": secrets.token_urlsafe(48),
            "PARCOURS_COOKIE_SECURE": "false",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("PARCOURS_DEFAULT_LOCALE", None)
        _cli(env, "db", "upgrade")
        _cli(env, "demo", "seed")
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = root / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "parcours_web.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
            try:
                deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
                while _health_status(url + "/health") != 200:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"the server did not become healthy on {url} "
                                           f"(exit code {process.poll()}):\n{log_path.read_text(errors='replace')}")
                    time.sleep(0.2)
                yield url, database_url
            finally:
                _stop(process)


@pytest.fixture(scope="session")
def base_url(demo_server: tuple[str, str]) -> str:
    return demo_server[0]


@pytest.fixture(scope="session")
def demo_database_url(demo_server: tuple[str, str]) -> str:
    """The served demo database, for tests that look up identifiers to open (read it, never write)."""
    return demo_server[1]


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def new_context(browser: Browser, base_url: str) -> Iterator[Callable[..., BrowserContext]]:
    """Factory for extra, cookie-less contexts (the kiosk tablet); all are closed after the test."""
    contexts: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        context = browser.new_context(base_url=base_url, locale="fr-FR", timezone_id="Europe/Paris",
                                      viewport={"width": 1280, "height": 900}, **options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    return new_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def login(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the form, with the keyboard (fill, then Enter in the password field)."""
    page.goto("/login")
    page.locator("#field-email").fill(email)
    page.locator("#field-password").fill(password)
    with page.expect_navigation():
        page.locator("#field-password").press("Enter")
    page.wait_for_load_state("load")
    assert "/login" not in page.url, f"login failed for {email}: still on {page.url}"


_axe = Axe()


MAX_FULL_PAGE_HEIGHT = 6000  # CSS pixels


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    height = int(page.evaluate("() => document.documentElement.scrollHeight"))
    if height > MAX_FULL_PAGE_HEIGHT:
        # A very tall capture (a directory of thousands of clubs) can crash Chromium's GPU process and
        # take the page down with it; the top of the page is enough for a person to look at.
        page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": page.viewport_size["width"] if
                                              page.viewport_size else 1280, "height": MAX_FULL_PAGE_HEIGHT},
                        full_page=True)
        return path
    try:
        page.screenshot(path=str(path), full_page=True)
    except PlaywrightError:
        # Chromium refuses very tall full-page captures now and then; the viewport is enough for a look.
        page.screenshot(path=str(path))
    return path


def check_axe(page: Page, name: str) -> None:
    """Run axe-core (WCAG 2.1 A/AA) on the current page, save a screenshot, and fail on any violation."""
    page.wait_for_load_state("load")
    screenshot(page, name)
    results = _axe.run(page, options=AXE_OPTIONS)
    violations = results.response["violations"]
    if violations:
        lines = [f"{len(violations)} accessibility violation(s) on {name} ({page.url}):"]
        for violation in violations:
            lines.append(f"- {violation['id']} [{violation['impact']}] {violation['help']} ({violation['helpUrl']})")
            for node in violation["nodes"]:
                lines.append(f"    target: {', '.join(str(t) for t in node['target'])}")
                lines.append(f"      html: {node['html'][:300]}")
                summary = node.get("failureSummary")
                if summary:
                    lines.append("      " + summary.replace("\n", "\n      "))
        message = "\n".join(lines)
        print(message)
        pytest.fail(message, pytrace=False)
