"""Consent records: append-only grants and withdrawals (domain-sport §8, C-6 and C-7)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.errors import FieldError, NotFound, ValidationFailed
from shared_core.ids import new_id
from shared_core.rules.consent import COLLECTION_MODES, CONSENT_SCOPES, GRANTORS, ConsentEvent, active_consent
from shared_core.services import audit
from shared_core.services.patients import load_patient
from shared_core.tables import Consent, ConsentWithdrawal


def _events(session_rows: list[tuple[Consent, ConsentWithdrawal | None]]) -> list[ConsentEvent]:
    return [
        ConsentEvent(consent.id, consent.patient_id, consent.scope, consent.recipient, consent.granted_at,
                     consent.granted_by, consent.collection_mode,
                     withdrawal.withdrawn_at if withdrawal else None)
        for consent, withdrawal in session_rows
    ]


def record_consent(database: Database, actor: Actor, patient_id: str, *, scope: str, recipient: str | None,
                   granted_by: str, collection_mode: str, notice_version: str,
                   granted_at: dt.datetime | None = None) -> ConsentEvent:
    errors = []
    scope_def = CONSENT_SCOPES.get(scope)
    if scope_def is None:
        errors.append(FieldError("scope", "Unknown consent scope."))
    elif scope_def.recipient_required and not recipient:
        errors.append(FieldError("recipient", "This consent must name its recipient."))
    if granted_by not in GRANTORS:
        errors.append(FieldError("granted_by", "Say who gave the consent."))
    if collection_mode not in COLLECTION_MODES:
        errors.append(FieldError("collection_mode", "Say how the consent was collected."))
    if not notice_version.strip():
        errors.append(FieldError("notice_version", "The information notice version is required."))
    now = utcnow()
    at = granted_at or now
    if at > now + dt.timedelta(minutes=5):
        errors.append(FieldError("granted_at", "A consent cannot be dated in the future."))
    if errors:
        raise ValidationFailed(errors)
    with database.write() as session:
        patient = load_patient(session, actor, patient_id)
        row = Consent(id=new_id("C"), patient_id=patient.id, scope=scope, recipient=recipient, granted_at=at,
                      granted_by=granted_by, collection_mode=collection_mode, notice_version=notice_version.strip(),
                      recorded_by=actor.id, recorded_at=now)
        session.add(row)
        audit.record(session, actor, "create", "consent", row.id, patient_id=patient.id,
                     detail=f"{scope} for {recipient or '-'}")
        return ConsentEvent(row.id, row.patient_id, scope, recipient, at, granted_by, collection_mode)


def withdraw_consent(database: Database, actor: Actor, patient_id: str, consent_id: str) -> None:
    """Effective at once and for the future; the grant row itself is never changed."""
    with database.write() as session:
        patient = load_patient(session, actor, patient_id)
        consent = session.get(Consent, consent_id)
        if consent is None or consent.patient_id != patient.id:
            raise NotFound("Consent not found.")
        if session.get(ConsentWithdrawal, consent_id) is None:
            session.add(ConsentWithdrawal(consent_id=consent_id, withdrawn_at=utcnow(), recorded_by=actor.id))
            audit.record(session, actor, "withdraw", "consent", consent_id, patient_id=patient.id,
                         detail=consent.scope)


def patient_consents(database: Database, actor: Actor, patient_id: str) -> list[ConsentEvent]:
    with database.read() as session:
        patient = load_patient(session, actor, patient_id)
        rows = session.execute(
            select(Consent, ConsentWithdrawal).outerjoin(ConsentWithdrawal, ConsentWithdrawal.consent_id == Consent.id)
            .where(Consent.patient_id == patient.id).order_by(Consent.granted_at)
        ).all()
        return _events([(consent, withdrawal) for consent, withdrawal in rows])


def consent_in_force(database: Database, actor: Actor, patient_id: str, scope: str, recipient: str | None,
                     at: dt.datetime | None = None) -> ConsentEvent | None:
    return active_consent(patient_consents(database, actor, patient_id), scope, recipient, at or utcnow())
