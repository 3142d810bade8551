"""Routes as the application registers them, for suites that must cover every page without a list to maintain.

Shared by the security suites (tests/security) and the accessibility sweep (tests/browser).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from litestar import Litestar
from sqlalchemy import text

from shared_core.db import Database

PARAM = re.compile(r"\{([a-z_]+):([a-z]+)\}")
# Path parameters -> a query giving the identifiers to try (every row: ownership is what is tested).
PARAMETER_SOURCES: dict[tuple[str, ...], str] = {
    ("patient_id",): "SELECT id FROM patient",
    ("patient_id", "assessment_id"): "SELECT patient_id, id FROM assessment",
    ("patient_id", "course_id"): "SELECT patient_id, id FROM rtms_course",
    ("patient_id", "alert_id"): "SELECT patient_id, id FROM safety_alert",
    ("organisation_id", "closure_id"): "SELECT organisation_id, id FROM centre_closure",
    ("patient_id", "course_id", "planned_id"): "SELECT c.patient_id, c.id, p.id FROM rtms_planned_session p "
                                               "JOIN rtms_course c ON c.id = p.course_id ORDER BY p.id LIMIT 200",
    ("patient_id", "course_id", "mt_id"): "SELECT patient_id, course_id, id FROM rtms_motor_threshold",
    ("patient_id", "course_id", "event_id"): "SELECT patient_id, course_id, id FROM rtms_adverse_event",
    ("patient_id", "course_id", "kind"): "SELECT patient_id, id, 'skip' FROM rtms_course",
    ("patient_id", "follow_up_id"): "SELECT patient_id, id FROM rtms_follow_up",
    ("patient_id", "trial_id"): "SELECT patient_id, id FROM rtms_treatment_trial",
    ("patient_id", "medication_id"): "SELECT patient_id, id FROM rtms_medication",
    ("prescription_id",): "SELECT id FROM sport_prescription",
    ("referral_id",): "SELECT id FROM referral",
    ("referral_id", "consent_id"): "SELECT referral_id, consent_id FROM sport_referral_detail "
                                   "WHERE consent_id IS NOT NULL",
    ("referral_id", "report_id"): "SELECT referral_id, id FROM sport_report",
    ("structure_id",): "SELECT id FROM sport_structure",
    ("job_id",): "SELECT id FROM sport_import_job",
    ("user_id",): "SELECT id FROM app_user",
    ("organisation_id",): "SELECT id FROM organisation",
    ("code",): "SELECT DISTINCT scale_code FROM assessment",
    ("token",): "SELECT 'no-such-token'",
    ("path",): "SELECT 'redoc'",
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # with {name:type} placeholders
    roles: frozenset[str]

    @property
    def parameters(self) -> list[str]:
        return [match.group(1) for match in PARAM.finditer(self.path)]

    def fill(self, values: dict[str, str]) -> str:
        return PARAM.sub(lambda match: values[match.group(1)], self.path)


def endpoints(app: Litestar) -> list[Endpoint]:
    found = []
    for route in app.routes:
        if route.path.startswith("/static"):  # files, no data
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                found.append(Endpoint(method, route.path, handler.opt["roles"]))
    return sorted(found, key=lambda e: (e.path, e.method))


def paths(endpoint: Endpoint, database: Database, limit: int | None = None) -> Iterator[str]:
    """The endpoint's path filled with identifiers of the database (all of them unless ``limit``)."""
    parameters = tuple(endpoint.parameters)
    if not parameters:
        yield endpoint.path
        return
    assert parameters in PARAMETER_SOURCES, (
        f"{endpoint.path}: add the identifiers of {parameters} to PARAMETER_SOURCES so the route is crawled")
    with database.read() as session:
        rows = session.execute(text(PARAMETER_SOURCES[parameters])).all()
    assert rows, f"{endpoint.path}: the demo data has no {parameters} to try"
    for row in rows[:limit]:
        yield endpoint.fill(dict(zip(parameters, (str(value) for value in row), strict=True)))
