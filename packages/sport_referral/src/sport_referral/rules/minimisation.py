"""Data minimisation for the receiving structure (domain-sport §8, C-3, C-4, C-5, C-7).

:func:`coordinator_view` builds what a coordinator of the target structure may see from the full
prescriber-side referral file and the patient's consent events. It copies an explicit allow-list
of fields into dedicated structs (:class:`CoordinatorReferralView`) that have **no field** able to
hold a diagnosis, the eligibility basis, the severe-criteria checklist (L-4), medication, rTMS
course data, scale scores, the INS/NIR or any other clinical record: nothing is copied wholesale,
so a field added to the file later cannot leak by accident. Even ``share_diagnosis`` does not
widen this view (the diagnosis, when shared at all, travels as a separate, explicit disclosure).

:func:`lint_free_text` is the C-5 check of ``precautions``, ``contraindications`` and ``goals``
against ``cfg:consent.sensitive_terms``: a warning for the physician, never a block.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from shared_core.errors import NotFound
from shared_core.rules.consent import ConsentEvent, active_consent
from shared_core.text import fold
from sport_referral.model import Reason, cite
from sport_referral.model.prescription import (
    ApaPrescription,
    ConsentSettings,
    CoordinatorPatient,
    CoordinatorPrescriber,
    CoordinatorPrescription,
    CoordinatorReferralStub,
    CoordinatorReferralView,
    LintHit,
    PrescriptionDraft,
    ReferralFile,
    SensitiveTerm,
)
from sport_referral.model.structures import ACCESS_FEATURES, DISABILITY_FAMILIES, Weekday

__all__ = [
    "LINTED_FIELDS",
    "coordinator_view",
    "lint_free_text",
    "lint_prescription",
]

SRC_L1110_4 = "Art. L.1110-4 III CSP (partage hors équipe de soins : consentement préalable)"
# C-5: the free-text fields of §4.1 that the structure reads.
LINTED_FIELDS: tuple[str, ...] = ("precautions", "contraindications", "goals")
_FIELD_FR = {
    "precautions": "précautions",
    "contraindications": "contre-indications",
    "goals": "objectifs",
    "intensity_detail": "précision sur l'intensité",
}
_WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _events_of(file: ReferralFile, consents: Iterable[ConsentEvent]) -> list[ConsentEvent]:
    # Only this patient's consents can ever speak for this patient.
    return [event for event in consents if event.patient_id == file.referral.patient_id]


def _granted(events: Sequence[ConsentEvent], scope: str, structure_id: str, at: datetime) -> bool:
    return (
        active_consent(events, scope, structure_id, at) is not None
        or active_consent(events, scope, None, at) is not None
    )


def coordinator_view(
    file: ReferralFile,
    consents: Iterable[ConsentEvent],
    at: datetime,
    settings: ConsentSettings,
) -> CoordinatorReferralView | CoordinatorReferralStub:
    """C-3: the coordinator's view of one referral at ``at`` (timezone-aware).

    - A draft is invisible to the structure (§1.3): NotFound.
    - Without an active ``share_referral`` consent for the target structure (C-1, C-7) only a
      stub is returned: referral id, status, dates, "consent withdrawn".
    - Contact channels appear only under their own scope (``share_contact_phone``,
      ``share_contact_email``, ``share_address``), given for this structure or unbound.
    - Year of birth only, unless ``cfg:consent.share_birth_date``.
    """
    referral = file.referral
    if referral.status == "draft":
        raise NotFound("referral not found")
    events = _events_of(file, consents)
    structure_id = referral.structure_id
    if active_consent(events, "share_referral", structure_id, at) is None:
        withdrawn = any(
            e.scope == "share_referral"
            and e.recipient == structure_id
            and e.withdrawn_at is not None
            and e.withdrawn_at <= at
            for e in events
        )
        return CoordinatorReferralStub(
            referral_id=referral.referral_id,
            structure_id=structure_id,
            status=referral.status,
            consent_withdrawn=withdrawn,
            notice_fr="Consentement retiré : les données de cette orientation ne sont plus accessibles."
            if withdrawn
            else "Aucun consentement de partage en vigueur pour cette structure.",
            notice_en="Consent withdrawn: this referral's data is no longer available."
            if withdrawn
            else "No sharing consent in force for this structure.",
            sent_at=referral.sent_at,
            closed_at=referral.closed_at,
        )

    patient = file.patient
    share_address = _granted(events, "share_address", structure_id, at)
    coordinator_patient = CoordinatorPatient(
        family_name=patient.family_name,
        given_names=patient.given_names,
        birth_year=patient.birth_date.year,
        birth_date=patient.birth_date if settings.share_birth_date else None,
        sex=patient.sex,
        commune_insee=patient.commune_insee,
        commune_name=patient.commune_name,
        phone=patient.phone if _granted(events, "share_contact_phone", structure_id, at) else None,
        email=patient.email if _granted(events, "share_contact_email", structure_id, at) else None,
        address_line=patient.address_line if share_address else None,
        postcode=patient.postcode if share_address else None,
    )
    p = file.prescription
    prescription = CoordinatorPrescription(
        prescription_id=p.prescription_id,
        prescribed_on=p.prescribed_on,
        limitation_level=p.limitation_level,
        activity_types=tuple(p.activity_types),
        intensity=p.intensity,
        intensity_detail=p.intensity_detail,
        sessions_per_week_min=p.sessions_per_week_min,
        sessions_per_week_max=p.sessions_per_week_max,
        session_minutes_min=p.session_minutes_min,
        session_minutes_max=p.session_minutes_max,
        programme_months=p.programme_months,
        sessions_planned=p.sessions_planned,
        renewable=p.renewable,
        kine_renewal_excluded=p.kine_renewal_excluded,
        precautions=p.precautions,
        contraindications=p.contraindications,
        goals=p.goals,
        target_weekly_minutes=p.target_weekly_minutes,
        recommended_structure_kinds=tuple(p.recommended_structure_kinds),
        renews_prescription_id=p.renews_prescription_id,
        signed_at=p.signed_at,
    )
    prescriber = CoordinatorPrescriber(
        display_name=file.prescriber.display_name,
        organisation=file.prescriber.organisation,
        professional_phone=file.prescriber.professional_phone,
        professional_email=file.prescriber.professional_email,
    )
    needs = file.needs
    return CoordinatorReferralView(
        referral_id=referral.referral_id,
        structure_id=structure_id,
        status=referral.status,
        eligibility_confirmed=bool(p.eligibility_basis),
        limitation_level=p.limitation_level,
        patient=coordinator_patient,
        prescription=prescription,
        prescriber=prescriber,
        disability_families=tuple(f for f in DISABILITY_FAMILIES if f in needs.disability_families),
        accessibility_needs=tuple(f for f in ACCESS_FEATURES if f in needs.required_features),
        preferred_features=tuple(f for f in ACCESS_FEATURES if f in needs.preferred_features),
        preferred_disciplines=tuple(needs.preferred_disciplines),
        preferred_weekdays=tuple(d for d in _WEEKDAYS if d in needs.preferred_weekdays),
        preferred_format=needs.preferred_format,
        sent_at=referral.sent_at,
        received_at=referral.received_at,
        accepted_at=referral.accepted_at,
        first_session_at=referral.first_session_at,
        closed_at=referral.closed_at,
        reason_code=referral.reason_code,
        previous_referral_id=referral.previous_referral_id,
    )


# --- C-5 lint -----------------------------------------------------------------------------------


def _pattern(term: SensitiveTerm) -> re.Pattern[str]:
    body = re.escape(fold(term.term))
    tail = r"[\w-]*" if term.match == "prefix" else r"(?![\w])"
    return re.compile(r"(?<![\w])" + body + tail)


def lint_free_text(fields: Mapping[str, str | None], terms: Sequence[SensitiveTerm]) -> list[LintHit]:
    """C-5: every sensitive term found in each field (case- and accent-insensitive, word starts only)."""
    hits: list[LintHit] = []
    patterns = [(term, _pattern(term)) for term in terms]
    for field, text in fields.items():
        if not text:
            continue
        folded = fold(text)
        for term, pattern in patterns:
            match = pattern.search(folded)
            if match is not None:
                hits.append(LintHit(field=field, term=term.term, category=term.category, found=match.group(0)))
    return hits


def lint_prescription(
    prescription: ApaPrescription | PrescriptionDraft,
    settings: ConsentSettings,
) -> tuple[list[LintHit], list[Reason]]:
    """C-5 on the structure-visible free text of a prescription: hits plus one warning per field."""
    fields = {name: getattr(prescription, name) for name in (*LINTED_FIELDS, "intensity_detail")}
    hits = lint_free_text(fields, settings.sensitive_terms)
    reasons: list[Reason] = []
    source = cite(settings.provenance, "sensitive_terms", "domain-sport C-5")
    for field in fields:
        found = [hit.term for hit in hits if hit.field == field]
        if not found:
            continue
        listed = ", ".join(f"« {term} »" for term in found)
        reasons.append(
            Reason(
                rule="C-5",
                code=f"c5_sensitive_term:{field}",
                source=f"{SRC_L1110_4}; {source}",
                text_fr=f"Ce texte sera visible par la structure : le champ « {_FIELD_FR[field]} » contient {listed}. "
                "Vérifiez que cette information est nécessaire et que le patient y consent.",
                text_en=f"This text will be visible to the structure: field '{field}' contains "
                + ", ".join(f"'{term}'" for term in found)
                + ". Check it is needed and consented.",
                kind="warning",
            )
        )
    return hits, reasons
