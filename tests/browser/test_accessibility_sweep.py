"""Accessibility sweep: every page each role can open, found from the route table, passes axe-core.

quality.md: "Every page passes axe-core with zero violations (WCAG 2.1 A and AA rules), in headless
Chromium, logged in as each role that can open it." The GET routes are read from the application
itself; each path parameter is filled with identifiers of the served demo database until the role
gets a page (200, HTML document), which is then checked and photographed. Downloads (JSON, CSV,
iCalendar) and htmx fragments are not pages. A route the role may use but for which no demo record
opens is reported, so the demo keeps every page reachable.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from conftest import ADMIN, COORDINATOR, OBSERVER, OPERATOR, PSYCHIATRIST, REFERRER, check_axe, login
from playwright.sync_api import BrowserContext, Page
from route_index import endpoints, paths

from parcours_web.app import create_app
from parcours_web.settings import Settings
from shared_core.db import Database

pytestmark = pytest.mark.browser

ACCOUNTS = {"psychiatrist": PSYCHIATRIST, "operator": OPERATOR, "referrer": REFERRER, "coordinator": COORDINATOR,
            "observer": OBSERVER, "admin": ADMIN}
NOT_PAGES = ("/api/", "/schema", "/static", "/logout", "/login", "/kiosk/")
DOWNLOADS = (".ics", ".json", ".csv")
CANDIDATES_PER_ROUTE = 40


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"


def _routes(database_url: str) -> list[tuple[str, frozenset[str], list[str]]]:
    database = Database(database_url)
    try:
        app = create_app(Settings(database_url=database_url, secret_key=secrets.token_urlsafe(32), cookie_secure=False,
                                  var_dir=Path("var")), database)
        return [(endpoint.path, endpoint.roles, list(paths(endpoint, database, limit=CANDIDATES_PER_ROUTE)))
                for endpoint in endpoints(app)
                if endpoint.method == "GET" and not endpoint.path.startswith(NOT_PAGES)
                and not endpoint.path.endswith(DOWNLOADS)]
    finally:
        database.dispose()


def _answer(page: Page, path: str) -> str:
    """"page" (a whole HTML document), "fragment" (htmx partial: checked within its page) or "no"."""
    response = page.request.get(path, max_redirects=0)
    if response.status != 200 or not response.headers.get("content-type", "").startswith("text/html"):
        return "no"
    return "page" if "<html" in response.text()[:500].lower() else "fragment"


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_every_page_of_the_role_passes_axe(role: str, context: BrowserContext, demo_database_url: str) -> None:
    page = context.new_page()
    login(page, ACCOUNTS[role])
    checked: list[str] = []
    unreachable: list[str] = []
    violations: list[str] = []
    for route, roles, candidates in _routes(demo_database_url):
        if role not in roles:
            continue
        answers = ((path, _answer(page, path)) for path in candidates)
        target, kind = next(((path, kind) for path, kind in answers if kind != "no"), (None, "no"))
        if kind == "fragment":
            continue
        if target is None:
            unreachable.append(route)
            continue
        page.goto(target)
        try:
            check_axe(page, f"sweep-{role}-{_slug(route)}")
        except AssertionError as failure:
            violations.append(str(failure))
        checked.append(target)
    assert violations == [], "\n\n".join(violations)
    assert unreachable == [], f"no demo record opens these pages for {role}: {unreachable}"
    assert checked, f"no page checked for {role}"
