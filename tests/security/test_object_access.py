"""Object-level access: swapping an identifier for one owned by someone else never reads or changes it.

quality.md, Security: "a test swaps identifiers between two structures and two centres on every route
that takes one". Each case is a demo account and, per path parameter set, a query for the objects that
account must not reach. Every route (GET and POST, pages, htmx fragments, downloads and API) whose
parameters are covered is requested with each such identifier: a GET must answer 403 or 404, a POST
must not succeed (no 2xx, no redirect).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from route_index import endpoints
from sqlalchemy import text

from shared_core.db import Database

pytestmark = pytest.mark.db

CENTRE_A = "org-centre-demo"
OF_CENTRE_A = f"JOIN patient p ON p.id = x.patient_id WHERE p.organisation_id = '{CENTRE_A}'"
REFERRER_2 = "(SELECT id FROM app_user WHERE email = 'adresseur2@demo.parcours.fr')"
ESMS = "org-esms-demo"
# account -> {path parameters -> query for the identifiers that account must not reach}
FOREIGN_OBJECTS: dict[str, dict[tuple[str, ...], str]] = {
    "psychiatrist_centre_b": {
        ("patient_id",): f"SELECT id FROM patient WHERE organisation_id = '{CENTRE_A}'",
        ("patient_id", "assessment_id"): "SELECT a.patient_id, a.id FROM assessment a JOIN patient p "
                                         f"ON p.id = a.patient_id WHERE p.organisation_id = '{CENTRE_A}'",
        ("patient_id", "course_id"): "SELECT c.patient_id, c.id FROM rtms_course c JOIN patient p "
                                     f"ON p.id = c.patient_id WHERE p.organisation_id = '{CENTRE_A}'",
        ("patient_id", "alert_id"): "SELECT s.patient_id, s.id FROM safety_alert s JOIN patient p "
                                    f"ON p.id = s.patient_id WHERE p.organisation_id = '{CENTRE_A}'",
        ("patient_id", "course_id", "planned_id"): "SELECT x.patient_id, x.id, s.id FROM rtms_course x JOIN "
                                                   f"rtms_planned_session s ON s.course_id = x.id {OF_CENTRE_A}",
        ("patient_id", "course_id", "mt_id"): f"SELECT x.patient_id, x.course_id, x.id FROM rtms_motor_threshold x "
                                              f"{OF_CENTRE_A}",
        ("patient_id", "course_id", "event_id"): "SELECT x.patient_id, x.course_id, x.id FROM rtms_adverse_event x "
                                                 f"{OF_CENTRE_A}",
        ("patient_id", "course_id", "kind"): f"SELECT x.patient_id, x.id, 'extend' FROM rtms_course x {OF_CENTRE_A}",
        ("patient_id", "follow_up_id"): f"SELECT x.patient_id, x.id FROM rtms_follow_up x {OF_CENTRE_A}",
        ("patient_id", "trial_id"): f"SELECT x.patient_id, x.id FROM rtms_treatment_trial x {OF_CENTRE_A}",
        ("patient_id", "medication_id"): f"SELECT x.patient_id, x.id FROM rtms_medication x {OF_CENTRE_A}",
        ("prescription_id",): f"SELECT x.id FROM sport_prescription x {OF_CENTRE_A}",
        ("referral_id",): f"SELECT x.id FROM referral x {OF_CENTRE_A}",
        ("referral_id", "consent_id"): "SELECT x.referral_id, x.consent_id FROM sport_referral_detail x "
                                       f"{OF_CENTRE_A} AND x.consent_id IS NOT NULL",
        ("referral_id", "report_id"): "SELECT r.referral_id, r.id FROM sport_report r JOIN sport_referral_detail x "
                                      f"ON x.referral_id = r.referral_id {OF_CENTRE_A}",
    },
    "referrer_2": {
        ("referral_id",): f"SELECT referral_id FROM rtms_referral_detail WHERE referrer_user_id != {REFERRER_2}",
        ("patient_id",): "SELECT id FROM patient",
    },
    "coordinator_esms": {
        ("referral_id",): f"SELECT referral_id FROM sport_referral_detail WHERE recipient_organisation_id != '{ESMS}'",
        ("referral_id", "report_id"): "SELECT r.referral_id, r.id FROM sport_report r JOIN sport_referral_detail d "
                                      f"ON d.referral_id = r.referral_id WHERE d.recipient_organisation_id != '{ESMS}'",
        ("structure_id",): f"SELECT id FROM sport_structure WHERE organisation_id IS NULL OR organisation_id != '{ESMS}'",
        ("patient_id",): "SELECT id FROM patient",
    },
}
MAX_IDS_PER_ROUTE = 12  # enough to cover every kind of record; the whole table would only repeat itself
REFUSED = {403, 404}


def _cases() -> list[tuple[str, tuple[str, ...]]]:
    return [(account, parameters) for account, sources in FOREIGN_OBJECTS.items() for parameters in sources]


@pytest.mark.parametrize(("account", "parameters"), _cases(), ids=str)
def test_a_foreign_identifier_is_refused_on_every_route(
        account: str, parameters: tuple[str, ...], demo_app: Litestar, demo_database: Database,
        logged_in: Callable[[str], tuple[TestClient[Litestar], str]]) -> None:
    client, csrf = logged_in(account)
    with demo_database.read() as session:
        rows = session.execute(text(FOREIGN_OBJECTS[account][parameters])).all()[:MAX_IDS_PER_ROUTE]
    assert rows, f"the demo data has no foreign {parameters} for {account}"
    routes = [endpoint for endpoint in endpoints(demo_app) if tuple(endpoint.parameters) == parameters]
    assert routes, f"no route takes {parameters}"
    reached = []
    for endpoint in routes:
        for row in rows:
            path = endpoint.fill(dict(zip(parameters, (str(value) for value in row), strict=True)))
            if endpoint.method == "GET":
                status = client.get(path, follow_redirects=False).status_code
                if status not in REFUSED:
                    reached.append(f"GET {path}: {status}")
            else:
                status = client.request(endpoint.method, path, data={"_csrf_token": csrf},
                                        headers={"X-CSRF-Token": csrf}, follow_redirects=False).status_code
                if status < 400:
                    reached.append(f"{endpoint.method} {path}: {status}")
    assert reached == [], "\n".join(reached[:20])
