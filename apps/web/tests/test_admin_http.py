"""Administration pages: user accounts and the audit trail viewer, for administrators only."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from markupsafe import escape
from sqlalchemy import select

from parcours_web.auth.service import issue_token
from parcours_web.auth.tables import AppUser, WebSession
from parcours_web.i18n import load_translators
from shared_core.db import Database
from shared_core.tables import AuditEvent

pytestmark = pytest.mark.db

Client = TestClient[Litestar]
ClientFor = Callable[..., tuple[Client, str]]
FR = load_translators()["fr"]
STRONG_PASSWORD = "une phrase de passe assez longue"
NON_ADMIN_ROLES = ["psychiatrist", "operator", "referrer", "coordinator", "observer"]


def fr(message: str) -> str:
    return str(escape(FR.gettext(message)))


def error_fields(html: str) -> set[str]:
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    return set(re.findall(r'href="#field-([^"]+)"', summary))


@pytest.fixture
def clients(client_for: ClientFor) -> Iterator[ClientFor]:
    """client_for, closing the clients newest first (closing the oldest first hangs the TestClient)."""
    opened: list[Client] = []

    def _open(*args: Any, **kwargs: Any) -> tuple[Client, str]:
        client, token = client_for(*args, **kwargs)
        opened.append(client)
        return client, token

    yield _open
    for client in reversed(opened):
        client.__exit__(None, None, None)


@pytest.fixture
def admin(clients: ClientFor) -> tuple[Client, str]:
    return clients("admin")


def user_by_email(database: Database, email: str) -> AppUser | None:
    with database.read() as session:
        user = session.scalar(select(AppUser).where(AppUser.email == email))
        if user is not None:
            session.expunge(user)
        return user


def new_user_form(token: str, **overrides: str) -> dict[str, str]:
    form = {"email": "nouvelle@test.parcours.fr", "display_name": "Nouvelle IDE", "role": "operator",
            "organisation_id": "org-centre-a", "password": STRONG_PASSWORD, "_csrf_token": token}
    form.update(overrides)
    return form


def edit_form(user: AppUser, token: str, version: int, **overrides: str) -> dict[str, str]:
    form = {"email": user.email, "display_name": user.display_name, "role": user.role,
            "organisation_id": user.organisation_id or "", "password": "", "active": "on",
            "version": str(version), "_csrf_token": token}
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


# --- users -----------------------------------------------------------------------------------------------

def test_admin_lists_users(admin: tuple[Client, str], make_user: Callable[..., str]) -> None:
    client, _ = admin
    make_user("coordinator")
    response = client.get("/admin/users")
    assert response.status_code == 200
    assert "admin@test.parcours.fr" in response.text
    assert "coordinator@test.parcours.fr" in response.text


def test_admin_creates_a_user_who_can_log_in(admin: tuple[Client, str], database: Database, app: Litestar) -> None:
    client, token = admin
    response = client.post("/admin/users", data=new_user_form(token), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/users"
    user = user_by_email(database, "nouvelle@test.parcours.fr")
    assert user is not None
    assert (user.role, user.organisation_id, user.active) == ("operator", "org-centre-a", True)
    assert STRONG_PASSWORD not in user.password_hash
    with TestClient(app) as newcomer:
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', newcomer.get("/login").text)
        assert csrf
        login = newcomer.post("/login", data={"email": "nouvelle@test.parcours.fr", "password": STRONG_PASSWORD,
                                              "_csrf_token": csrf.group(1)}, follow_redirects=False)
        assert login.status_code == 303


def test_a_duplicate_email_is_refused(admin: tuple[Client, str], make_user: Callable[..., str],
                                      database: Database) -> None:
    client, token = admin
    existing = make_user("psychiatrist")
    response = client.post("/admin/users", data=new_user_form(token, email=existing.upper()), follow_redirects=False)
    assert response.status_code == 422
    assert error_fields(response.text) == {"email"}
    user = user_by_email(database, existing)
    assert user is not None and user.role == "psychiatrist"


def test_a_weak_password_is_refused(admin: tuple[Client, str], database: Database) -> None:
    client, token = admin
    response = client.post("/admin/users", data=new_user_form(token, password="court"), follow_redirects=False)
    assert response.status_code == 422
    assert error_fields(response.text) == {"password"}
    assert 'value="court"' not in response.text
    assert user_by_email(database, "nouvelle@test.parcours.fr") is None


def test_a_coordinator_needs_an_organisation(admin: tuple[Client, str], database: Database) -> None:
    client, token = admin
    response = client.post("/admin/users", data=new_user_form(token, role="coordinator", organisation_id=""),
                           follow_redirects=False)
    assert response.status_code == 422
    assert "organisation_id" in error_fields(response.text)
    assert user_by_email(database, "nouvelle@test.parcours.fr") is None


def test_editing_a_role_with_a_stale_version_is_a_conflict(admin: tuple[Client, str], make_user: Callable[..., str],
                                                            database: Database) -> None:
    client, token = admin
    user = user_by_email(database, make_user("operator"))
    assert user is not None
    first = client.post(f"/admin/users/{user.id}/edit", data=edit_form(user, token, user.version, role="psychiatrist"),
                        follow_redirects=False)
    assert first.status_code == 303
    stale = client.post(f"/admin/users/{user.id}/edit", data=edit_form(user, token, user.version, role="observer"),
                        follow_redirects=False)
    assert stale.status_code == 409
    assert fr("Someone else saved this account first") in stale.text
    stored = user_by_email(database, user.email)
    assert stored is not None and stored.role == "psychiatrist"


def test_deactivating_a_user_ends_their_session(admin: tuple[Client, str], clients: ClientFor,
                                                database: Database) -> None:
    client, token = admin
    operator, _ = clients("operator")
    assert operator.get("/", follow_redirects=False).status_code == 200
    user = user_by_email(database, "operator@test.parcours.fr")
    assert user is not None
    form = edit_form(user, token, user.version)
    del form["active"]  # an unticked checkbox is not sent
    response = client.post(f"/admin/users/{user.id}/edit", data=form, follow_redirects=False)
    assert response.status_code == 303
    after = operator.get("/", follow_redirects=False)
    assert after.status_code == 303
    assert after.headers["location"].startswith("/login")
    with database.read() as session:
        sessions = session.scalars(select(WebSession).where(WebSession.user_id == user.id)).all()
        assert sessions and all(s.revoked_at is not None for s in sessions)


def test_deactivating_a_user_revokes_their_api_tokens(admin: tuple[Client, str], make_user: Callable[..., str],
                                                      database: Database, app: Litestar) -> None:
    client, token = admin
    email = make_user("referrer")
    bearer = issue_token(database, email, None)
    with TestClient(app) as api:
        before = api.get("/api/v1/scales", headers={"Authorization": f"Bearer {bearer}"})
        user = user_by_email(database, email)
        assert user is not None
        form = edit_form(user, token, user.version)
        del form["active"]
        assert client.post(f"/admin/users/{user.id}/edit", data=form, follow_redirects=False).status_code == 303
        after = api.get("/api/v1/scales", headers={"Authorization": f"Bearer {bearer}"})
    assert (before.status_code, after.status_code) == (200, 401)


def test_a_script_in_a_display_name_comes_back_escaped(admin: tuple[Client, str]) -> None:
    client, token = admin
    client.post("/admin/users", data=new_user_form(token, display_name="<script>alert(1)</script>"),
                follow_redirects=False)
    page = client.get("/admin/users").text
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_changing_a_role_ends_the_user_session(admin: tuple[Client, str], clients: ClientFor,
                                               database: Database) -> None:
    client, token = admin
    operator, _ = clients("operator")
    user = user_by_email(database, "operator@test.parcours.fr")
    assert user is not None
    client.post(f"/admin/users/{user.id}/edit", data=edit_form(user, token, user.version, role="observer"),
                follow_redirects=False)
    after = operator.get("/patients", follow_redirects=False)
    assert after.status_code == 303
    assert after.headers["location"].startswith("/login")


def test_an_admin_cannot_deactivate_themself(admin: tuple[Client, str], database: Database) -> None:
    client, token = admin
    me = user_by_email(database, "admin@test.parcours.fr")
    assert me is not None
    form = edit_form(me, token, me.version)
    del form["active"]
    response = client.post(f"/admin/users/{me.id}/edit", data=form, follow_redirects=False)
    assert response.status_code == 422
    stored = user_by_email(database, me.email)
    assert stored is not None and stored.active


# --- audit trail viewer ----------------------------------------------------------------------------------

def add_event(database: Database, at: dt.datetime, actor_id: str, patient_id: str | None, detail: str) -> None:
    with database.write() as session:
        session.add(AuditEvent(at=at, actor_id=actor_id, actor_role="psychiatrist", action="read",
                               object_type="patient", object_id=patient_id, patient_id=patient_id, detail=detail))


@pytest.fixture
def events(database: Database) -> None:
    add_event(database, dt.datetime(2025, 1, 10, 9, 0, tzinfo=dt.UTC), "U-ALICE", "P-ONE", "event-alice-one")
    add_event(database, dt.datetime(2025, 1, 31, 23, 30, tzinfo=dt.UTC), "U-BRUNO", "P-ONE", "event-bruno-one")
    add_event(database, dt.datetime(2025, 2, 20, 9, 0, tzinfo=dt.UTC), "U-ALICE", "P-TWO", "event-alice-two")


def shown_events(html: str) -> set[str]:
    return set(re.findall(r"event-[a-z]+-[a-z]+", html))


@pytest.mark.parametrize(("query", "expected"), [
    ({"patient": "P-ONE"}, {"event-alice-one", "event-bruno-one"}),
    ({"user": "U-ALICE"}, {"event-alice-one", "event-alice-two"}),
    ({"patient": "P-ONE", "user": "U-ALICE"}, {"event-alice-one"}),
    ({"date_from": "2025-01-01", "date_to": "2025-01-31"}, {"event-alice-one", "event-bruno-one"}),
    ({"date_from": "2025-02-01"}, {"event-alice-two"}),
    ({"date_to": "2025-01-10"}, {"event-alice-one"}),
])
def test_audit_viewer_filters(admin: tuple[Client, str], events: None, query: dict[str, str],
                              expected: set[str]) -> None:
    client, _ = admin
    response = client.get("/admin/audit", params=query)
    assert response.status_code == 200
    assert shown_events(response.text) == expected


def test_audit_viewer_rejects_a_bad_date(admin: tuple[Client, str], events: None) -> None:
    client, _ = admin
    response = client.get("/admin/audit", params={"date_from": "31/01/2025"})
    assert response.status_code == 422
    assert error_fields(response.text) == {"date_from"}
    assert shown_events(response.text) == set()


def test_reading_the_audit_trail_is_itself_audited(admin: tuple[Client, str], events: None,
                                                   database: Database) -> None:
    client, _ = admin
    client.get("/admin/audit", params={"patient": "P-ONE"})
    with database.read() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.object_type == "audit_trail")).all()
        assert [(r.actor_role, r.patient_id) for r in rows] == [("admin", "P-ONE")]


# --- who may open the administration ----------------------------------------------------------------------

@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/admin/users"), ("GET", "/admin/users/new"), ("GET", "/admin/audit"), ("POST", "/admin/users"),
])
def test_other_roles_get_403_on_admin_pages(clients: ClientFor, database: Database, role: str, method: str,
                                            path: str) -> None:
    client, token = clients(role)
    data = new_user_form(token) if method == "POST" else None
    response = client.request(method, path, data=data, follow_redirects=False)
    assert response.status_code == 403
    assert user_by_email(database, "nouvelle@test.parcours.fr") is None


@pytest.mark.parametrize("path", ["/patients", "/patients/new"])
def test_an_admin_cannot_read_patients(admin: tuple[Client, str], path: str) -> None:
    client, _ = admin
    assert client.get(path, follow_redirects=False).status_code == 403


def test_an_admin_cannot_create_a_patient(admin: tuple[Client, str]) -> None:
    client, token = admin
    response = client.post("/patients", data={"family_name": "X", "given_names": "Y", "birth_date": "1990-01-01",
                                              "sex": "F", "_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_login(app: Litestar) -> None:
    with TestClient(app) as client:
        response = client.get("/admin/users", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin/users"
