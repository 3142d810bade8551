"""The APA prescription (domain-sport §4.1-§4.2, rules P-1 to P-8).

D.1172-2 CSP [verified]: the prescription states at least the type of activity, its duration,
frequency and intensity, on a specific form, for 3 to 6 months, renewable. D.1172-2-1 CSP
[verified]: a physiotherapist may renew it once, or adapt it, unless the physician excluded it.
Bounds, defaults and delays are reference data (:class:`PrescriptionSettings`).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta

import msgspec

from shared_core.errors import FieldError
from shared_core.rules.identifiers import check_rpps
from sport_referral.model import Reason, cite
from sport_referral.model.eligibility import BASIS_ORDER, EligibilityResult
from sport_referral.model.prescription import (
    ApaPrescription,
    AssessmentReport,
    ConsentSettings,
    KineRenewalDecision,
    KineRenewalRequest,
    LintHit,
    PrescriptionCheck,
    PrescriptionDefaults,
    PrescriptionDraft,
    PrescriptionSettings,
    Referral,
)
from sport_referral.model.structures import ACTIVITY_TYPES, NEVER_SEVERE_KINDS, STRUCTURE_KINDS
from sport_referral.rules.minimisation import lint_prescription

__all__ = [
    "KINE_RENEWAL_MENTION",
    "add_months",
    "carry_referrals_to_renewal",
    "check_kine_renewal",
    "check_prescription",
    "expiry_date",
    "prescription_defaults",
    "renewal_prompt",
]

SRC_D1172_2 = "Art. D.1172-2 CSP"
SRC_D1172_2_1 = "Art. D.1172-2-1 CSP"
SRC_D1172_3 = "Art. D.1172-3 CSP"
# P-6 [verified, D.1172-2-1 CSP]: the mention the physiotherapist writes on the prescription.
KINE_RENEWAL_MENTION = (
    "Renouvellement/adaptation (le cas échéant) de la prescription médicale d'activité physique adaptée"
)

_REQUIRED: tuple[str, ...] = (
    "prescription_id",
    "patient_id",
    "prescriber_id",
    "prescribed_on",
    "eligibility_basis",
    "limitation_level",
    "activity_types",
    "intensity",
    "sessions_per_week_min",
    "sessions_per_week_max",
    "session_minutes_min",
    "session_minutes_max",
    "programme_months",
    "renewable",
    "goals",
)
_SIGNATURE: tuple[str, ...] = ("signed_at", "signed_by")


def add_months(start: date, months: int) -> date:
    """Calendar months; a day missing in the target month becomes its last day (31 Jan + 1 → 28/29 Feb)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def expiry_date(prescription: ApaPrescription) -> date:
    """P-4: ``prescribed_on + programme_months`` (calendar months)."""
    return add_months(prescription.prescribed_on, prescription.programme_months)


def _missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (tuple, list, frozenset, set)):
        return not value
    return False


def check_prescription(
    draft: PrescriptionDraft,
    *,
    today: date,
    settings: PrescriptionSettings,
    consent: ConsentSettings | None = None,
    eligibility: EligibilityResult | None = None,
) -> PrescriptionCheck:
    """P-1 to P-3 and the §4.1 field rules; C-5 lint when ``consent`` settings are given.

    Returns every error at once (P-1: 422 listing every field); ``prescription`` is built only
    when there is none. ``form_model_version`` defaults to ``cfg`` when absent.
    """
    errors: list[FieldError] = []
    reasons: list[Reason] = []
    for name in _REQUIRED + _SIGNATURE:
        if _missing(getattr(draft, name)):
            errors.append(FieldError(name, "required (P-1) / champ obligatoire"))
    s = settings

    if eligibility is not None and not eligibility.eligible:
        errors.append(FieldError("eligibility", f"the patient is not eligible (E-11: {eligibility.outcome})"))
    if draft.prescribed_on is not None and draft.prescribed_on > today:
        errors.append(FieldError("prescribed_on", "must not be in the future"))
    if draft.eligibility_basis:
        for index, basis in enumerate(draft.eligibility_basis):
            if basis not in BASIS_ORDER:
                errors.append(
                    FieldError(f"eligibility_basis[{index}]", f"unknown ground {basis!r}; use {', '.join(BASIS_ORDER)}")
                )

    def check_pair(prefix: str, low: int, high: int, lo: int | None, hi: int | None) -> None:
        for suffix, value in (("min", lo), ("max", hi)):
            if value is not None and not low <= value <= high:
                errors.append(FieldError(f"{prefix}_{suffix}", f"must be between {low} and {high}"))
        if lo is not None and hi is not None and lo > hi:
            errors.append(FieldError(f"{prefix}_max", f"must be >= {prefix}_min"))

    check_pair(
        "sessions_per_week",
        s.sessions_per_week_min,
        s.sessions_per_week_max,
        draft.sessions_per_week_min,
        draft.sessions_per_week_max,
    )
    check_pair(
        "session_minutes",
        s.session_minutes_min,
        s.session_minutes_max,
        draft.session_minutes_min,
        draft.session_minutes_max,
    )
    p2_source = cite(s.provenance, "prescription.programme_months", SRC_D1172_2)
    if draft.programme_months is not None:
        if not s.programme_months_min <= draft.programme_months <= s.programme_months_max:
            errors.append(
                FieldError(
                    "programme_months",
                    f"P-2: {s.programme_months_min} to {s.programme_months_max} months (D.1172-2 CSP) / "
                    f"durée de {s.programme_months_min} à {s.programme_months_max} mois",
                )
            )
        else:
            reasons.append(
                Reason(
                    rule="P-2",
                    code="p2_duration_ok",
                    source=p2_source,
                    text_fr=f"Durée du programme : {draft.programme_months} mois (3 à 6 mois, renouvelable).",
                    text_en=f"Programme duration: {draft.programme_months} months (3 to 6, renewable).",
                    kind="pass",
                )
            )
    if draft.sessions_planned is not None and draft.sessions_planned < 1:
        errors.append(FieldError("sessions_planned", "must be >= 1"))
    if draft.target_weekly_minutes is not None and not 0 <= draft.target_weekly_minutes <= 7 * 24 * 60:
        errors.append(FieldError("target_weekly_minutes", "must be between 0 and 10080"))
    for name, limit in (
        ("intensity_detail", s.intensity_detail_max),
        ("precautions", s.precautions_max),
        ("contraindications", s.contraindications_max),
        ("goals", s.goals_max),
    ):
        text = getattr(draft, name)
        if text is not None and len(text) > limit:
            errors.append(FieldError(name, f"at most {limit} characters"))

    level = draft.limitation_level
    if level == "severe" and not draft.severe_criteria:
        errors.append(FieldError("severe_criteria", "required when the level is severe (L-1, L-4)"))
    if level is not None and level != "severe" and draft.severe_criteria:
        errors.append(FieldError("limitation_level", "L-1: a ticked severe criterion makes the level 'severe'"))
    if level == "severe":
        forbidden = sorted(NEVER_SEVERE_KINDS & set(draft.recommended_structure_kinds))
        if forbidden:
            errors.append(
                FieldError(
                    "recommended_structure_kinds",
                    f"P-3 / L-5: {', '.join(forbidden)} cannot be recommended at the severe level (D.1172-3 CSP) / "
                    "structure non autorisée en cas de limitation sévère",
                )
            )
        else:
            reasons.append(
                Reason(
                    rule="P-3",
                    code="p3_kinds_ok",
                    source=SRC_D1172_3,
                    text_fr="Limitation sévère : seules des structures avec professionnels de santé seront proposées.",
                    text_en="Severe limitation: only structures with health professionals are offered.",
                    kind="pass",
                )
            )
    if draft.renews_prescription_id is not None and draft.renews_prescription_id == draft.prescription_id:
        errors.append(FieldError("renews_prescription_id", "a prescription cannot renew itself"))
    if draft.signed_at is not None and (draft.signed_at.tzinfo is None or draft.signed_at.utcoffset() is None):
        errors.append(FieldError("signed_at", "must be timezone-aware"))

    hits: list[LintHit] = []
    warnings: list[Reason] = []
    if consent is not None:
        hits, warnings = lint_prescription(draft, consent)

    if errors:
        return PrescriptionCheck(prescription=None, errors=errors, reasons=reasons, warnings=warnings, lint_hits=hits)

    reasons.insert(
        0,
        Reason(
            rule="P-1",
            code="p1_complete",
            source=SRC_D1172_2,
            text_fr="Prescription complète : type d'activité, durée, fréquence et intensité précisés.",
            text_en="Prescription complete: activity type, duration, frequency and intensity given.",
            kind="pass",
        ),
    )
    assert draft.prescription_id and draft.patient_id and draft.prescriber_id and draft.prescribed_on
    assert draft.eligibility_basis and draft.limitation_level and draft.activity_types and draft.intensity
    assert draft.sessions_per_week_min is not None and draft.sessions_per_week_max is not None
    assert draft.session_minutes_min is not None and draft.session_minutes_max is not None
    assert draft.programme_months is not None and draft.renewable is not None and draft.goals
    assert draft.signed_at is not None and draft.signed_by
    prescription = ApaPrescription(
        prescription_id=draft.prescription_id,
        patient_id=draft.patient_id,
        prescriber_id=draft.prescriber_id,
        prescribed_on=draft.prescribed_on,
        eligibility_basis=tuple(b for b in BASIS_ORDER if b in draft.eligibility_basis),
        limitation_level=draft.limitation_level,
        severe_criteria=tuple(dict.fromkeys(draft.severe_criteria)),
        activity_types=tuple(t for t in ACTIVITY_TYPES if t in draft.activity_types),
        intensity=draft.intensity,
        intensity_detail=draft.intensity_detail,
        sessions_per_week_min=draft.sessions_per_week_min,
        sessions_per_week_max=draft.sessions_per_week_max,
        session_minutes_min=draft.session_minutes_min,
        session_minutes_max=draft.session_minutes_max,
        programme_months=draft.programme_months,
        sessions_planned=draft.sessions_planned,
        renewable=draft.renewable,
        kine_renewal_excluded=draft.kine_renewal_excluded,
        precautions=draft.precautions,
        contraindications=draft.contraindications,
        goals=draft.goals,
        target_weekly_minutes=draft.target_weekly_minutes,
        recommended_structure_kinds=tuple(k for k in STRUCTURE_KINDS if k in draft.recommended_structure_kinds),
        renews_prescription_id=draft.renews_prescription_id,
        form_model_version=draft.form_model_version or s.form_model_version,
        signed_at=draft.signed_at,
        signed_by=draft.signed_by,
    )
    return PrescriptionCheck(prescription=prescription, errors=[], reasons=reasons, warnings=warnings, lint_hits=hits)


def prescription_defaults(settings: PrescriptionSettings) -> PrescriptionDefaults:
    """P-7: editable pre-filled values [to verify: HAS synthesis as reported by La Revue du Praticien]."""
    s = settings
    return PrescriptionDefaults(
        sessions_per_week_min=s.default_sessions_per_week[0],
        sessions_per_week_max=s.default_sessions_per_week[1],
        session_minutes_min=s.default_session_minutes[0],
        session_minutes_max=s.default_session_minutes[1],
        programme_months=s.default_months,
        activity_types=s.default_activity_types,
        intensity=s.default_intensity,
        reasons=[
            Reason(
                rule="P-7",
                code="p7_defaults",
                source=cite(s.provenance, "prescription.default_sessions_per_week", "HAS"),
                text_fr=f"Valeurs proposées, modifiables : {s.default_sessions_per_week[0]} à "
                f"{s.default_sessions_per_week[1]} "
                f"séances par semaine avec au moins un jour de repos, {s.default_session_minutes[0]} à "
                f"{s.default_session_minutes[1]} minutes, sur {s.default_months} mois ; endurance et renforcement, "
                "plus équilibre ou souplesse selon la pathologie.",
                text_en=f"Suggested, editable: {s.default_sessions_per_week[0]}-{s.default_sessions_per_week[1]} "
                "sessions a "
                f"week with at least one rest day, {s.default_session_minutes[0]}-{s.default_session_minutes[1]} "
                f"min, over {s.default_months} months; endurance and strength, plus balance or flexibility as needed.",
                kind="info",
            )
        ],
    )


def renewal_prompt(
    prescription: ApaPrescription,
    referral_status: str,
    today: date,
    settings: PrescriptionSettings,
) -> Reason | None:
    """P-4: a referral still ``in_progress`` within ``cfg:prescription.expiry_warning_days`` of the
    expiry (or past it) prompts the prescriber to renew. None otherwise."""
    if referral_status != "in_progress":
        return None
    expiry = expiry_date(prescription)
    warn_from = expiry - timedelta(days=settings.expiry_warning_days)
    if today < warn_from:
        return None
    source = f"{SRC_D1172_2}; {cite(settings.provenance, 'prescription.expiry_warning_days')}"
    if today >= expiry:
        return Reason(
            rule="P-4",
            code="p4_expired",
            source=source,
            text_fr=f"Prescription échue le {expiry.isoformat()} alors que le programme est en cours : à renouveler.",
            text_en=f"The prescription expired on {expiry.isoformat()} while the programme is in progress: renew it.",
            kind="warning",
        )
    return Reason(
        rule="P-4",
        code="p4_renewal_due",
        source=source,
        text_fr=f"La prescription expire le {expiry.isoformat()} ({(expiry - today).days} jours) : "
        "pensez à la renouveler.",
        text_en=f"The prescription expires on {expiry.isoformat()} (in {(expiry - today).days} days): "
        "consider renewing it.",
        kind="warning",
    )


def check_kine_renewal(
    request: KineRenewalRequest,
    prescription: ApaPrescription,
    reports: Sequence[AssessmentReport],
    earlier_kine_renewals: int,
) -> KineRenewalDecision:
    """P-6 (D.1172-2-1 CSP): allowed only if (a) not excluded by the physician, (b) the patient
    agrees, (c) the programme is used up (renewal) or an adaptation is needed, (d) no earlier
    renewal by a physiotherapist on this prescription, (e) no D.1172-5 document flags a risk.
    Every unmet condition is listed; the prescriber is notified when it is allowed."""
    failed: list[str] = []
    reasons: list[Reason] = []

    def fail(code: str, fr: str, en: str) -> None:
        failed.append(code)
        reasons.append(Reason(rule="P-6", code=code, source=SRC_D1172_2_1, text_fr=fr, text_en=en, kind="fail"))

    if prescription.kine_renewal_excluded:
        fail(
            "p6a_excluded_by_physician",
            "Le médecin a exclu le renouvellement par un masseur-kinésithérapeute.",
            "The physician excluded renewal by a physiotherapist.",
        )
    if not request.patient_agrees:
        fail("p6b_patient_disagrees", "Le patient n'a pas donné son accord.", "The patient has not agreed.")
    if request.kind == "renewal" and not request.programme_used_up:
        fail(
            "p6c_programme_not_used_up",
            "La durée ou le nombre de séances prescrits ne sont pas épuisés.",
            "The prescribed duration or number of sessions is not used up.",
        )
    if request.kind == "adaptation" and not request.adaptation_needed:
        fail(
            "p6c_no_adaptation_needed",
            "Aucune adaptation du type, de l'intensité, de la fréquence ou de la durée n'est justifiée.",
            "No adaptation of type, intensity, frequency or duration is needed.",
        )
    if earlier_kine_renewals > 0:
        fail(
            "p6d_already_renewed",
            "Un renouvellement par un masseur-kinésithérapeute a déjà eu lieu (une seule fois).",
            "A physiotherapist already renewed this prescription (once only).",
        )
    risky = [r.report_id for r in reports if r.flags_risk]
    if risky:
        fail(
            "p6e_risk_flagged",
            "Un compte rendu de l'intervenant signale une difficulté ou un risque : avis du médecin nécessaire.",
            "A provider report flags a difficulty or risk: the physician must decide.",
        )
    rpps = check_rpps(request.physiotherapist_rpps)
    if not rpps.valid:
        fail(
            "p6_rpps_invalid",
            "Numéro RPPS du masseur-kinésithérapeute invalide.",
            "Invalid physiotherapist RPPS number.",
        )
    if not request.physiotherapist_name.strip():
        fail(
            "p6_identity_missing",
            "Identité complète du masseur-kinésithérapeute requise.",
            "The physiotherapist's full identity is required.",
        )
    allowed = not failed
    if allowed:
        reasons.append(
            Reason(
                rule="P-6",
                code="p6_allowed",
                source=SRC_D1172_2_1,
                text_fr="Renouvellement ou adaptation possible par le masseur-kinésithérapeute, qui porte sur la "
                "prescription "
                "son identité, son numéro RPPS, la mention réglementaire, la date et sa signature ; le médecin "
                "prescripteur en est informé.",
                text_en="The physiotherapist may renew or adapt; they write their identity, RPPS number, the mention, "
                "the "
                "date and signature on the prescription; the prescriber is informed.",
                kind="pass",
            )
        )
    return KineRenewalDecision(
        allowed=allowed,
        failed_conditions=failed,
        reasons=reasons,
        mention=KINE_RENEWAL_MENTION,
        notify_prescriber=allowed,
    )


def carry_referrals_to_renewal(
    previous: ApaPrescription,
    renewal: ApaPrescription,
    open_referrals: Sequence[Referral],
) -> list[Referral]:
    """P-5 / C-1: open referrals of ``previous`` move to the renewal with the same recipient, so the
    ``share_referral`` consent for that structure still holds (no new consent needed)."""
    if renewal.renews_prescription_id != previous.prescription_id:
        raise ValueError("the renewal must name the previous prescription in renews_prescription_id (P-5)")
    if renewal.patient_id != previous.patient_id:
        raise ValueError("a renewal concerns the same patient")
    return [
        msgspec.structs.replace(referral, prescription_id=renewal.prescription_id)
        for referral in open_referrals
        if referral.prescription_id == previous.prescription_id
        and referral.status not in ("declined", "completed", "lost_to_follow_up", "cancelled")
    ]
