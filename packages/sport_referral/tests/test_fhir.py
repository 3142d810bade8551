"""FHIR R4 export of a sport referral (domain-sport §11): structure of the Bundle, the Task status
mapping with pa-taskrm-1, identifiers, and no diagnosis anywhere."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from sport_referral.fhir import (
    INS_NIR_SYSTEM,
    TASK_STATUS,
    FhirOrganisation,
    FhirPatient,
    FhirPrescriber,
    FhirPrescription,
    FhirReferral,
    FhirReport,
    build_referral_bundle,
    load_fhir_codes,
)

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
BASE = "https://parcours.example.fr"


def _referral(status: str = "in_progress", reason_code: str | None = None, *,
              reports: tuple[FhirReport, ...] | None = None, kind: str = "mss") -> FhirReferral:
    return FhirReferral(
        id="R-0001", status=status, reason_code=reason_code, sent_at=NOW - dt.timedelta(days=40), updated_at=NOW,
        prescription=FhirPrescription(
            id="SP-1", prescribed_on=dt.date(2026, 1, 10), signed_at=NOW - dt.timedelta(days=50),
            activity_types=("strength", "endurance"), intensity="moderate", sessions_per_week_min=2,
            sessions_per_week_max=3, session_minutes_min=45, session_minutes_max=60, programme_months=3,
            limitation_level="moderate", precautions="Éviter les sauts", goals="Marcher 30 minutes",
            target_weekly_minutes=150),
        patient=FhirPatient(id="P-1", ins_nir="285057512345678", family_name="Martin", given_names="Marie Anne",
                            birth_date=dt.date(1985, 5, 1), sex="F"),
        prescriber=FhirPrescriber(id="U-1", name="Dr Claire Muller", rpps="10101010108", organisation_id="org-c",
                                  organisation_name="Centre", organisation_finess="670000017"),
        structure=FhirOrganisation(id="mss-67-001", name="MSS Strasbourg", kind=kind, finess_et="670012345",
                                   siret="12345678901234", esms_category_code="183" if kind == "esms" else None,
                                   referral_email="accueil@mss.fr"),
        reports=reports if reports is not None else (
            FhirReport(id="REP-1", report_type="initial_assessment", performed_on=dt.date(2026, 2, 2),
                       six_minute_walk_m=420, chair_stand_30s=11, one_leg_stance_s=12.5, handgrip_kg=28.0,
                       ricci_gagnon_score=16, ricci_gagnon_band="inactive", weekly_activity_minutes=40),
            FhirReport(id="REP-2", report_type="final_assessment", performed_on=dt.date(2026, 4, 30),
                       six_minute_walk_m=480),
        ),
    )


def _bundle(referral: FhirReferral, include_ins: bool = True) -> dict[str, Any]:
    return build_referral_bundle(referral, load_fhir_codes(), base_url=BASE, generated_at=NOW, include_ins=include_ins)


def _resources(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in bundle["entry"] if entry["resource"]["resourceType"] == resource_type]


def _one(bundle: dict[str, Any], resource_type: str) -> dict[str, Any]:
    found = _resources(bundle, resource_type)
    assert len(found) == 1, resource_type
    return found[0]


def test_the_bundle_holds_the_ig_resources_and_every_reference_resolves() -> None:
    bundle = _bundle(_referral())
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    counts: dict[str, int] = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        counts[resource["resourceType"]] = counts.get(resource["resourceType"], 0) + 1
        assert entry["fullUrl"] == f"{BASE}/fhir/{resource['resourceType']}/{resource['id']}"
    assert counts["ServiceRequest"] == 1 and counts["Task"] == 1 and counts["DiagnosticReport"] == 2
    assert counts["Observation"] == 7  # 6 results of the initial assessment + the final 6MWT
    known = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]}

    def references(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["reference"]] if isinstance(node.get("reference"), str) else []
            return found + [ref for value in node.values() for ref in references(value)]
        if isinstance(node, list):
            return [ref for value in node for ref in references(value)]
        return []

    dangling = [ref for ref in references(bundle) if ref not in known]
    assert dangling == []
    json.dumps(bundle)  # JSON-ready


def test_service_request_follows_the_pa_pattern_without_diagnosis() -> None:
    request = _one(_bundle(_referral()), "ServiceRequest")
    assert request["intent"] == "order" and request["status"] == "active"
    assert request["code"]["coding"][0] == {"system": "http://snomed.info/sct", "code": "390893007",
                                            "display": "Referral to physical activity program"}
    assert request["reasonCode"][0]["coding"][0]["code"] == "Z72.3"  # pa-sr-1
    repeat = request["occurrenceTiming"]["repeat"]
    assert repeat["frequency"] == 2 and repeat["frequencyMax"] == 3 and repeat["periodUnit"] == "wk"
    assert repeat["duration"] == 45 and repeat["durationMax"] == 60 and repeat["boundsDuration"]["value"] == 3
    assert request["note"] == [{"text": "Éviter les sauts"}]
    assert request["performer"][0]["reference"].startswith("Organization/")
    assert request["requester"]["reference"].startswith("PractitionerRole/")
    text = json.dumps(request)
    for forbidden in ("F32", "F33", "dépression", "depression", "rTMS"):
        assert forbidden not in text


@pytest.mark.parametrize("status", sorted(TASK_STATUS))
def test_task_status_and_status_reason_follow_pa_taskrm_1(status: str) -> None:
    # Always pass a reason code: it must appear only where the IG requires it (a stale one is dropped).
    task = _one(_bundle(_referral(status, reason_code="no_capacity" if status == "declined" else "other")), "Task")
    expected_status, reason_required, business = TASK_STATUS[status]
    assert task["status"] == expected_status
    assert task["status"] not in ("received", "ready")  # excluded by pa-task-status
    assert ("statusReason" in task) is (task["status"] in ("rejected", "on-hold", "cancelled", "failed"))
    assert ("statusReason" in task) is reason_required
    assert task["code"]["coding"][0]["code"] == "fulfill" and task["intent"] == "order"
    assert task["focus"]["reference"].startswith("ServiceRequest/") and task["owner"]["reference"].startswith(
        "Organization/")
    if business:
        assert task["businessStatus"]["text"] == business


def test_declined_task_carries_the_decline_reason() -> None:
    task = _one(_bundle(_referral("declined", reason_code="no_capacity")), "Task")
    assert task["status"] == "rejected"
    assert task["statusReason"]["coding"][0]["code"] == "no_capacity"
    assert task["statusReason"]["coding"][0]["system"].endswith("/decline-reason")
    assert _one(_bundle(_referral("cancelled", "patient_withdrew")), "ServiceRequest")["status"] == "revoked"


def test_reports_and_observations_use_loinc_where_it_exists() -> None:
    bundle = _bundle(_referral())
    reports = _resources(bundle, "DiagnosticReport")
    assert all(report["code"]["coding"][0]["code"] == "11488-4" for report in reports)
    assert {report["category"][0]["coding"][0]["code"] for report in reports} == {"initial_assessment",
                                                                                  "final_assessment"}
    task = _one(bundle, "Task")
    assert {o["valueReference"]["reference"] for o in task["output"]} == {f"DiagnosticReport/{r['id']}"
                                                                          for r in reports}
    observations = {o["code"]["coding"][-1]["code"]: o for o in _resources(bundle, "Observation")
                    if o["effectiveDateTime"] == "2026-02-02"}
    walk = observations["six_minute_walk"]
    assert walk["code"]["coding"][0] == {"system": "http://loinc.org", "code": "64098-7",
                                         "display": "Six minute walk test"}
    assert walk["valueQuantity"] == {"value": 420, "unit": "m", "system": "http://unitsofmeasure.org", "code": "m"}
    evs = observations["weekly_activity_minutes"]
    assert evs["code"]["coding"][0]["code"] == "82290-8" and evs["valueQuantity"]["code"] == "min/wk"
    chair = observations["chair_stand_30s"]
    assert [c["system"] for c in chair["code"]["coding"]] == [f"{BASE}/fhir/CodeSystem/apa-assessment-tool"]
    assert observations["ricci_gagnon"]["interpretation"][0]["coding"][0]["code"] == "inactive"
    assert observations["handgrip"]["valueQuantity"]["unit"] == "kg"
    assert "89574-8" not in json.dumps(bundle)  # not part of the PA IG


def test_fr_core_identifier_systems() -> None:
    bundle = _bundle(_referral())
    patient = _one(bundle, "Patient")
    assert {"system": INS_NIR_SYSTEM, "value": "285057512345678"}.items() <= patient["identifier"][1].items()
    practitioner = _one(bundle, "Practitioner")
    systems = {identifier["system"]: identifier["value"] for identifier in practitioner["identifier"]}
    assert systems == {"https://rpps.esante.gouv.fr": "10101010108", "urn:oid:1.2.250.1.71.4.2.1": "810101010108"}
    structure = next(o for o in _resources(bundle, "Organization") if o["name"] == "MSS Strasbourg")
    ids = {identifier["system"]: identifier for identifier in structure["identifier"]}
    assert ids["https://finess.esante.gouv.fr"]["value"] == "670012345"
    assert ids["https://finess.esante.gouv.fr"]["type"]["coding"][0]["code"] == "FINEG"
    assert ids["https://sirene.fr"]["value"] == "12345678901234"
    codes = {(c["system"].rsplit("/", 1)[-1], c["code"]) for t in structure["type"] for c in t["coding"]}
    assert ("TRE-R66-CategorieEtablissement", "700") in codes and ("TRE-R244-CategorieOrganisation", "137") in codes
    esms = next(o for o in _resources(_bundle(_referral(kind="esms")), "Organization") if o["name"] == "MSS Strasbourg")
    assert ("TRE-R66-CategorieEtablissement", "183") in {(c["system"].rsplit("/", 1)[-1], c["code"])
                                                         for t in esms["type"] for c in t["coding"]}


def test_the_ins_is_left_out_unless_asked() -> None:
    bundle = _bundle(_referral(), include_ins=False)
    assert INS_NIR_SYSTEM not in json.dumps(bundle)


def test_a_referral_without_reports_has_no_output() -> None:
    bundle = _bundle(_referral("accepted", reports=()))
    assert "output" not in _one(bundle, "Task") and not _resources(bundle, "DiagnosticReport")


def test_an_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown referral status"):
        _bundle(_referral("teleported"))
