"""Prescriber-side FHIR export of one sport referral (domain-sport §11): the referral, prescription,
structure and reports read from the sport referral tables, turned into plain structs for the pure
builder :func:`sport_referral.fhir.build_referral_bundle`.

Scope and minimisation, as on the prescriber's referral page: the referral's patient must belong
to the actor's organisation (``load_patient``, else "not found"); the D.1172-5 reports are included
only while ``share_reports_with_prescriber`` is in force (C-2); the INS goes in (prescriber side).
Every export is audited with the patient id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.errors import NotFound
from shared_core.rules.consent import ConsentEvent, active_consent
from shared_core.services import audit
from shared_core.services.patients import load_patient
from shared_core.tables import Consent, ConsentWithdrawal, Organisation, Referral, ReferralEvent
from sport_referral.fhir import (
    FhirOrganisation,
    FhirPatient,
    FhirPrescriber,
    FhirPrescription,
    FhirReferral,
    FhirReport,
    build_referral_bundle,
    load_fhir_codes,
)
from sport_referral.model.structures import Structure
from sport_referral.referral_tables import SportPrescription, SportReferralDetail, SportReport
from sport_referral.tables import SportStructure

__all__ = ["referral_bundle"]

WORKFLOW = "sport_referral"


def _consents(session: Session, patient_id: str) -> list[ConsentEvent]:
    rows = session.execute(
        select(Consent, ConsentWithdrawal).outerjoin(ConsentWithdrawal, ConsentWithdrawal.consent_id == Consent.id)
        .where(Consent.patient_id == patient_id).order_by(Consent.granted_at, Consent.id)).all()
    return [ConsentEvent(c.id, c.patient_id, c.scope, c.recipient, c.granted_at, c.granted_by, c.collection_mode,
                         w.withdrawn_at if w else None) for c, w in rows]


def _reason(session: Session, referral: Referral) -> str | None:
    """The reason code of the move into the current status (R-3)."""
    event = session.scalars(select(ReferralEvent).where(ReferralEvent.referral_id == referral.id,
                                                        ReferralEvent.target == referral.status)
                            .order_by(ReferralEvent.at.desc(), ReferralEvent.id.desc()).limit(1)).first()
    return event.reason_code if event is not None else None


def _prescription(row: SportPrescription) -> FhirPrescription:
    data: dict[str, Any] = dict(row.data or {})
    return FhirPrescription(
        id=row.id, prescribed_on=row.prescribed_on, signed_at=row.signed_at,
        activity_types=tuple(data.get("activity_types") or ()), intensity=row.intensity,
        sessions_per_week_min=row.sessions_per_week_min, sessions_per_week_max=row.sessions_per_week_max,
        session_minutes_min=data.get("session_minutes_min"), session_minutes_max=data.get("session_minutes_max"),
        programme_months=row.programme_months, limitation_level=row.limitation_level,
        precautions=data.get("precautions"), goals=data.get("goals"),
        target_weekly_minutes=data.get("target_weekly_minutes"),
    )


def _report(row: SportReport) -> FhirReport:
    return FhirReport(id=row.id, report_type=row.report_type, performed_on=row.performed_on,
                      recorded_at=row.recorded_at, six_minute_walk_m=row.six_minute_walk_m,
                      chair_stand_30s=row.chair_stand_30s, one_leg_stance_s=row.one_leg_stance_s,
                      handgrip_kg=row.handgrip_kg, ricci_gagnon_score=row.ricci_gagnon_score,
                      ricci_gagnon_band=row.ricci_gagnon_band, weekly_activity_minutes=row.weekly_activity_minutes)


def referral_bundle(database: Database, actor: Actor, referral_id: str, *, base_url: str,
                    now: dt.datetime | None = None) -> dict[str, Any]:
    """The FHIR R4 Bundle of one referral, for its prescriber's organisation only (audited)."""
    now = now or utcnow()
    with audit.audited_read(database) as session:
        detail = session.get(SportReferralDetail, referral_id)
        referral = session.get(Referral, referral_id)
        if detail is None or referral is None or referral.workflow != WORKFLOW:
            raise NotFound("Referral not found.")
        patient = load_patient(session, actor, detail.patient_id)
        prescription = session.get(SportPrescription, detail.prescription_id)
        structure_row = session.get(SportStructure, detail.structure_id)
        if prescription is None or structure_row is None:
            raise NotFound("Referral not found.")
        structure = msgspec.convert(structure_row.data, Structure)
        organisation = session.get(Organisation, detail.prescriber_organisation_id)
        shared = active_consent(_consents(session, patient.id), "share_reports_with_prescriber", None, now)
        reports: list[SportReport] = []
        if shared is not None:
            reports = list(session.scalars(select(SportReport).where(SportReport.referral_id == referral_id)
                                           .order_by(SportReport.performed_on, SportReport.id)))
        record = FhirReferral(
            id=referral.id, status=referral.status, reason_code=_reason(session, referral), sent_at=detail.sent_at,
            updated_at=referral.updated_at, prescription=_prescription(prescription),
            patient=FhirPatient(id=patient.id, ins_nir=patient.ins, family_name=patient.family_name,
                                given_names=patient.given_names, birth_date=patient.birth_date, sex=patient.sex),
            prescriber=FhirPrescriber(id=prescription.prescriber_id, name=prescription.prescriber_name,
                                      rpps=prescription.prescriber_rpps,
                                      organisation_id=detail.prescriber_organisation_id,
                                      organisation_name=organisation.name if organisation else None,
                                      organisation_finess=organisation.finess if organisation else None),
            structure=FhirOrganisation(id=structure.structure_id, name=structure.name, kind=structure.kind,
                                       finess_et=structure.finess_et, siret=structure.siret,
                                       esms_category_code=structure.esms_category_code,
                                       referral_email=structure.referral_email, phone=structure.phone),
            reports=tuple(_report(row) for row in reports),
        )
        audit.record(session, actor, "export", "sport_referral", referral.id, patient_id=patient.id,
                     detail="FHIR R4 bundle" + ("" if shared is not None else ", reports withheld (C-2)"))
    return build_referral_bundle(record, load_fhir_codes(), base_url=base_url, generated_at=now, include_ins=True)
