"""Login, throttling, session rotation and timeouts, logout, CSRF, bearer tokens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import update

from parcours_web.auth.middleware import SESSION_COOKIE
from parcours_web.auth.service import issue_token
from parcours_web.auth.tables import ApiToken, AppUser, WebSession
from shared_core.db import Database

from .conftest import PASSWORD, csrf_token, log_in

pytestmark = pytest.mark.db


def _attempt(client: TestClient[Litestar], email: str, password: str) -> int:
    response = client.post("/login", data={"email": email, "password": password,
                                           "_csrf_token": csrf_token(client)}, follow_redirects=False)
    return response.status_code


def test_login_opens_a_session_and_logout_revokes_it(app: Litestar, make_user: Callable[..., str]) -> None:
    email = make_user("psychiatrist")
    with TestClient(app) as client:
        assert client.get("/", follow_redirects=False).status_code == 303
        token = log_in(client, email)
        stolen = client.cookies.get(SESSION_COOKIE)
        assert client.get("/").status_code == 200
        assert client.post("/logout", data={"_csrf_token": token}, follow_redirects=False).status_code == 303
    with TestClient(app) as attacker:
        attacker.cookies.set(SESSION_COOKIE, stolen)
        response = attacker.get("/", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_unknown_account_and_wrong_password_look_the_same(app: Litestar, make_user: Callable[..., str]) -> None:
    email = make_user("operator")
    with TestClient(app) as client:
        wrong = client.post("/login", data={"email": email, "password": "not the password",
                                            "_csrf_token": csrf_token(client)})
        unknown = client.post("/login", data={"email": "nobody@test.parcours.fr", "password": "not the password",
                                              "_csrf_token": csrf_token(client)})
    assert wrong.status_code == unknown.status_code == 401
    assert "incorrect" in wrong.text.lower() or "incorrect" in wrong.text
    strip = lambda text: text.replace(email, "").replace("nobody@test.parcours.fr", "")  # noqa: E731
    import re

    token = re.compile(r'value="[A-Za-z0-9_\-]{20,}"')
    assert token.sub("", strip(wrong.text)) == token.sub("", strip(unknown.text))


@pytest.mark.parametrize("exists", [True, False])
def test_failed_logins_are_throttled_per_account(app: Litestar, make_user: Callable[..., str], exists: bool) -> None:
    email = make_user("operator") if exists else "ghost@test.parcours.fr"
    with TestClient(app) as client:
        statuses = [_attempt(client, email, "bad password!") for _ in range(5)]
        assert statuses == [401] * 5
        # Even the right password waits now, and a missing account behaves the same way.
        assert _attempt(client, email, PASSWORD) == 429
        page = client.post("/login", data={"email": email, "password": PASSWORD, "_csrf_token": csrf_token(client)})
        assert page.status_code == 429 and int(page.headers["retry-after"]) > 0


def test_failed_logins_are_throttled_per_address(app: Litestar, make_user: Callable[..., str]) -> None:
    victim = make_user("psychiatrist")
    with TestClient(app) as client:
        for index in range(20):
            _attempt(client, f"spray{index}@test.parcours.fr", "bad password!")
        assert _attempt(client, victim, PASSWORD) == 429


def test_delay_grows_with_repeated_failures(app: Litestar, database: Database, make_user: Callable[..., str]) -> None:
    email = make_user("operator")
    from parcours_web.auth.tables import LoginThrottle

    with TestClient(app) as client:
        for _ in range(5):
            _attempt(client, email, "bad password!")
        with database.read() as session:
            first = session.get(LoginThrottle, f"acct:{email}")
            assert first is not None and first.blocked_until is not None
            first_delay = first.blocked_until - first.last_failure_at
        with database.write() as session:
            row = session.get(LoginThrottle, f"acct:{email}")
            assert row is not None
            row.blocked_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        _attempt(client, email, "bad password!")
        with database.read() as session:
            second = session.get(LoginThrottle, f"acct:{email}")
            assert second is not None and second.blocked_until is not None
            assert second.blocked_until - second.last_failure_at > first_delay


def test_session_id_rotates_at_each_login(app: Litestar, make_user: Callable[..., str]) -> None:
    email = make_user("psychiatrist")
    with TestClient(app) as client:
        client.cookies.set(SESSION_COOKIE, "attacker-chosen-value", domain="testserver.local")
        log_in(client, email)
        first = client.cookies.get(SESSION_COOKIE)
        assert first and first != "attacker-chosen-value"
        log_in(client, email)
        second = client.cookies.get(SESSION_COOKIE)
        assert second and second != first
    with TestClient(app) as other:
        other.cookies.set(SESSION_COOKIE, first)
        assert other.get("/", follow_redirects=False).status_code == 303  # the replaced session was revoked


@pytest.mark.parametrize("column", ["last_seen_at", "expires_at"])
def test_idle_and_absolute_timeouts(app: Litestar, database: Database, make_user: Callable[..., str],
                                    column: str) -> None:
    with TestClient(app) as client:
        log_in(client, make_user("operator"))
        past = dt.datetime.now(dt.UTC) - (dt.timedelta(minutes=31) if column == "last_seen_at" else dt.timedelta(0))
        with database.write() as session:
            session.execute(update(WebSession).values({column: past}))
        response = client.get("/patients", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login?next=/patients"


def test_htmx_requests_are_told_to_redirect(app: Litestar) -> None:
    with TestClient(app) as client:
        response = client.get("/patients?q=a", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 401 and response.headers["hx-redirect"].startswith("/login")


def test_state_changing_requests_need_the_csrf_token(app: Litestar, make_user: Callable[..., str]) -> None:
    form = {"family_name": "Csrf", "given_names": "Test", "birth_date": "1990-01-01", "sex": "F"}
    with TestClient(app) as client:
        token = log_in(client, make_user("psychiatrist"))
        assert client.post("/patients", data=form).status_code == 403
        assert client.post("/patients", data=form | {"_csrf_token": "forged"}).status_code == 403
        assert "Csrf" not in client.get("/patients").text
        assert client.post("/patients", data=form, headers={"X-CSRF-Token": token},
                           follow_redirects=False).status_code == 303
    with TestClient(app) as anonymous:
        assert anonymous.post("/login", data={"email": "a@b.fr", "password": "x"}).status_code == 403


def test_bearer_tokens(app: Litestar, database: Database, make_user: Callable[..., str]) -> None:
    email = make_user("psychiatrist")
    token = issue_token(database, email, ttl_days=30)
    with database.read() as session:
        stored = session.query(ApiToken).one()
        assert token not in (stored.token_hash, stored.id)  # only the hash is kept
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/scales", headers=headers).status_code == 200
        # No cookie, no CSRF token: bearer calls are not forgeable by a browser.
        scored = client.post("/api/v1/scales/gad7/score", json={"items": [0] * 7}, headers=headers)
        assert scored.status_code == 200
        assert client.get("/api/v1/scales", headers={"Authorization": "Bearer prc_wrong"}).status_code == 401
        with database.write() as session:
            session.execute(update(ApiToken).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        assert client.get("/api/v1/scales", headers=headers).status_code == 401


def test_deactivated_user_loses_token_access(app: Litestar, database: Database, make_user: Callable[..., str]) -> None:
    email = make_user("operator")
    token = issue_token(database, email, None)
    with database.write() as session:
        session.execute(update(AppUser).where(AppUser.email == email).values(active=False))
    with TestClient(app) as client:
        assert client.get("/api/v1/scales", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        assert _attempt(client, email, PASSWORD) == 401
