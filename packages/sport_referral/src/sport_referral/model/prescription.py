"""The APA prescription (domain-sport §4), the referral that carries it to a structure (§1), the
full prescriber-side referral file and the coordinator's minimised view of it (§8 C-3, C-4)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import msgspec

from shared_core.errors import FieldError
from sport_referral.model import Provenance, Reason
from sport_referral.model.eligibility import WhoSettings
from sport_referral.model.matching import PatientNeeds
from sport_referral.model.structures import (
    AccessFeature,
    ActivityType,
    DisabilityFamily,
    LimitationLevel,
    SessionFormat,
    StructureKind,
    Weekday,
)

__all__ = [
    "ACTIVE_STATUSES",
    "TERMINAL_STATUSES",
    "ApaPrescription",
    "AssessmentReport",
    "ClinicalRecord",
    "ConsentSettings",
    "CoordinatorPatient",
    "CoordinatorPrescriber",
    "CoordinatorPrescription",
    "CoordinatorReferralStub",
    "CoordinatorReferralView",
    "Intensity",
    "KineRenewalDecision",
    "KineRenewalRequest",
    "LintHit",
    "PatientIdentity",
    "PrescriberContact",
    "PrescriberNotice",
    "PrescriptionCheck",
    "PrescriptionDefaults",
    "PrescriptionDraft",
    "PrescriptionSettings",
    "Referral",
    "ReferralFile",
    "ReferralSettings",
    "ReferralStatus",
    "Reminder",
    "ReportType",
    "RtmsCourseData",
    "ScaleScore",
    "SensitiveTerm",
]

Intensity = Literal["light", "moderate", "vigorous"]
ReportType = Literal["initial_assessment", "periodic_report", "final_assessment"]
ReferralStatus = Literal[
    "draft",
    "sent",
    "received",
    "accepted",
    "declined",
    "in_progress",
    "on_hold",
    "completed",
    "lost_to_follow_up",
    "cancelled",
]
TERMINAL_STATUSES: frozenset[str] = frozenset({"declined", "completed", "lost_to_follow_up", "cancelled"})
# a referral is active until it reaches a terminal status (a draft counts).
ACTIVE_STATUSES: frozenset[str] = frozenset({"draft", "sent", "received", "accepted", "in_progress", "on_hold"})


# --- settings -----------------------------------------------------------------------------------


class ReferralSettings(msgspec.Struct, frozen=True, kw_only=True):
    """cfg:followup.*, cfg:sla.*, cfg:reports.* (R-7, R-11, §1.5), product defaults."""

    lost_after_days: int
    min_contact_attempts: int
    response_days: int
    periodic_weeks: int
    provenance: dict[str, Provenance]


class PrescriptionSettings(msgspec.Struct, frozen=True, kw_only=True):
    """prescription_settings.yaml: P-2 bounds, §4.1 limits, P-7 defaults, P-4 warning, E-4, R-7/R-11."""

    programme_months_min: int
    programme_months_max: int
    sessions_per_week_min: int
    sessions_per_week_max: int
    session_minutes_min: int
    session_minutes_max: int
    intensity_detail_max: int
    precautions_max: int
    contraindications_max: int
    goals_max: int
    default_sessions_per_week: tuple[int, int]
    default_session_minutes: tuple[int, int]
    default_months: int
    default_activity_types: tuple[ActivityType, ...]
    default_intensity: Intensity
    expiry_warning_days: int
    form_model_version: str
    who: WhoSettings
    referral: ReferralSettings
    provenance: dict[str, Provenance]


class SensitiveTerm(msgspec.Struct, frozen=True, kw_only=True):
    """One C-5 term. ``match='prefix'`` matches words starting with it; ``'word'`` whole words only.
    Matching ignores case and accents."""

    term: str
    match: Literal["word", "prefix"]
    category: Literal["diagnosis", "treatment", "scale", "medication", "other"]


class ConsentSettings(msgspec.Struct, frozen=True, kw_only=True):
    """cfg:consent.* : C-5 sensitive terms, C-3 birth-date sharing."""

    sensitive_terms: tuple[SensitiveTerm, ...]
    share_birth_date: bool
    provenance: dict[str, Provenance]


# --- prescription -------------------------------------------------------------------------------


class PrescriptionDraft(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A prescription being written: every field optional so P-1 can list all that are missing."""

    prescription_id: str | None = None
    patient_id: str | None = None
    prescriber_id: str | None = None
    prescribed_on: date | None = None
    eligibility_basis: tuple[str, ...] | None = None
    limitation_level: LimitationLevel | None = None
    severe_criteria: tuple[str, ...] = ()
    activity_types: frozenset[ActivityType] | None = None
    intensity: Intensity | None = None
    intensity_detail: str | None = None
    sessions_per_week_min: int | None = None
    sessions_per_week_max: int | None = None
    session_minutes_min: int | None = None
    session_minutes_max: int | None = None
    programme_months: int | None = None
    sessions_planned: int | None = None
    renewable: bool | None = None
    kine_renewal_excluded: bool = False
    precautions: str | None = None
    contraindications: str | None = None
    goals: str | None = None
    target_weekly_minutes: int | None = None
    recommended_structure_kinds: frozenset[StructureKind] = frozenset()
    renews_prescription_id: str | None = None
    form_model_version: str | None = None
    signed_at: datetime | None = None
    signed_by: str | None = None


class ApaPrescription(msgspec.Struct, frozen=True, kw_only=True):
    """§4.1 (ApaPrescription), once every P-rule passed. Lists are in canonical order."""

    prescription_id: str
    patient_id: str
    prescriber_id: str
    prescribed_on: date
    eligibility_basis: tuple[str, ...]
    limitation_level: LimitationLevel
    severe_criteria: tuple[str, ...]
    activity_types: tuple[ActivityType, ...]
    intensity: Intensity
    sessions_per_week_min: int
    sessions_per_week_max: int
    session_minutes_min: int
    session_minutes_max: int
    programme_months: int
    renewable: bool
    goals: str
    form_model_version: str
    signed_at: datetime
    signed_by: str
    kine_renewal_excluded: bool = False
    intensity_detail: str | None = None
    sessions_planned: int | None = None
    precautions: str | None = None
    contraindications: str | None = None
    target_weekly_minutes: int | None = None
    recommended_structure_kinds: tuple[StructureKind, ...] = ()
    renews_prescription_id: str | None = None


class LintHit(msgspec.Struct, frozen=True, kw_only=True):
    """C-5: a sensitive term found in a free-text field that the structure will read."""

    field: str
    term: str
    category: str
    found: str


class PrescriptionCheck(msgspec.Struct, frozen=True, kw_only=True):
    """P-1..P-3 outcome: ``prescription`` is set only when ``errors`` is empty.

    ``warnings`` (e.g. C-5 hits) never block; the physician's choice is audited by the caller.
    """

    prescription: ApaPrescription | None
    errors: list[FieldError]
    reasons: list[Reason]
    warnings: list[Reason]
    lint_hits: list[LintHit]


class PrescriptionDefaults(msgspec.Struct, frozen=True, kw_only=True):
    """P-7 pre-filled values (editable by the physician)."""

    sessions_per_week_min: int
    sessions_per_week_max: int
    session_minutes_min: int
    session_minutes_max: int
    programme_months: int
    activity_types: tuple[ActivityType, ...]
    intensity: Intensity
    reasons: list[Reason]


class AssessmentReport(msgspec.Struct, frozen=True, kw_only=True):
    """A D.1172-5 document (§1.5, §4.5) as far as the rules need it."""

    report_id: str
    referral_id: str
    report_type: ReportType
    performed_on: date
    flags_risk: bool = False


class KineRenewalRequest(msgspec.Struct, frozen=True, kw_only=True):
    """P-6: a physiotherapist asks to renew or adapt a prescription (D.1172-2-1 CSP)."""

    kind: Literal["renewal", "adaptation"]
    physiotherapist_name: str
    physiotherapist_rpps: str
    patient_agrees: bool
    programme_used_up: bool = False
    adaptation_needed: bool = False


class KineRenewalDecision(msgspec.Struct, frozen=True, kw_only=True):
    allowed: bool
    failed_conditions: list[str]
    reasons: list[Reason]
    mention: str
    notify_prescriber: bool


# --- referral -----------------------------------------------------------------------------------


class Referral(msgspec.Struct, frozen=True, kw_only=True):
    """A referral of one prescription to one structure (§1.3). Datetimes are timezone-aware."""

    referral_id: str
    prescription_id: str
    patient_id: str
    structure_id: str
    status: ReferralStatus
    created_at: datetime
    sent_at: datetime | None = None
    received_at: datetime | None = None
    accepted_at: datetime | None = None
    first_session_at: datetime | None = None
    closed_at: datetime | None = None
    status_changed_at: datetime | None = None
    reason_code: str | None = None
    reason_text: str | None = None
    previous_referral_id: str | None = None
    complements_referral_id: str | None = None


class Reminder(msgspec.Struct, frozen=True, kw_only=True):
    """R-11: a reminder to send (the caller delivers it)."""

    referral_id: str
    recipient: Literal["coordinator", "prescriber"]
    code: str
    waiting_since: date
    days_waiting: int
    reason: Reason


class PrescriberNotice(msgspec.Struct, frozen=True, kw_only=True):
    """R-9: what the prescriber is told of a transition: status, date and reason code only."""

    referral_id: str
    status: ReferralStatus
    previous_status: ReferralStatus
    at: datetime
    reason_code: str | None


# --- full file and coordinator view (C-3, C-4) ----------------------------------------------------


class PatientIdentity(msgspec.Struct, frozen=True, kw_only=True):
    family_name: str
    given_names: str
    birth_date: date
    commune_insee: str
    sex: Literal["female", "male", "other"] | None = None
    commune_name: str | None = None
    phone: str | None = None
    email: str | None = None
    address_line: str | None = None
    postcode: str | None = None
    ins_nir: str | None = None  # C-4: never leaves the prescriber side


class ScaleScore(msgspec.Struct, frozen=True, kw_only=True):
    scale: str
    total: int
    band: str
    performed_on: date


class RtmsCourseData(msgspec.Struct, frozen=True, kw_only=True):
    protocol: str
    parameters: str
    sessions_completed: int
    adverse_events: tuple[str, ...] = ()


class ClinicalRecord(msgspec.Struct, frozen=True, kw_only=True):
    """Prescriber-side clinical data. None of it reaches a coordinator (C-4)."""

    diagnoses: tuple[str, ...] = ()
    medications: tuple[str, ...] = ()
    rtms_courses: tuple[RtmsCourseData, ...] = ()
    scale_scores: tuple[ScaleScore, ...] = ()
    notes: tuple[str, ...] = ()


class PrescriberContact(msgspec.Struct, frozen=True, kw_only=True):
    display_name: str
    rpps: str | None = None
    organisation: str | None = None
    professional_phone: str | None = None
    professional_email: str | None = None


class ReferralFile(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the prescriber side holds about one referral."""

    referral: Referral
    patient: PatientIdentity
    prescription: ApaPrescription
    prescriber: PrescriberContact
    needs: PatientNeeds = PatientNeeds()
    clinical: ClinicalRecord = ClinicalRecord()


class CoordinatorPatient(msgspec.Struct, frozen=True, kw_only=True):
    family_name: str
    given_names: str
    birth_year: int
    commune_insee: str
    birth_date: date | None = None
    sex: str | None = None
    commune_name: str | None = None
    phone: str | None = None
    email: str | None = None
    address_line: str | None = None
    postcode: str | None = None


class CoordinatorPrescription(msgspec.Struct, frozen=True, kw_only=True):
    """The §4.1 fields marked "seen by coordinator: yes"."""

    prescription_id: str
    prescribed_on: date
    limitation_level: LimitationLevel
    activity_types: tuple[ActivityType, ...]
    intensity: Intensity
    sessions_per_week_min: int
    sessions_per_week_max: int
    session_minutes_min: int
    session_minutes_max: int
    programme_months: int
    renewable: bool
    kine_renewal_excluded: bool
    goals: str
    signed_at: datetime
    intensity_detail: str | None = None
    sessions_planned: int | None = None
    precautions: str | None = None
    contraindications: str | None = None
    target_weekly_minutes: int | None = None
    recommended_structure_kinds: tuple[StructureKind, ...] = ()
    renews_prescription_id: str | None = None


class CoordinatorPrescriber(msgspec.Struct, frozen=True, kw_only=True):
    display_name: str
    organisation: str | None = None
    professional_phone: str | None = None
    professional_email: str | None = None


class CoordinatorReferralView(msgspec.Struct, frozen=True, kw_only=True, tag="referral"):
    """C-3: what a coordinator of the target structure may see. No field can hold C-4 data."""

    referral_id: str
    structure_id: str
    status: ReferralStatus
    eligibility_confirmed: bool
    limitation_level: LimitationLevel
    patient: CoordinatorPatient
    prescription: CoordinatorPrescription
    prescriber: CoordinatorPrescriber
    disability_families: tuple[DisabilityFamily, ...]
    accessibility_needs: tuple[AccessFeature, ...]
    preferred_features: tuple[AccessFeature, ...]
    preferred_disciplines: tuple[str, ...]
    preferred_weekdays: tuple[Weekday, ...]
    preferred_format: SessionFormat | None
    sent_at: datetime | None = None
    received_at: datetime | None = None
    accepted_at: datetime | None = None
    first_session_at: datetime | None = None
    closed_at: datetime | None = None
    reason_code: str | None = None
    previous_referral_id: str | None = None


class CoordinatorReferralStub(msgspec.Struct, frozen=True, kw_only=True, tag="stub"):
    """C-7: after ``share_referral`` is withdrawn (or was never given) the coordinator keeps only this."""

    referral_id: str
    structure_id: str
    status: ReferralStatus
    consent_withdrawn: bool
    notice_fr: str
    notice_en: str
    sent_at: datetime | None = None
    closed_at: datetime | None = None
