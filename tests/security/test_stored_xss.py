"""Stored XSS: a payload saved in every free-text field comes back escaped on every page that shows it.

quality.md, Security: "XSS payloads stored in every text field come back escaped on every page". The
payload is written straight into the database (so no form validation can hide a template that forgets to
escape), then every GET route is requested by every role over the demo data, and no body may contain the
payload as markup. A control checks the escaped form does appear, so the crawl saw the fields.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from route_index import endpoints, paths
from sqlalchemy import select, text, update

from parcours_web.models import metadata
from shared_core.db import Database

pytestmark = pytest.mark.db

PAYLOAD = '"><script>zqxss(1)</script><img src=x onerror=zqxss(2)>'
# Free-text columns a person types into: (table, column).
TEXT_FIELDS = [
    ("patient", "family_name"), ("patient", "given_names"), ("patient", "address_line"),
    ("organisation", "name"), ("practitioner", "family_name"), ("practitioner", "given_name"),
    ("centre_closure", "label"), ("safety_alert", "acknowledgement_note"), ("rtms_triage", "override_reason"),
    ("app_user", "display_name"), ("referral_event", "reason_text"), ("sport_structure", "name"),
    ("rtms_treatment_trial", "notes"), ("rtms_treatment_trial", "agent"), ("rtms_medication", "notes"),
    ("rtms_medication", "inn"),
]
# JSON documents whose string values pages display: (table, column, key).
JSON_FIELDS = [("sport_structure", "data", "name")]
ROLES = ("psychiatrist", "operator", "referrer", "coordinator", "observer", "admin")
ROWS_PER_ROUTE = 15  # every row carries the payload: a few per route cover every template


@pytest.fixture(scope="module")
def planted(demo_database: Database) -> None:
    with demo_database.write() as session:
        for table, column in TEXT_FIELDS:
            model = metadata.tables[table]
            length = getattr(model.c[column].type, "length", None) or 10_000
            value = (PAYLOAD + " ")[: max(0, length - 1)] if length < len(PAYLOAD) else PAYLOAD
            session.execute(update(model).values({column: value}))
        for table, column, key in JSON_FIELDS:
            model = metadata.tables[table]
            for row_id, document in session.execute(select(model.c.id, model.c[column])).all():
                session.execute(update(model).where(model.c.id == row_id).values({column: {**document, key: PAYLOAD}}))


@pytest.mark.parametrize("role", ROLES)
def test_no_page_renders_a_stored_payload_as_markup(
        role: str, planted: None, demo_app: Litestar, demo_database: Database,
        logged_in: Callable[[str], tuple[TestClient[Litestar], str]]) -> None:
    client, _ = logged_in(role)
    raw = []
    for endpoint in endpoints(demo_app):
        if endpoint.method != "GET":
            continue
        for path in paths(endpoint, demo_database, limit=ROWS_PER_ROUTE):
            response = client.get(path, follow_redirects=False)
            if not response.headers.get("content-type", "").startswith("text/html"):
                continue  # JSON, CSV and calendar downloads are data, never rendered as a page
            body = response.text
            if "<script>zqxss" in body or "<img src=x onerror" in body:
                raw.append(path)
    assert raw == [], "\n".join(raw[:20])


def test_the_escaped_payload_is_shown_so_the_crawl_saw_the_fields(
        planted: None, demo_database: Database,
        logged_in: Callable[[str], tuple[TestClient[Litestar], str]]) -> None:
    client, _ = logged_in("psychiatrist")
    with demo_database.read() as session:
        patient_id = session.execute(text("SELECT MIN(id) FROM patient WHERE organisation_id = 'org-centre-demo'"))
        body = client.get(f"/patients/{patient_id.scalar()}").text
    assert html.escape(PAYLOAD, quote=True) in body or "&lt;script&gt;zqxss(1)&lt;/script&gt;" in body
