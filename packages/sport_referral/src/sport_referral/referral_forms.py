"""Reading the prescriber's and the coordinator's forms into rule inputs (no I/O, no clock).

Form values arrive as ``{name: [values]}`` (checkboxes repeat a name). Every problem is collected
as a :class:`FieldError` named after the form field, so a page can show all of them at once.
Eligibility answers are explicit yes/no choices: there is no clinical default (§2.1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Literal

import msgspec

from shared_core.errors import FieldError
from sport_referral.model.eligibility import AUTONOMY_CRITERIA, RISK_FACTORS, EligibilityInput
from sport_referral.model.matching import PatientNeeds
from sport_referral.model.prescription import PrescriptionDraft
from sport_referral.model.structures import (
    ACTIVITY_TYPES,
    DISABILITY_FAMILIES,
    LIMITATION_LEVELS,
    PROFESSIONS,
    STRUCTURE_KINDS,
)

__all__ = [
    "ELIGIBILITY_QUESTIONS",
    "INTENSITIES",
    "MEDICAL_NOTES_MAX",
    "MOTIVATION_STAGES",
    "NEED_FEATURES",
    "REPORT_TYPES",
    "FormValues",
    "PrescriptionForm",
    "ReportInput",
    "read_prescription_form",
    "read_report_form",
]

FormValues = Mapping[str, Sequence[str]]

# §2.1, in the order the form asks them.
ELIGIBILITY_QUESTIONS: tuple[str, ...] = (
    "prescriber_is_physician",
    "prescriber_involved_in_care",
    "below_who_recommendations",
    "cannot_progress_alone",
    "ald",
    "chronic_disease",
    "patient_agrees",
)
INTENSITIES: tuple[str, ...] = ("light", "moderate", "vigorous")
REPORT_TYPES: tuple[str, ...] = ("initial_assessment", "periodic_report", "final_assessment")
# §4.3 motivation_stage [to verify] (labels used by French tools).
MOTIVATION_STAGES: tuple[str, ...] = ("precontemplation", "contemplation", "preparation", "action", "maintenance")
# The accessibility needs the form offers as hard requirements (M-4); the full vocabulary is §5.7.
NEED_FEATURES: tuple[str, ...] = (
    "motor_reception",
    "motor_toilets",
    "motor_changing_rooms",
    "sensory_reception",
    "sensory_signage",
    "accessible_parking",
    "public_transport_nearby",
)
MEDICAL_NOTES_MAX = 2000
TEXT_MAX = 1000
DISCIPLINE_MAX = 10


class PrescriptionForm(msgspec.Struct, frozen=True, kw_only=True):
    """What the prescription form says, before the E-, L- and P-rules judge it."""

    eligibility: EligibilityInput | None
    severe_criteria: tuple[str, ...]
    chosen_level: Literal["none", "minimal", "moderate", "severe"] | None
    draft: PrescriptionDraft
    needs: PatientNeeds
    medical_notes: str | None
    acknowledge_lint: bool


class ReportInput(msgspec.Struct, frozen=True, kw_only=True):
    """A D.1172-5 document as entered by the APA professional (§4.3, §4.5)."""

    report_type: Literal["initial_assessment", "periodic_report", "final_assessment"]
    performed_on: dt.date
    performer_profession: str
    six_minute_walk_m: int | None = None
    chair_stand_30s: int | None = None
    one_leg_stance_s: float | None = None
    handgrip_kg: float | None = None
    ricci_gagnon_score: int | None = None
    motivation_stage: str | None = None
    weekly_activity_minutes: int | None = None
    flags_risk: bool = False
    programme: str | None = None
    proposals: str | None = None
    notes: str | None = None


def _one(values: FormValues, name: str) -> str | None:
    found = [v.strip() for v in values.get(name, ()) if v.strip()]
    return found[0] if found else None


def _many(values: FormValues, name: str) -> list[str]:
    return [v.strip() for v in values.get(name, ()) if v.strip()]


def _checked(values: FormValues, name: str) -> bool:
    return _one(values, name) in {"on", "true", "1", "yes"}


def _int(values: FormValues, name: str, errors: list[FieldError], low: int, high: int) -> int | None:
    raw = _one(values, name)
    if raw is None:
        return None
    try:
        number = int(raw)
    except ValueError:
        errors.append(FieldError(name, "Enter a whole number."))
        return None
    if not low <= number <= high:
        errors.append(FieldError(name, "This number is outside the allowed range."))
        return None
    return number


def _float(values: FormValues, name: str, errors: list[FieldError], low: float, high: float) -> float | None:
    raw = _one(values, name)
    if raw is None:
        return None
    try:
        number = float(raw.replace(",", "."))
    except ValueError:
        errors.append(FieldError(name, "Enter a number."))
        return None
    if not low <= number <= high:
        errors.append(FieldError(name, "This number is outside the allowed range."))
        return None
    return number


def _date(values: FormValues, name: str, errors: list[FieldError], *, required: bool) -> dt.date | None:
    raw = _one(values, name)
    if raw is None:
        if required:
            errors.append(FieldError(name, "Enter a date as YYYY-MM-DD."))
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors.append(FieldError(name, "Enter a date as YYYY-MM-DD."))
        return None


def _text(values: FormValues, name: str, errors: list[FieldError], limit: int) -> str | None:
    raw = _one(values, name)
    if raw is not None and len(raw) > limit:
        errors.append(FieldError(name, "This text is too long."))
    return raw


def _codes(values: FormValues, name: str, allowed: Sequence[str], errors: list[FieldError]) -> list[str]:
    chosen = _many(values, name)
    unknown = [code for code in chosen if code not in allowed]
    if unknown:
        errors.append(FieldError(name, "Unknown choice."))
    return [code for code in allowed if code in chosen]


def read_prescription_form(values: FormValues, *, patient_id: str, prescriber_id: str, prescription_id: str,
                           signed_at: dt.datetime) -> tuple[PrescriptionForm, list[FieldError]]:
    """The form's content and the problems found reading it (blank answers, bad numbers).

    Rule checks (E-, L-, P-) are not done here; the service runs them on the result.
    """
    errors: list[FieldError] = []
    answers: dict[str, bool] = {}
    for name in ELIGIBILITY_QUESTIONS:
        raw = _one(values, name)
        if raw in ("yes", "no"):
            answers[name] = raw == "yes"
        else:
            errors.append(FieldError(name, "Answer yes or no."))
    risk_factors = _codes(values, "risk_factors", RISK_FACTORS, errors)
    autonomy = _codes(values, "autonomy_criteria", AUTONOMY_CRITERIA, errors)
    eligibility = None
    if len(answers) == len(ELIGIBILITY_QUESTIONS):
        eligibility = msgspec.convert(
            {**answers, "risk_factors": risk_factors, "autonomy_criteria": autonomy,
             "risk_factor_other_text": _one(values, "risk_factor_other_text")},
            EligibilityInput,
        )
    level_raw = _one(values, "limitation_level")
    chosen_level = None
    if level_raw is not None:
        if level_raw in LIMITATION_LEVELS:
            chosen_level = level_raw
        else:
            errors.append(FieldError("limitation_level", "Unknown choice."))
    severe = tuple(_many(values, "severe_criteria"))
    intensity = _one(values, "intensity")
    if intensity is not None and intensity not in INTENSITIES:
        errors.append(FieldError("intensity", "Unknown choice."))
        intensity = None
    activity_types = _codes(values, "activity_types", ACTIVITY_TYPES, errors)
    kinds = _codes(values, "recommended_structure_kinds", STRUCTURE_KINDS, errors)
    draft_fields: dict[str, object] = {
        "prescription_id": prescription_id,
        "patient_id": patient_id,
        "prescriber_id": prescriber_id,
        "prescribed_on": _date(values, "prescribed_on", errors, required=False),
        "limitation_level": None,  # set by the service from L-1/L-2
        "severe_criteria": severe,
        "activity_types": frozenset(activity_types) or None,
        "intensity": intensity,
        "intensity_detail": _text(values, "intensity_detail", errors, 200),
        "sessions_per_week_min": _int(values, "sessions_per_week_min", errors, 0, 99),
        "sessions_per_week_max": _int(values, "sessions_per_week_max", errors, 0, 99),
        "session_minutes_min": _int(values, "session_minutes_min", errors, 0, 999),
        "session_minutes_max": _int(values, "session_minutes_max", errors, 0, 999),
        "programme_months": _int(values, "programme_months", errors, 0, 99),
        "sessions_planned": _int(values, "sessions_planned", errors, 0, 999),
        "renewable": _checked(values, "renewable"),
        "kine_renewal_excluded": _checked(values, "kine_renewal_excluded"),
        "precautions": _text(values, "precautions", errors, TEXT_MAX),
        "contraindications": _text(values, "contraindications", errors, TEXT_MAX),
        "goals": _text(values, "goals", errors, TEXT_MAX),
        "target_weekly_minutes": _int(values, "target_weekly_minutes", errors, 0, 10080),
        "recommended_structure_kinds": frozenset(kinds),
        "signed_at": signed_at,
        "signed_by": prescriber_id,
    }
    draft = PrescriptionDraft(**draft_fields)  # type: ignore[arg-type]
    families = _codes(values, "disability_families", DISABILITY_FAMILIES, errors)
    features = _codes(values, "required_features", NEED_FEATURES, errors)
    disciplines = [d for d in (part.strip() for part in (_one(values, "preferred_disciplines") or "").split(","))
                   if d][:DISCIPLINE_MAX]
    needs = msgspec.convert({"disability_families": families, "required_features": features,
                             "preferred_disciplines": disciplines}, PatientNeeds)
    form = PrescriptionForm(
        eligibility=eligibility,
        severe_criteria=severe,
        chosen_level=chosen_level,  # type: ignore[arg-type]
        draft=draft,
        needs=needs,
        medical_notes=_text(values, "medical_notes", errors, MEDICAL_NOTES_MAX),
        acknowledge_lint=_checked(values, "acknowledge_lint"),
    )
    return form, errors


def read_report_form(values: FormValues, *, today: dt.date) -> tuple[ReportInput | None, list[FieldError]]:
    """A D.1172-5 report form; plausibility bounds only (the tools' protocols are §4.3, [to verify])."""
    errors: list[FieldError] = []
    report_type = _one(values, "report_type")
    if report_type not in REPORT_TYPES:
        errors.append(FieldError("report_type", "Choose the kind of report."))
    performed_on = _date(values, "performed_on", errors, required=True)
    if performed_on is not None and performed_on > today:
        errors.append(FieldError("performed_on", "The date cannot be in the future."))
    profession = _one(values, "performer_profession")
    if profession not in PROFESSIONS:
        errors.append(FieldError("performer_profession", "Choose the profession of the person who ran the tests."))
    stage = _one(values, "motivation_stage")
    if stage is not None and stage not in MOTIVATION_STAGES:
        errors.append(FieldError("motivation_stage", "Unknown choice."))
    numbers = {
        "six_minute_walk_m": _int(values, "six_minute_walk_m", errors, 0, 1500),
        "chair_stand_30s": _int(values, "chair_stand_30s", errors, 0, 80),
        "one_leg_stance_s": _float(values, "one_leg_stance_s", errors, 0, 600),
        "handgrip_kg": _float(values, "handgrip_kg", errors, 0, 120),
        "ricci_gagnon_score": _int(values, "ricci_gagnon_score", errors, 9, 45),
        "weekly_activity_minutes": _int(values, "weekly_activity_minutes", errors, 0, 10080),
    }
    texts = {name: _text(values, name, errors, TEXT_MAX) for name in ("programme", "proposals", "notes")}
    if errors or performed_on is None:
        return None, errors
    return ReportInput(report_type=report_type, performed_on=performed_on,  # type: ignore[arg-type]
                       performer_profession=profession or "", motivation_stage=stage,
                       flags_risk=_checked(values, "flags_risk"), **numbers, **texts), []  # type: ignore[arg-type]
