"""FHIR R4 export of one rTMS course as a ``collection`` Bundle (domain-rtms §11): pure, no I/O.

Mapping (§11 table):

- the referral → ``ServiceRequest`` (intent ``proposal``, code ``rtms-consult-eval`` of the local
  CodeSystem ``rtms-act`` §11.1) + ``Task`` (the intake/triage workflow; ``output`` = orientation);
- the course → ``CarePlan`` (identifier = course number, ``basedOn`` the ServiceRequest) and, once
  closed, an ``Observation`` ``rtms-course-status`` derived from the decisive score Observations;
- each delivered session → ``Procedure`` (code ``rtms-session-std`` / ``-tbs`` / ``-accel``,
  ``basedOn`` the CarePlan, ``performedPeriod``);
- each scale administration → ``QuestionnaireResponse`` (item answers, item LOINC codes where
  known) + ``Observation`` (category ``survey``, code = the total-score LOINC code such as PHQ-9
  44261-6 or GAD-7 70274-6, never the panel code; otherwise a local code; ``derivedFrom`` the QR).

Every reference is a ``urn:uuid:`` full URL of an entry of the same bundle; the UUIDs are derived
from the local ids (UUID v5), so exporting the same course twice gives the same identifiers.
Patient identifiers: INS under the FR Core NIR system OID (``urn:oid:1.2.250.1.213.1.4.8``) when
known, and the local pseudonymous id.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import msgspec

from rtms_pathway.rules.mbc import ScaleLookup

__all__ = ["CourseExport", "ExportAssessment", "ExportCourse", "ExportPatient", "ExportReferral", "ExportSession",
           "build_course_bundle"]

LOINC = "http://loinc.org"
INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"  # FR Core: INS-NIR [to verify current FR Core version, §13 #25]
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
GENDERS = {"F": "female", "M": "male", "U": "unknown"}
PRIORITIES = {"routine": "routine", "soon": "urgent", "urgent": "asap"}
SERVICE_REQUEST_STATUS = {"completed": "completed", "redirected": "revoked", "declined": "revoked",
                          "cancelled": "revoked", "on_hold": "on-hold"}
TASK_STATUS = {"received": "received", "triage_scheduled": "accepted", "more_information_requested": "on-hold",
               "accepted": "completed", "completed": "completed", "redirected": "completed", "declined": "rejected",
               "cancelled": "cancelled", "on_hold": "on-hold"}
CAREPLAN_STATUS = {"planned": "active", "active": "active", "suspended": "on-hold", "completed": "completed",
                   "stopped_early": "revoked"}


class ExportPatient(msgspec.Struct, frozen=True):
    id: str
    family_name: str
    given_names: str
    birth_date: dt.date
    sex: str
    ins: str | None = None


class ExportReferral(msgspec.Struct, frozen=True):
    id: str
    status: str
    created_at: dt.datetime
    reason: str
    question: str
    urgency: str
    referrer_name: str
    recipient_organisation_id: str
    recipient_name: str
    orientation: str | None = None


class ExportCourse(msgspec.Struct, frozen=True):
    id: str
    course_number: int
    protocol_ref: str
    status: str
    start_date: dt.date
    end_date: dt.date | None
    planned_sessions: int
    outcome_status: str | None = None


class ExportSession(msgspec.Struct, frozen=True):
    id: str
    number: int
    date: dt.date
    status: str  # delivered | partially_delivered
    performed_start: dt.datetime | None = None
    performed_end: dt.datetime | None = None
    protocol_ref: str | None = None
    pulses_delivered: int | None = None
    intensity_pct_mt: int | None = None


class ExportAssessment(msgspec.Struct, frozen=True):
    id: str
    scale_code: str
    scale_version: str
    administered_at: dt.datetime
    items: list[int | None]
    total: int | None
    band: str | None


class CourseExport(msgspec.Struct, frozen=True):
    base_url: str
    generated_at: dt.datetime
    patient: ExportPatient
    course: ExportCourse
    sessions: list[ExportSession]
    assessments: list[ExportAssessment]
    referral: ExportReferral | None = None


class _Bundle:
    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.entries: list[dict[str, Any]] = []

    def url(self, resource_type: str, local_id: str) -> str:
        return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.base}/{resource_type}/{local_id}"))

    def add(self, resource_type: str, local_id: str, body: dict[str, Any]) -> str:
        full_url = self.url(resource_type, local_id)
        identifiers = [*body.get("identifier", []),
                       {"system": f"{self.base}/fhir/id/{resource_type.lower()}", "value": local_id}]
        resource = {"resourceType": resource_type, "id": full_url.removeprefix("urn:uuid:"), **body,
                    "identifier": identifiers}
        self.entries.append({"fullUrl": full_url, "resource": resource})
        return full_url

    def code_system(self, name: str) -> str:
        return f"{self.base}/fhir/CodeSystem/{name}"


def _ref(url: str, display: str | None = None) -> dict[str, str]:
    return {"reference": url, **({"display": display} if display else {})}


def _session_code(protocol_ref: str) -> str:
    protocol = protocol_ref.split("@", 1)[0]
    if "accelerated" in protocol:
        return "rtms-session-accel"
    if "tbs" in protocol:
        return "rtms-session-tbs"
    return "rtms-session-std"


def _patient(bundle: _Bundle, patient: ExportPatient) -> str:
    identifiers = [{"system": INS_SYSTEM, "value": patient.ins}] if patient.ins else []
    return bundle.add("Patient", patient.id, {
        "identifier": identifiers,
        "name": [{"family": patient.family_name, "given": patient.given_names.split()}],
        "gender": GENDERS.get(patient.sex, "unknown"),
        "birthDate": patient.birth_date.isoformat(),
    })


def _referral(bundle: _Bundle, referral: ExportReferral, patient_url: str) -> tuple[str, str]:
    organisation = bundle.add("Organization", referral.recipient_organisation_id, {"name": referral.recipient_name})
    request = bundle.add("ServiceRequest", referral.id, {
        "status": SERVICE_REQUEST_STATUS.get(referral.status, "active"),
        "intent": "proposal",
        "priority": PRIORITIES.get(referral.urgency, "routine"),
        "code": {"coding": [{"system": bundle.code_system("rtms-act"), "code": "rtms-consult-eval",
                             "display": "Consultation d'évaluation pré-rTMS"}]},
        "subject": _ref(patient_url),
        "authoredOn": referral.created_at.isoformat(),
        "requester": {"display": referral.referrer_name},
        "performer": [_ref(organisation, referral.recipient_name)],
        "reasonCode": [{"text": referral.reason}],
        "note": [{"text": referral.question}],
    })
    task: dict[str, Any] = {
        "status": TASK_STATUS.get(referral.status, "requested"),
        "businessStatus": {"coding": [{"system": bundle.code_system("rtms-referral-status"),
                                       "code": referral.status}]},
        "intent": "order",
        "code": {"coding": [{"system": bundle.code_system("rtms-act"), "code": "rtms-consult-eval"}]},
        "focus": _ref(request),
        "for": _ref(patient_url),
        "authoredOn": referral.created_at.isoformat(),
        "owner": _ref(organisation, referral.recipient_name),
    }
    if referral.orientation:
        task["output"] = [{
            "type": {"coding": [{"system": bundle.code_system("rtms-act"), "code": "rtms-orientation"}]},
            "valueCodeableConcept": {"coding": [{"system": bundle.code_system("rtms-orientation"),
                                                 "code": referral.orientation}]},
        }]
    bundle.add("Task", referral.id, task)
    return request, organisation


def _assessment(bundle: _Bundle, assessment: ExportAssessment, patient_url: str,
                catalogue: ScaleLookup) -> str | None:
    definition = catalogue.get(assessment.scale_code) if assessment.scale_code in catalogue else None
    items: list[dict[str, Any]] = []
    for index, value in enumerate(assessment.items):
        item: dict[str, Any] = {"linkId": str(index + 1)}
        if definition is not None and index < len(definition.items):
            spec = definition.items[index]
            item["text"] = spec.short_label_fr
            if spec.loinc:
                item["code"] = [{"system": LOINC, "code": spec.loinc}]
        if value is not None:
            item["answer"] = [{"valueInteger": value}]
        items.append(item)
    response = bundle.add("QuestionnaireResponse", assessment.id, {
        "status": "completed",
        "questionnaire": f"{bundle.base}/fhir/Questionnaire/{assessment.scale_code}|{assessment.scale_version}",
        "subject": _ref(patient_url),
        "authored": assessment.administered_at.isoformat(),
        "item": items,
    })
    if assessment.total is None:
        return None
    loinc_total = definition.loinc_total if definition is not None else None
    coding = ({"system": LOINC, "code": loinc_total} if loinc_total else
              {"system": bundle.code_system("rtms-scale-score"), "code": f"{assessment.scale_code}-total"})
    observation: dict[str, Any] = {
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey"}]}],
        "code": {"coding": [coding], "text": f"{assessment.scale_code.upper()} total"},
        "subject": _ref(patient_url),
        "effectiveDateTime": assessment.administered_at.isoformat(),
        "valueInteger": assessment.total,
        "derivedFrom": [_ref(response)],
    }
    if assessment.band:
        observation["interpretation"] = [{"coding": [{"system": bundle.code_system(f"{assessment.scale_code}-band"),
                                                      "code": assessment.band}]}]
    return bundle.add("Observation", assessment.id, observation)


def _sessions(bundle: _Bundle, sessions: Sequence[ExportSession], course: ExportCourse, patient_url: str,
              plan_url: str) -> None:
    for session in sorted(sessions, key=lambda s: (s.date, s.number)):
        procedure: dict[str, Any] = {
            "status": "completed",
            "code": {"coding": [{"system": bundle.code_system("rtms-act"),
                                 "code": _session_code(session.protocol_ref or course.protocol_ref)}],
                     "text": f"S{session.number}"},
            "subject": _ref(patient_url),
            "basedOn": [_ref(plan_url)],
        }
        if session.performed_start is not None:
            period = {"start": session.performed_start.isoformat()}
            if session.performed_end is not None:
                period["end"] = session.performed_end.isoformat()
            procedure["performedPeriod"] = period
        else:
            procedure["performedDateTime"] = session.date.isoformat()
        notes = [f"protocol {session.protocol_ref or course.protocol_ref}"]
        if session.status != "delivered":
            notes.append(session.status)
        if session.pulses_delivered is not None:
            notes.append(f"{session.pulses_delivered} pulses")
        if session.intensity_pct_mt is not None:
            notes.append(f"{session.intensity_pct_mt} % MT")
        procedure["note"] = [{"text": ", ".join(notes)}]
        bundle.add("Procedure", session.id, procedure)


def build_course_bundle(export: CourseExport, catalogue: ScaleLookup) -> dict[str, Any]:
    """The Bundle as a JSON-ready dict (``type: collection``)."""
    bundle = _Bundle(export.base_url)
    patient_url = _patient(bundle, export.patient)
    request_url = None
    if export.referral is not None:
        request_url, _organisation = _referral(bundle, export.referral, patient_url)
    course = export.course
    plan: dict[str, Any] = {
        "status": CAREPLAN_STATUS.get(course.status, "unknown"),
        "intent": "plan",
        "category": [{"coding": [{"system": bundle.code_system("rtms-course-phase"), "code": "induction"}]}],
        "title": f"Cure de rTMS n° {course.course_number} ({course.protocol_ref})",
        "subject": _ref(patient_url),
        "period": {"start": course.start_date.isoformat(),
                   **({"end": course.end_date.isoformat()} if course.end_date else {})},
        "activity": [{"detail": {
            "code": {"coding": [{"system": bundle.code_system("rtms-act"), "code": "rtms-course"}]},
            "status": "completed" if course.status in ("completed", "stopped_early") else "in-progress",
            "scheduledString": f"{course.planned_sessions} séances, {course.protocol_ref}",
        }}],
    }
    if request_url is not None:
        plan["basedOn"] = [_ref(request_url)]
    outcome_id = f"{course.id}-status"
    if course.outcome_status is not None:
        plan["outcomeReference"] = [_ref(bundle.url("Observation", outcome_id))]
    plan["identifier"] = [{"system": f"{bundle.base}/fhir/id/course-number/{export.patient.id}",
                           "value": str(course.course_number)}]
    plan_url = bundle.add("CarePlan", course.id, plan)
    _sessions(bundle, export.sessions, course, patient_url, plan_url)
    scores = [url for url in (_assessment(bundle, a, patient_url, catalogue)
                              for a in sorted(export.assessments, key=lambda a: a.administered_at)) if url]
    if course.outcome_status is not None:
        bundle.add("Observation", outcome_id, {
            "status": "final",
            "code": {"coding": [{"system": bundle.code_system("rtms-act"), "code": "rtms-course-summary",
                                 "display": "Bilan de fin de cure"}]},
            "subject": _ref(patient_url),
            "focus": [_ref(plan_url)],
            "effectiveDateTime": (course.end_date or course.start_date).isoformat(),
            "valueCodeableConcept": {"coding": [{"system": bundle.code_system("rtms-course-status"),
                                                 "code": course.outcome_status}]},
            "derivedFrom": [_ref(url) for url in scores],
        })
    return {"resourceType": "Bundle", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{bundle.base}/bundle/{course.id}/"
                                                                                f"{export.generated_at.isoformat()}")),
            "type": "collection", "timestamp": export.generated_at.isoformat(), "entry": bundle.entries}
