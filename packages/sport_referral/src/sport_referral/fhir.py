"""FHIR R4 export of one sport referral (domain-sport §11), after the HL7 Physical Activity IG.

Pure: plain structs in, a ``Bundle`` (type ``collection``) as a JSON-ready dict out; the codes of
the physical tests come in as :class:`FhirCodes` (``catalogue/fhir_codes.yaml``, loaded by
:func:`load_fhir_codes`). Resources:

* ``ServiceRequest`` (PAServiceRequest): SNOMED 390893007, ``intent = order``, a non-revealing
  ``reasonCode`` (ICD-10 Z72.3, ``pa-sr-1``; never a diagnosis, C-4), ``occurrenceTiming`` from
  the prescribed frequency and duration, ``note`` = precautions.
* ``Task`` (PATaskForReferralManagement): ``code = fulfill``, status mapped from the workflow
  (§11 table), ``statusReason`` if and only if the status is rejected / on-hold / cancelled /
  failed (``pa-taskrm-1``: a stale reason is dropped), ``output`` → the reports.
* ``DiagnosticReport`` (PADiagnosticReport, LOINC 11488-4) per D.1172-5 document, with one
  ``Observation`` per recorded test (LOINC where the catalogue has one, local code always).
* ``Patient`` (INS-NIR ``urn:oid:1.2.250.1.213.1.4.8`` only when ``include_ins``: prescriber-side
  exports), ``Practitioner`` (RPPS ``https://rpps.esante.gouv.fr``, IDNPS
  ``urn:oid:1.2.250.1.71.4.2.1`` = ``8`` + RPPS), ``PractitionerRole``, and the receiving
  ``Organization`` (FINESS ``https://finess.esante.gouv.fr`` type FINEG, SIRET ``https://sirene.fr``,
  TRE-R66 category; TRE-R244 137 for a Maison Sport-Santé). Systems as domain-sport §11 gives them.
"""

from __future__ import annotations

import datetime as dt
import functools
from importlib import resources
from typing import Any

import msgspec

from sport_referral.model import Status

__all__ = [
    "INS_NIR_SYSTEM",
    "TASK_STATUS",
    "FhirCodes",
    "FhirOrganisation",
    "FhirPatient",
    "FhirPrescriber",
    "FhirPrescription",
    "FhirReferral",
    "FhirReport",
    "ToolCode",
    "build_referral_bundle",
    "load_fhir_codes",
]

INS_NIR_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
RPPS_SYSTEM = "https://rpps.esante.gouv.fr"
IDNPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
FINESS_SYSTEM = "https://finess.esante.gouv.fr"
SIRENE_SYSTEM = "https://sirene.fr"
FR_CORE_ID_TYPE = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
TRE_R66 = "https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/TRE-R66-CategorieEtablissement"
TRE_R244 = "https://mos.esante.gouv.fr/NOS/TRE_R244-CategorieOrganisation/FHIR/TRE-R244-CategorieOrganisation"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
MSS_CATEGORY = "700"

# §11 table: ReferralStatus → (Task.status, statusReason required, businessStatus.text).
TASK_STATUS: dict[str, tuple[str, bool, str | None]] = {
    "draft": ("draft", False, None),
    "sent": ("requested", False, "sent"),
    "received": ("requested", False, "received"),  # the IG excludes the task-status "received"
    "accepted": ("accepted", False, "accepted"),
    "declined": ("rejected", True, None),
    "in_progress": ("in-progress", False, "first session attended"),
    "on_hold": ("on-hold", True, None),
    "completed": ("completed", False, "final assessment sent"),
    "lost_to_follow_up": ("failed", True, None),
    "cancelled": ("cancelled", True, None),
}
# ServiceRequest.status (§11: active when sent, revoked when cancelled, completed).
_REQUEST_STATUS = {"draft": "draft", "cancelled": "revoked", "declined": "revoked", "lost_to_follow_up": "revoked",
                   "completed": "completed", "on_hold": "on-hold"}
# Which local CodeSystem holds the reason codes of each status.
_REASON_SYSTEM = {"declined": "decline-reason", "on_hold": "on-hold-reason", "lost_to_follow_up": "lost-reason",
                  "cancelled": "cancel-reason"}
_REPORT_LABELS = {"initial_assessment": "Bilan initial", "periodic_report": "Compte rendu périodique",
                  "final_assessment": "Bilan final"}
_TOOL_LABELS = {
    "six_minute_walk": "Test de marche de 6 minutes",
    "chair_stand_30s": "Test de lever de chaise en 30 secondes",
    "one_leg_stance": "Test d'appui unipodal",
    "handgrip": "Force de préhension (dynamomètre)",
    "ricci_gagnon": "Questionnaire de Ricci et Gagnon",
    "weekly_activity_minutes": "Activité physique modérée à soutenue (min/semaine)",
}


class ToolCode(msgspec.Struct, frozen=True, kw_only=True):
    loinc: str | None
    loinc_display: str | None
    unit: str
    ucum: str


class FhirCodes(msgspec.Struct, frozen=True, kw_only=True):
    tools: dict[str, ToolCode]


class FhirPatient(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    ins_nir: str | None = None
    family_name: str | None = None
    given_names: str | None = None
    birth_date: dt.date | None = None
    sex: str | None = None  # F | M | U


class FhirPrescriber(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    rpps: str | None = None
    organisation_id: str | None = None
    organisation_name: str | None = None
    organisation_finess: str | None = None


class FhirOrganisation(msgspec.Struct, frozen=True, kw_only=True):
    """The receiving structure."""

    id: str
    name: str
    kind: str
    finess_et: str | None = None
    siret: str | None = None
    esms_category_code: str | None = None
    referral_email: str | None = None
    phone: str | None = None


class FhirPrescription(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    prescribed_on: dt.date
    signed_at: dt.datetime | None
    activity_types: tuple[str, ...]
    intensity: str
    sessions_per_week_min: int
    sessions_per_week_max: int
    session_minutes_min: int | None = None
    session_minutes_max: int | None = None
    programme_months: int
    limitation_level: str
    precautions: str | None = None
    goals: str | None = None
    target_weekly_minutes: int | None = None


class FhirReport(msgspec.Struct, frozen=True, kw_only=True):
    """One D.1172-5 document and the results it records (None = not measured)."""

    id: str
    report_type: str
    performed_on: dt.date
    recorded_at: dt.datetime | None = None
    six_minute_walk_m: int | None = None
    chair_stand_30s: int | None = None
    one_leg_stance_s: float | None = None
    handgrip_kg: float | None = None
    ricci_gagnon_score: int | None = None
    ricci_gagnon_band: str | None = None
    weekly_activity_minutes: int | None = None


class FhirReferral(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    status: str
    reason_code: str | None = None  # the reason of the move into the current status
    sent_at: dt.datetime | None = None
    updated_at: dt.datetime
    prescription: FhirPrescription
    patient: FhirPatient
    prescriber: FhirPrescriber
    structure: FhirOrganisation
    reports: tuple[FhirReport, ...] = ()


class _CodeEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    value: ToolCode
    status: Status
    source: str
    last_checked: dt.date


class _CodesFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: str
    tools: dict[str, _CodeEntry]


@functools.cache
def load_fhir_codes() -> FhirCodes:
    """``catalogue/fhir_codes.yaml``: LOINC (where one exists) and units of each physical test."""
    import yaml

    raw = resources.files("sport_referral.catalogue").joinpath("fhir_codes.yaml").read_text("utf-8")
    parsed = msgspec.convert(yaml.safe_load(raw), _CodesFile)
    return FhirCodes(tools={name: entry.value for name, entry in parsed.tools.items()})


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _ref(resource_type: str, resource_id: str) -> dict[str, str]:
    return {"reference": f"{resource_type}/{resource_id}"}


def _fhir_id(value: str) -> str:
    """FHIR ids allow [A-Za-z0-9-.]{1,64}."""
    return "".join(char if char.isalnum() or char in "-." else "-" for char in value)[:64]


class _Builder:
    def __init__(self, referral: FhirReferral, codes: FhirCodes, base_url: str, include_ins: bool) -> None:
        self.referral = referral
        self.codes = codes
        self.base = base_url.rstrip("/")
        self.include_ins = include_ins
        self.entries: list[dict[str, Any]] = []
        rid = _fhir_id(referral.id)
        self.ids = {"ServiceRequest": f"sr-{rid}", "Task": f"task-{rid}",
                    "Patient": _fhir_id(f"pat-{referral.patient.id}"),
                    "Practitioner": _fhir_id(f"pra-{referral.prescriber.id}"),
                    "PractitionerRole": _fhir_id(f"prr-{referral.prescriber.id}"),
                    "Organization": _fhir_id(f"org-{referral.structure.id}")}

    def local_system(self, name: str) -> str:
        return f"{self.base}/fhir/CodeSystem/{name}"

    def add(self, resource: dict[str, Any]) -> None:
        self.entries.append({"fullUrl": f"{self.base}/fhir/{resource['resourceType']}/{resource['id']}",
                             "resource": resource})

    def patient(self) -> None:
        patient = self.referral.patient
        resource: dict[str, Any] = {"resourceType": "Patient", "id": self.ids["Patient"],
                                    "identifier": [{"system": f"{self.base}/fhir/sid/patient-id", "value": patient.id}]}
        if self.include_ins and patient.ins_nir:
            resource["identifier"].append({
                "use": "official", "system": INS_NIR_SYSTEM, "value": patient.ins_nir,
                "type": {"coding": [{"system": FR_CORE_ID_TYPE, "code": "INS-NIR"}]},
            })
        if patient.family_name:
            name: dict[str, Any] = {"family": patient.family_name}
            if patient.given_names:
                name["given"] = patient.given_names.split()
            resource["name"] = [name]
        if patient.birth_date:
            resource["birthDate"] = patient.birth_date.isoformat()
        if patient.sex:
            resource["gender"] = {"F": "female", "M": "male"}.get(patient.sex, "unknown")
        self.add(resource)

    def prescriber(self) -> None:
        prescriber = self.referral.prescriber
        practitioner: dict[str, Any] = {"resourceType": "Practitioner", "id": self.ids["Practitioner"],
                                        "name": [{"text": prescriber.name}], "identifier": []}
        if prescriber.rpps:
            practitioner["identifier"] += [
                {"system": RPPS_SYSTEM, "value": prescriber.rpps,
                 "type": {"coding": [{"system": FR_CORE_ID_TYPE, "code": "RPPS"}]}},
                {"system": IDNPS_SYSTEM, "value": "8" + prescriber.rpps,
                 "type": {"coding": [{"system": FR_CORE_ID_TYPE, "code": "IDNPS"}]}},
            ]
        if not practitioner["identifier"]:
            del practitioner["identifier"]
        self.add(practitioner)
        role: dict[str, Any] = {"resourceType": "PractitionerRole", "id": self.ids["PractitionerRole"],
                                "practitioner": _ref("Practitioner", self.ids["Practitioner"])}
        if prescriber.organisation_id:
            organisation_id = _fhir_id(f"org-{prescriber.organisation_id}")
            role["organization"] = _ref("Organization", organisation_id)
            organisation: dict[str, Any] = {"resourceType": "Organization", "id": organisation_id,
                                            "name": prescriber.organisation_name or prescriber.organisation_id}
            if prescriber.organisation_finess:
                organisation["identifier"] = [{
                    "system": FINESS_SYSTEM, "value": prescriber.organisation_finess,
                    "type": {"coding": [{"system": FR_CORE_ID_TYPE, "code": "FINEG"}]}}]
            self.add(organisation)
        self.add(role)

    def structure(self) -> None:
        structure = self.referral.structure
        identifiers: list[dict[str, Any]] = [{"system": f"{self.base}/fhir/sid/structure-id", "value": structure.id}]
        if structure.finess_et:
            identifiers.append({"system": FINESS_SYSTEM, "value": structure.finess_et,
                                "type": {"coding": [{"system": FR_CORE_ID_TYPE, "code": "FINEG"}]}})
        if structure.siret:
            identifiers.append({"system": SIRENE_SYSTEM, "value": structure.siret,
                                "type": {"coding": [{"system": FR_CORE_ID_TYPE, "code": "SIRET"}]}})
        types: list[dict[str, Any]] = []
        if structure.kind == "mss":
            types.append({"coding": [{"system": TRE_R66, "code": MSS_CATEGORY, "display": "Maison sport-santé"}]})
            types.append({"coding": [{"system": TRE_R244, "code": "137", "display": "Maison sport-santé"}]})
        elif structure.esms_category_code:
            types.append({"coding": [{"system": TRE_R66, "code": structure.esms_category_code}]})
        types.append({"coding": [{"system": self.local_system("structure-kind"), "code": structure.kind}]})
        resource: dict[str, Any] = {"resourceType": "Organization", "id": self.ids["Organization"], "active": True,
                                    "identifier": identifiers, "type": types, "name": structure.name}
        telecom = []
        if structure.referral_email:
            telecom.append({"system": "email", "value": structure.referral_email, "use": "work"})
        if structure.phone:
            telecom.append({"system": "phone", "value": structure.phone, "use": "work"})
        if telecom:
            resource["telecom"] = telecom
        self.add(resource)

    def service_request(self) -> None:
        referral, prescription = self.referral, self.referral.prescription
        repeat: dict[str, Any] = {
            "boundsDuration": {"value": prescription.programme_months, "unit": "mois", "system": UCUM, "code": "mo"},
            "frequency": prescription.sessions_per_week_min, "period": 1, "periodUnit": "wk",
        }
        if prescription.sessions_per_week_max != prescription.sessions_per_week_min:
            repeat["frequencyMax"] = prescription.sessions_per_week_max
        if prescription.session_minutes_min is not None:
            repeat["duration"] = prescription.session_minutes_min
            repeat["durationUnit"] = "min"
            if prescription.session_minutes_max not in (None, prescription.session_minutes_min):
                repeat["durationMax"] = prescription.session_minutes_max
        resource: dict[str, Any] = {
            "resourceType": "ServiceRequest", "id": self.ids["ServiceRequest"],
            "identifier": [{"system": f"{self.base}/fhir/sid/sport-referral", "value": referral.id}],
            "status": _REQUEST_STATUS.get(referral.status, "active"),
            "intent": "order",
            "category": [{"coding": [{"system": SNOMED, "code": "409063005", "display": "Counseling"}]}],
            "code": {"coding": [{"system": SNOMED, "code": "390893007",
                                 "display": "Referral to physical activity program"}],
                     "text": "Prescription d'activité physique adaptée"},
            "orderDetail": [
                *({"coding": [{"system": self.local_system("apa-activity-type"), "code": code}]}
                  for code in sorted(prescription.activity_types)),
                {"coding": [{"system": self.local_system("apa-intensity"), "code": prescription.intensity}]},
                {"coding": [{"system": self.local_system("limitation-level"),
                             "code": prescription.limitation_level}]},
            ],
            "subject": _ref("Patient", self.ids["Patient"]),
            "occurrenceTiming": {"repeat": repeat},
            "requester": _ref("PractitionerRole", self.ids["PractitionerRole"]),
            "performer": [_ref("Organization", self.ids["Organization"])],
            # pa-sr-1: a reason is required; C-4: never the diagnosis.
            "reasonCode": [{"coding": [{"system": ICD10, "code": "Z72.3", "display": "Lack of physical exercise"}]}],
        }
        if prescription.signed_at is not None:
            resource["authoredOn"] = _iso(prescription.signed_at)
        notes = [text for text in (prescription.precautions,) if text]
        if notes:
            resource["note"] = [{"text": text} for text in notes]
        if prescription.target_weekly_minutes is not None:
            goal_id = f"goal-{_fhir_id(referral.id)}"
            self.add({
                "resourceType": "Goal", "id": goal_id, "lifecycleStatus": "active",
                "description": {"text": prescription.goals or "Activité physique hebdomadaire"},
                "subject": _ref("Patient", self.ids["Patient"]),
                "target": [{"measure": {"coding": [{"system": LOINC, "code": "82290-8"}]},
                            "detailQuantity": {"value": prescription.target_weekly_minutes, "unit": "min/sem",
                                               "system": UCUM, "code": "min/wk"}}],
            })
            resource["supportingInfo"] = [_ref("Goal", goal_id)]
        self.add(resource)

    def task(self, report_ids: list[str]) -> None:
        referral = self.referral
        status, reason_required, business = TASK_STATUS[referral.status]
        resource: dict[str, Any] = {
            "resourceType": "Task", "id": self.ids["Task"], "status": status, "intent": "order",
            "code": {"coding": [{"system": TASK_CODE, "code": "fulfill"}]},
            "focus": _ref("ServiceRequest", self.ids["ServiceRequest"]),
            "for": _ref("Patient", self.ids["Patient"]),
            "requester": _ref("PractitionerRole", self.ids["PractitionerRole"]),
            "owner": _ref("Organization", self.ids["Organization"]),
            "lastModified": _iso(referral.updated_at),
        }
        if referral.sent_at is not None:
            resource["authoredOn"] = _iso(referral.sent_at)
        if business is not None:
            resource["businessStatus"] = {"text": business}
        # pa-taskrm-1: statusReason if and only if rejected / on-hold / cancelled / failed.
        if reason_required:
            code = referral.reason_code or "other"
            resource["statusReason"] = {"coding": [{"system": self.local_system(_REASON_SYSTEM[referral.status]),
                                                    "code": code}], "text": code}
        if report_ids:
            resource["output"] = [{"type": {"text": "D.1172-5"}, "valueReference": _ref("DiagnosticReport", rid)}
                                  for rid in report_ids]
        self.add(resource)

    def observation(self, report: FhirReport, tool: str, value: float | int, report_id: str) -> str:
        code = self.codes.tools.get(tool)
        coding: list[dict[str, Any]] = [{"system": self.local_system("apa-assessment-tool"), "code": tool,
                                         "display": _TOOL_LABELS[tool]}]
        if code is not None and code.loinc:
            coding.insert(0, {"system": LOINC, "code": code.loinc, "display": code.loinc_display or ""})
        observation_id = f"obs-{report_id}-{tool.replace('_', '-')}"[:64]
        resource: dict[str, Any] = {
            "resourceType": "Observation", "id": observation_id, "status": "final",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY,
                                      "code": "activity" if tool == "weekly_activity_minutes" else "exam"}]}],
            "code": {"coding": coding, "text": _TOOL_LABELS[tool]},
            "subject": _ref("Patient", self.ids["Patient"]),
            "basedOn": [_ref("ServiceRequest", self.ids["ServiceRequest"])],
            "effectiveDateTime": report.performed_on.isoformat(),
            "performer": [_ref("Organization", self.ids["Organization"])],
        }
        if code is not None:
            resource["valueQuantity"] = {"value": value, "unit": code.unit, "system": UCUM, "code": code.ucum}
        else:
            resource["valueQuantity"] = {"value": value}
        if tool == "ricci_gagnon" and report.ricci_gagnon_band:
            resource["interpretation"] = [{"coding": [{"system": self.local_system("ricci-gagnon-band"),
                                                       "code": report.ricci_gagnon_band}]}]
        self.add(resource)
        return observation_id

    def report(self, report: FhirReport) -> str:
        report_id = _fhir_id(f"dr-{report.id}")
        measures: list[tuple[str, float | int | None]] = [
            ("six_minute_walk", report.six_minute_walk_m), ("chair_stand_30s", report.chair_stand_30s),
            ("one_leg_stance", report.one_leg_stance_s), ("handgrip", report.handgrip_kg),
            ("ricci_gagnon", report.ricci_gagnon_score), ("weekly_activity_minutes", report.weekly_activity_minutes),
        ]
        results = [self.observation(report, tool, value, report_id) for tool, value in measures if value is not None]
        resource: dict[str, Any] = {
            "resourceType": "DiagnosticReport", "id": report_id, "status": "final",
            "basedOn": [_ref("ServiceRequest", self.ids["ServiceRequest"])],
            "category": [{"coding": [{"system": self.local_system("apa-report-type"), "code": report.report_type}],
                          "text": _REPORT_LABELS.get(report.report_type, report.report_type)}],
            "code": {"coding": [{"system": LOINC, "code": "11488-4", "display": "Consult note"}]},
            "subject": _ref("Patient", self.ids["Patient"]),
            "effectiveDateTime": report.performed_on.isoformat(),
            "performer": [_ref("Organization", self.ids["Organization"])],
            "result": [_ref("Observation", rid) for rid in results],
        }
        if report.recorded_at is not None:
            resource["issued"] = _iso(report.recorded_at)
        if not results:
            del resource["result"]
        self.add(resource)
        return report_id


def build_referral_bundle(referral: FhirReferral, codes: FhirCodes, *, base_url: str, generated_at: dt.datetime,
                          include_ins: bool = True) -> dict[str, Any]:
    """The Bundle of one referral. ``include_ins`` only for prescriber-side exports (C-4, §11)."""
    if referral.status not in TASK_STATUS:
        raise ValueError(f"unknown referral status {referral.status!r}")
    builder = _Builder(referral, codes, base_url, include_ins)
    builder.patient()
    builder.prescriber()
    builder.structure()
    builder.service_request()
    report_ids = [builder.report(report) for report in sorted(referral.reports, key=lambda r: (r.performed_on, r.id))]
    builder.task(report_ids)
    return {
        "resourceType": "Bundle", "id": f"bundle-{_fhir_id(referral.id)}"[:64], "type": "collection",
        "timestamp": _iso(generated_at), "entry": builder.entries,
    }
