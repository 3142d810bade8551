"""Security properties visible over HTTP: headers, cookies, health, schema access, audit immutability, CSRF."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from http.cookies import SimpleCookie

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from parcours_web.app import create_app
from parcours_web.auth.guards import anonymous_csrf_token
from parcours_web.auth.middleware import SESSION_COOKIE
from parcours_web.settings import Settings
from shared_core.actors import Actor
from shared_core.db import Database
from shared_core.services import audit
from shared_core.tables import AuditEvent, Patient

from .conftest import PASSWORD

pytestmark = pytest.mark.db

Client = TestClient[Litestar]
ClientFor = Callable[..., tuple[Client, str]]
CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/none"


@pytest.fixture
def anonymous(app: Litestar) -> Iterator[Client]:
    with TestClient(app) as client:
        yield client


def anonymous_csrf(client: Client) -> str:
    match = CSRF_INPUT.search(client.get("/login").text)
    assert match
    return match.group(1)


# --- headers ------------------------------------------------------------------------------------------------



@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/login", 200),
    ("GET", "/health", 200),
    ("GET", "/static/app.css", 200),
    ("GET", "/static/htmx.min.js", 200),
    ("GET", "/static/no-such-file.css", 404),
    ("GET", "/patients/P-NOSUCH", 303),
    ("GET", "/no-such-page", 404),
    ("GET", "/api/v1/no-such-endpoint", 404),
    ("DELETE", "/login", 405),
])
def test_security_headers_are_on_every_response(anonymous: Client, method: str, path: str, status: int) -> None:
    response = anonymous.request(method, path, follow_redirects=False)
    assert response.status_code == status
    csp = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] in {"same-origin", "no-referrer", "strict-origin-when-cross-origin"}


def test_security_headers_are_on_a_signed_in_page(client_for: ClientFor) -> None:
    client, _ = client_for("psychiatrist")
    response = client.get("/patients")
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_404_page_is_never_cached(anonymous: Client) -> None:
    assert "no-store" in anonymous.get("/no-such-page").headers.get("cache-control", "")


@pytest.mark.parametrize("path", ["/", "/patients", "/patients/new"])
def test_pages_are_never_cached(client_for: ClientFor, path: str) -> None:
    client, _ = client_for("psychiatrist")
    response = client.get(path)
    assert response.status_code == 200
    assert "no-store" in response.headers["cache-control"]


def test_api_answers_are_never_cached(client_for: ClientFor) -> None:
    client, _ = client_for("psychiatrist")
    assert "no-store" in client.get("/api/v1/scales").headers["cache-control"]


def test_the_login_page_is_never_cached(anonymous: Client) -> None:
    assert "no-store" in anonymous.get("/login").headers["cache-control"]


# --- session cookie -------------------------------------------------------------------------------------------

def login_set_cookie(app: Litestar, email: str, base_url: str) -> SimpleCookie:
    with TestClient(app, base_url=base_url) as client:
        csrf = anonymous_csrf(client)
        response = client.post("/login", data={"email": email, "password": PASSWORD, "_csrf_token": csrf},
                               follow_redirects=False)
        assert response.status_code == 303
        headers = [value for value in response.headers.get_list("set-cookie") if value.startswith(SESSION_COOKIE)]
    assert len(headers) == 1
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(headers[0])
    return cookie


def test_session_cookie_is_httponly_and_samesite_lax(app: Litestar, make_user: Callable[..., str]) -> None:
    morsel = login_set_cookie(app, make_user("psychiatrist"), "http://testserver")[SESSION_COOKIE]
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "lax"
    assert morsel["path"] == "/"
    assert not morsel["secure"]  # this app was built with cookie_secure=False


def test_session_cookie_is_secure_when_configured(settings: Settings, database: Database,
                                                  make_user: Callable[..., str]) -> None:
    secure_app = create_app(msgspec.structs.replace(settings, cookie_secure=True), database)
    morsel = login_set_cookie(secure_app, make_user("psychiatrist"), "https://testserver")[SESSION_COOKIE]
    assert morsel["secure"] is True
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "lax"


def test_the_session_cookie_is_a_random_token_not_a_signed_payload(app: Litestar,
                                                                    make_user: Callable[..., str]) -> None:
    value = login_set_cookie(app, make_user("psychiatrist"), "http://testserver")[SESSION_COOKIE].value
    assert "psychiatrist" not in value and "@" not in value and len(value) >= 32


# --- health and database outage --------------------------------------------------------------------------------

def test_health_reports_ok(anonymous: Client) -> None:
    response = anonymous.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.fixture
def database_down(settings: Settings) -> Iterator[Client]:
    down = Database(UNREACHABLE)
    with TestClient(create_app(settings, down)) as client:
        yield client
    down.dispose()


def test_health_reports_an_unreachable_database(database_down: Client) -> None:
    response = database_down.get("/health")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


def test_a_page_needing_the_database_is_503_when_it_is_down(database_down: Client) -> None:
    database_down.cookies.set(SESSION_COOKIE, "some-session-token")
    response = database_down.get("/", follow_redirects=False)
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert "retry-after" in response.headers


def test_logging_in_is_503_when_the_database_is_down(database_down: Client) -> None:
    csrf = anonymous_csrf(database_down)
    response = database_down.post("/login", data={"email": "x@test.parcours.fr", "password": PASSWORD,
                                                  "_csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 503


def test_the_api_is_503_problem_when_the_database_is_down(database_down: Client) -> None:
    response = database_down.get("/api/v1/scales", headers={"Authorization": "Bearer prc_whatever"})
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")


# --- OpenAPI schema -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/schema/openapi.json", "/schema", "/schema/openapi.yaml", "/schema/swagger"])
def test_the_openapi_schema_needs_authentication(anonymous: Client, path: str) -> None:
    response = anonymous.get(path, follow_redirects=False)
    assert response.status_code == 401
    assert "paths" not in response.text


def test_the_openapi_schema_lists_the_api_but_no_pages(client_for: ClientFor) -> None:
    client, _ = client_for("psychiatrist")
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    paths = set(schema["paths"])
    assert "/api/v1/scales/{code}/score" in paths
    assert "/health" in paths
    assert not {p for p in paths if p.startswith(("/patients", "/admin", "/kiosk", "/login", "/logout"))}


# --- audit trail is append-only in the database --------------------------------------------------------------

@pytest.fixture
def audit_row(database: Database) -> int:
    with database.write() as session:
        audit.record(session, Actor(id="U-TEST", role="psychiatrist"), "read", "patient", "P-1", patient_id="P-1",
                     detail="original")
    with database.read() as session:
        row_id = session.scalar(select(AuditEvent.id).where(AuditEvent.detail == "original"))
    assert row_id is not None
    return row_id


@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET detail = 'rewritten'",
    "DELETE FROM audit_event",
])
def test_the_audit_trail_refuses_update_and_delete(database: Database, audit_row: int, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        with database.write() as session:
            session.execute(text(statement))
    with database.read() as session:
        row = session.get(AuditEvent, audit_row)
        assert row is not None and row.detail == "original"


def test_the_audit_trail_refuses_an_orm_update(database: Database, audit_row: int) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        with database.write() as session:
            row = session.get(AuditEvent, audit_row)
            assert row is not None
            row.detail = "rewritten"
    with database.read() as session:
        assert session.scalar(select(AuditEvent.detail).where(AuditEvent.id == audit_row)) == "original"


# --- CSRF ---------------------------------------------------------------------------------------------------------

def patient_count(database: Database) -> int:
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(Patient)) or 0


PATIENT = {"family_name": "Sans", "given_names": "Jeton", "birth_date": "1990-01-01", "sex": "F"}


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_a_post_without_a_valid_csrf_token_is_refused(client_for: ClientFor, database: Database,
                                                      token: str | None) -> None:
    client, _ = client_for("psychiatrist")
    data = dict(PATIENT) if token is None else {**PATIENT, "_csrf_token": token}
    response = client.post("/patients", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert patient_count(database) == 0


def test_an_anonymous_token_is_not_accepted_in_a_session(client_for: ClientFor, database: Database,
                                                          settings: Settings) -> None:
    client, _ = client_for("psychiatrist")
    other_token = anonymous_csrf_token(settings.secret_key, "a-pre-login-cookie")
    response = client.post("/patients", data={**PATIENT, "_csrf_token": other_token}, follow_redirects=False)
    assert response.status_code == 403
    assert patient_count(database) == 0


def test_the_csrf_header_is_accepted(client_for: ClientFor, database: Database) -> None:
    client, token = client_for("psychiatrist")
    response = client.post("/patients", data=PATIENT, headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert patient_count(database) == 1


def test_login_without_csrf_token_is_refused(anonymous: Client, make_user: Callable[..., str]) -> None:
    email = make_user("psychiatrist")
    anonymous.get("/login")
    response = anonymous.post("/login", data={"email": email, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_logout_without_csrf_token_keeps_the_session(client_for: ClientFor) -> None:
    client, _ = client_for("psychiatrist")
    assert client.post("/logout", follow_redirects=False).status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200


# --- redirects after login ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/", "/\\evil.example", "evil.example"])
def test_login_never_redirects_off_site(anonymous: Client, make_user: Callable[..., str], target: str) -> None:
    email = make_user("psychiatrist")
    response = anonymous.post("/login", data={"email": email, "password": PASSWORD, "next": target,
                                              "_csrf_token": anonymous_csrf(anonymous)}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_login_follows_a_same_site_next(anonymous: Client, make_user: Callable[..., str]) -> None:
    email = make_user("psychiatrist")
    response = anonymous.post("/login", data={"email": email, "password": PASSWORD, "next": "/patients?q=x",
                                              "_csrf_token": anonymous_csrf(anonymous)}, follow_redirects=False)
    assert response.headers["location"] == "/patients?q=x"


def test_the_login_page_of_a_signed_in_user_never_redirects_off_site(client_for: ClientFor) -> None:
    client, _ = client_for("psychiatrist")
    response = client.get("/login", params={"next": "//evil.example"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_choosing_a_language_never_redirects_off_site(anonymous: Client) -> None:
    response = anonymous.post("/language", data={"locale": "en", "next": "//evil.example",
                                                  "_csrf_token": anonymous_csrf(anonymous)}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


# --- sessions -----------------------------------------------------------------------------------------------------

def test_logging_out_revokes_the_session_server_side(client_for: ClientFor) -> None:
    client, token = client_for("psychiatrist")
    stolen = client.cookies.get(SESSION_COOKIE)
    assert stolen
    assert client.post("/logout", data={"_csrf_token": token}, follow_redirects=False).status_code == 303
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, stolen)  # replaying the old cookie must not work
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_logging_in_again_replaces_the_session(client_for: ClientFor) -> None:
    client, _ = client_for("psychiatrist")
    first = client.cookies.get(SESSION_COOKIE)
    assert first
    csrf = CSRF_INPUT.search(client.get("/").text)
    assert csrf
    log_in_again = client.post("/login", data={"email": "psychiatrist@test.parcours.fr", "password": PASSWORD,
                                               "_csrf_token": csrf.group(1)}, follow_redirects=False)
    assert log_in_again.status_code == 303
    second = client.cookies.get(SESSION_COOKIE)
    assert second and second != first
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, first)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_an_expired_htmx_request_is_told_to_go_to_login(anonymous: Client) -> None:
    response = anonymous.get("/patients", params={"q": "a"},
                             headers={"HX-Request": "true", "HX-Target": "patient-results"}, follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["hx-redirect"].startswith("/login")
