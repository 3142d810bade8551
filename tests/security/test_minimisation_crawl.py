"""Minimisation: strings planted in every psychiatric and rTMS field never reach a coordinator or an observer.

quality.md, Security: "a test plants marker strings in psychiatric fields and asserts they never appear
in any coordinator or observer response (HTML or JSON)". The demo data set is loaded, a distinct marker
is written into each listed field, then every GET route of the application is requested as the demo
coordinator and the demo observer, with every identifier of the database in each path parameter, and
every body is searched for every marker.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from route_index import endpoints, paths
from sqlalchemy import inspect, select, text, update

from parcours_web.models import metadata
from shared_core.db import Database

pytestmark = pytest.mark.db

# The psychiatric and rTMS fields, as (table, column, rows): every one gets its own marker.
# rows: an SQL condition limiting which rows are marked (None: all).
TEXT_FIELDS: list[tuple[str, str, str | None]] = [
    ("safety_alert", "acknowledgement_note", None),
    ("rtms_triage", "override_reason", None),
    ("referral_event", "reason_text", "referral_id IN (SELECT id FROM referral WHERE workflow = 'rtms_referral')"),
    ("rtms_referral_detail", "reason", None),
    ("rtms_referral_detail", "clinical_summary", None),
    ("rtms_referral_detail", "current_treatment", None),
    ("rtms_referral_detail", "past_trials", None),
    ("rtms_referral_detail", "question", None),
    ("rtms_session_record", "notes", None),
    ("rtms_session_record", "deviation_reason", None),
    ("rtms_motor_threshold", "notes", None),
    ("rtms_course_outcome", "clinician_comment", None),
    ("rtms_course_outcome", "stop_reason", None),
    ("rtms_follow_up", "note", None),
    ("rtms_course_extension", "reason", None),
    ("sport_prescription", "medical_notes", None),
    ("rtms_treatment_trial", "notes", None),
    ("rtms_medication", "notes", None),
]
# JSON fields: the marker is added under a key of its own, so the page code still finds what it expects.
JSON_FIELDS: list[tuple[str, str]] = [
    ("rtms_triage", "inputs"),
    ("rtms_triage", "proposal"),
    ("assessment", "subscores"),
    ("rtms_adverse_event", "seizure_form"),
]
MARKED_INS = "299129912345678"  # a well-formed INS no demo patient has

WATCHED_ROLES = ("coordinator", "observer")


def _marker(table: str, column: str) -> str:
    return f"ZQX-{table}-{column}-MARK"


def _plant(database: Database) -> list[str]:
    markers = []
    with database.write() as session:
        existing = set(inspect(session.connection()).get_table_names())
        for table, column, condition in TEXT_FIELDS:
            assert table in existing, f"{table} is listed but does not exist"
            marker = _marker(table, column)
            where = f" WHERE {condition}" if condition else ""
            session.execute(text(f"UPDATE {table} SET {column} = :marker{where}"), {"marker": marker})
            markers.append(marker)
        for table, column in JSON_FIELDS:
            model = metadata.tables[table]
            marker = _marker(table, column)
            for key, value in session.execute(select(model.c.id, model.c[column])).all():
                planted = dict(value or {})
                planted["note"] = marker
                session.execute(update(model).where(model.c.id == key).values({column: planted}))
            markers.append(marker)
        session.execute(text("UPDATE patient SET ins = :ins WHERE id = (SELECT MIN(id) FROM patient)"),
                        {"ins": MARKED_INS})
        markers.append(MARKED_INS)
    return markers


@pytest.fixture(scope="module")
def markers(demo_database: Database) -> list[str]:
    return _plant(demo_database)


def _leaks(body: str, markers: list[str]) -> list[str]:
    return [marker for marker in markers if marker in body]


@pytest.mark.parametrize("role", WATCHED_ROLES)
def test_no_psychiatric_marker_reaches_a_coordinator_or_an_observer(
        role: str, demo_app: Litestar, demo_database: Database, markers: list[str],
        logged_in: Callable[[str], tuple[TestClient[Litestar], str]]) -> None:
    client, _ = logged_in(role)
    leaks: list[str] = []
    errors: list[str] = []
    requested = 0
    for endpoint in endpoints(demo_app):
        if endpoint.method != "GET":
            continue
        for path in paths(endpoint, demo_database):
            response = client.get(path, follow_redirects=False)
            requested += 1
            if response.status_code >= 500:
                errors.append(f"{path}: {response.status_code}")
            found = _leaks(response.text, markers)
            if found:
                leaks.append(f"{path} ({response.status_code}): {found}")
    assert errors == []
    assert leaks == [], "\n".join(leaks[:20])
    assert requested > 50, "the crawl did not run"


def test_the_centre_sees_the_marked_record_so_absence_above_means_something(
        demo_database: Database, markers: list[str],
        logged_in: Callable[[str], tuple[TestClient[Litestar], str]]) -> None:
    client, _ = logged_in("psychiatrist")
    with demo_database.read() as session:
        marked = session.execute(text("SELECT id FROM patient WHERE ins = :ins"), {"ins": MARKED_INS}).scalar_one()
    assert MARKED_INS in client.get(f"/patients/{marked}").text
