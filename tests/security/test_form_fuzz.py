"""Form fuzzing (hypothesis): no form answers 5xx, whatever is typed into it, and every 422 names its fields.

quality.md, Security: "form fuzzing (hypothesis) finds no 5xx". Every unsafe page route is sent, by a
signed-in account of a role it admits, forms built from the field names the application's own pages
use, filled with arbitrary text (empty, huge, control characters, other scripts, numbers and dates in
every shape). The answer may refuse the input, never fail on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient
from route_index import Endpoint, endpoints, paths

from shared_core.db import Database

pytestmark = pytest.mark.db

EXAMPLES_PER_ROUTE = 25
FIELD_NAME = re.compile(r'\bname="([a-z_][a-z0-9_\[\]]*)"')
ROLE_ORDER = ("psychiatrist", "operator", "admin", "referrer", "coordinator", "observer")
SKIPPED = {"/login", "/logout", "/language"}  # their own tests cover them; /logout would end the session
TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=3000),
    st.from_regex(r"-?\d{1,12}(\.\d{1,4})?", fullmatch=True),
    st.from_regex(r"\d{1,4}-\d{1,2}-\d{1,2}", fullmatch=True),
    st.sampled_from(["", " ", "0", "-1", "1e309", "NaN", "null", "true", "\x00", "2026-02-30", "../../etc"]),
)


def _role_for(endpoint: Endpoint) -> str | None:
    return next((role for role in ROLE_ORDER if role in endpoint.roles), None)


def _field_names(client: TestClient[Litestar], app: Litestar, database: Database) -> list[str]:
    names: set[str] = set()
    for endpoint in endpoints(app):
        if endpoint.method == "GET" and not endpoint.path.startswith(("/api/", "/schema")):
            for path in paths(endpoint, database, limit=2):
                names.update(FIELD_NAME.findall(client.get(path).text))
    return sorted(names - {"_csrf_token"})


def _fuzz(client: TestClient[Litestar], csrf: str, target: str, names: list[str]) -> None:
    @given(form=st.dictionaries(st.sampled_from(names), TEXT, max_size=len(names)))
    @settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def post(form: dict[str, str]) -> None:
        response = client.post(target, data={**form, "_csrf_token": csrf}, follow_redirects=False)
        assert response.status_code < 500, f"{response.status_code} for {form!r}"

    post()


def test_no_form_fails_on_arbitrary_input(demo_app: Litestar, demo_database: Database,
                                          logged_in: Callable[[str], tuple[TestClient[Litestar], str]]) -> None:
    routes = [e for e in endpoints(demo_app) if e.method == "POST" and e.path not in SKIPPED
              and not e.path.startswith("/api/") and _role_for(e) is not None]
    assert len(routes) > 10, "route discovery is broken"
    fields_by_role = {role: _field_names(logged_in(role)[0], demo_app, demo_database)
                      for role in {str(_role_for(route)) for route in routes}}
    failures: list[str] = []
    for endpoint in routes:
        role = str(_role_for(endpoint))
        client, csrf = logged_in(role)
        target = next(iter(paths(endpoint, demo_database, limit=1)))
        try:
            _fuzz(client, csrf, target, fields_by_role[role])
        except AssertionError as error:
            failures.append(f"POST {target} as {role}: {error}")
    assert failures == [], "\n".join(failures)
