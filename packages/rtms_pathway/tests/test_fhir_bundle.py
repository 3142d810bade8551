"""FHIR R4 export of a course (domain-rtms §11): resource types, references resolved inside the
bundle, required elements present, LOINC total codes, no panel code on a total."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rtms_pathway.fhir import (
    CourseExport,
    ExportAssessment,
    ExportCourse,
    ExportPatient,
    ExportReferral,
    ExportSession,
    build_course_bundle,
)
from shared_core.scales import load_catalogue

NOW = dt.datetime(2026, 6, 20, 9, 0, tzinfo=dt.UTC)
REQUIRED = {
    "Patient": (), "Organization": (), "ServiceRequest": ("status", "intent", "subject"),
    "Task": ("status", "intent"), "CarePlan": ("status", "intent", "subject"), "Procedure": ("status", "subject"),
    "QuestionnaireResponse": ("status",), "Observation": ("status", "code"),
}


def _export(**changes: Any) -> CourseExport:
    base = CourseExport(
        base_url="https://parcours.example", generated_at=NOW,
        patient=ExportPatient("P-1", "Martin", "Jeanne Marie", dt.date(1970, 1, 2), "F", "270017548212345"),
        course=ExportCourse("CO-1", 1, "hf_left_10hz@1", "completed", dt.date(2026, 4, 27), dt.date(2026, 6, 11),
                            30, "remission"),
        sessions=[ExportSession(f"S-{n}", n, dt.date(2026, 4, 27) + dt.timedelta(days=n), "delivered",
                                dt.datetime(2026, 4, 27, 9, tzinfo=dt.UTC) + dt.timedelta(days=n), None,
                                "hf_left_10hz@1", 3000, 120) for n in range(1, 4)],
        assessments=[
            ExportAssessment("A-1", "phq9", "1", dt.datetime(2026, 4, 24, 9, tzinfo=dt.UTC),
                             [2, 3, 2, 2, 1, 2, 1, 1, 1], 15, "moderately_severe"),
            ExportAssessment("A-2", "gad7", "1", dt.datetime(2026, 4, 24, 9, tzinfo=dt.UTC),
                             [2, 2, 3, 2, 1, 1, 2], 13, "moderate"),
            ExportAssessment("A-3", "madrs", "1", dt.datetime(2026, 6, 11, 9, tzinfo=dt.UTC),
                             [1, 1, 2, 1, 1, 1, 1, 1, 0, 0], 9, "mild"),
        ],
        referral=ExportReferral("R-1", "completed", dt.datetime(2026, 4, 1, tzinfo=dt.UTC), "Dépression résistante",
                                "Indication ?", "soon", "Dr Meyer", "org-centre", "Centre", "rtms_indicated"),
    )
    return CourseExport(**{**{f: getattr(base, f) for f in base.__struct_fields__}, **changes})


def _references(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [ref for item in value.values() for ref in _references(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in _references(item)]
    return []


def test_bundle_structure_references_and_required_elements() -> None:
    bundle = build_course_bundle(_export(), load_catalogue())
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    entries = bundle["entry"]
    kinds = [e["resource"]["resourceType"] for e in entries]
    assert kinds.count("Procedure") == 3 and kinds.count("QuestionnaireResponse") == 3
    assert kinds.count("Observation") == 4  # three totals and the course status
    assert {"Patient", "ServiceRequest", "Task", "CarePlan", "Organization"} <= set(kinds)
    full_urls = [e["fullUrl"] for e in entries]
    assert len(set(full_urls)) == len(full_urls) and all(u.startswith("urn:uuid:") for u in full_urls)
    for entry in entries:
        resource = entry["resource"]
        assert entry["fullUrl"] == "urn:uuid:" + resource["id"]
        for element in REQUIRED[resource["resourceType"]]:
            assert resource.get(element), (resource["resourceType"], element)
        for reference in _references(resource):
            assert reference in full_urls, (resource["resourceType"], reference)


def test_codes_loinc_totals_and_local_codes() -> None:
    bundle = build_course_bundle(_export(), load_catalogue())
    resources = [e["resource"] for e in bundle["entry"]]
    totals = {r["code"]["coding"][0]["code"]: r for r in resources if r["resourceType"] == "Observation"}
    assert {"44261-6", "70274-6", "madrs-total", "rtms-course-summary"} <= set(totals)
    assert "44249-1" not in totals  # never a panel code on a total-score Observation
    assert totals["44261-6"]["valueInteger"] == 15 and totals["44261-6"]["category"][0]["coding"][0]["code"] == "survey"
    phq9 = next(r for r in resources if r["resourceType"] == "QuestionnaireResponse")
    assert phq9["item"][0]["code"][0]["code"] == "44250-9" and phq9["item"][0]["answer"] == [{"valueInteger": 2}]
    request = next(r for r in resources if r["resourceType"] == "ServiceRequest")
    assert request["intent"] == "proposal" and request["code"]["coding"][0]["code"] == "rtms-consult-eval"
    task = next(r for r in resources if r["resourceType"] == "Task")
    assert task["output"][0]["valueCodeableConcept"]["coding"][0]["code"] == "rtms_indicated"
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    assert patient["identifier"][0] == {"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "270017548212345"}
    procedure = next(r for r in resources if r["resourceType"] == "Procedure")
    assert procedure["code"]["coding"][0]["code"] == "rtms-session-std" and "performedPeriod" in procedure


def test_same_course_same_identifiers_and_without_referral() -> None:
    first = build_course_bundle(_export(), load_catalogue())
    again = build_course_bundle(_export(), load_catalogue())
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in again["entry"]]
    alone = build_course_bundle(_export(referral=None, sessions=[], assessments=[]), load_catalogue())
    kinds = {e["resource"]["resourceType"] for e in alone["entry"]}
    assert kinds == {"Patient", "CarePlan", "Observation"}
    plan = next(e["resource"] for e in alone["entry"] if e["resource"]["resourceType"] == "CarePlan")
    assert "basedOn" not in plan and plan["status"] == "completed"
