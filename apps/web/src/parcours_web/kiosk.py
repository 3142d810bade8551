"""Kiosk mode: a tablet shows one patient's self-report questionnaires and nothing else.

A clinician opens a pass for one patient and a few scales; the tablet gets a link carrying a random
token. The token only lets the tablet answer those scales, once each, within a short time: it reads
no other record, and the pass closes when the last questionnaire is sent.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

import msgspec

from parcours_web.auth.service import token_hash
from parcours_web.auth.tables import KioskPass
from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.errors import FieldError, NotFound, ValidationFailed
from shared_core.scales import ScaleCatalogue
from shared_core.scales.model import Language
from shared_core.services import audit
from shared_core.services.assessments import record_assessment
from shared_core.services.patients import load_patient
from shared_core.tables import Patient


class KioskLink(msgspec.Struct, frozen=True):
    token: str
    patient_id: str
    scale_codes: list[str]
    expires_at: dt.datetime


class KioskState(msgspec.Struct, frozen=True):
    given_name_initial: str
    next_scale: str | None
    remaining: int
    total: int
    expires_at: dt.datetime


def kiosk_scales(catalogue: ScaleCatalogue, locale: Language) -> list[str]:
    """Self-report scales whose full wording is available: the patient must read the real items."""
    return [d.code for d in catalogue.all() if d.rater == "self" and d.text_available(locale)]


def open_pass(database: Database, actor: Actor, catalogue: ScaleCatalogue, patient_id: str,
              scale_codes: Sequence[str], minutes: int, locale: Language) -> KioskLink:
    allowed = set(kiosk_scales(catalogue, locale))
    chosen = [code for code in dict.fromkeys(scale_codes) if code]
    if not chosen:
        raise ValidationFailed([FieldError("scales", "Choose at least one questionnaire.")])
    refused = [code for code in chosen if code not in allowed]
    if refused:
        raise ValidationFailed([FieldError("scales", f"Not available on the kiosk: {', '.join(refused)}.")])
    token = secrets.token_urlsafe(24)
    now = utcnow()
    expires = now + dt.timedelta(minutes=minutes)
    with database.write() as session:
        patient = load_patient(session, actor, patient_id)
        session.add(KioskPass(token_hash=token_hash(token), patient_id=patient.id,
                              organisation_id=patient.organisation_id, scale_codes=chosen, completed_codes=[],
                              created_by=actor.id, created_at=now, expires_at=expires))
        audit.record(session, actor, "create", "kiosk_pass", None, patient_id=patient.id,
                     detail="scales: " + ", ".join(chosen))
    return KioskLink(token, patient_id, chosen, expires)


def _load_pass(database: Database, token: str, *, for_writing: bool) -> tuple[KioskPass, str]:
    """A finished pass can still show its thank-you page; an expired or unknown one shows nothing."""
    now = utcnow()
    with database.read() as session:
        row = session.get(KioskPass, token_hash(token))
        finished = row is not None and row.closed_at is not None
        if row is None or (for_writing and finished) or (not finished and row.expires_at <= now):
            raise NotFound("This questionnaire link has expired or was already used.")
        patient = session.get(Patient, row.patient_id)
        initial = patient.given_names[:1].upper() if patient else ""
        session.expunge(row)
        return row, initial


def kiosk_state(database: Database, token: str) -> KioskState:
    row, initial = _load_pass(database, token, for_writing=False)
    remaining = [code for code in row.scale_codes if code not in row.completed_codes]
    return KioskState(initial, remaining[0] if remaining else None, len(remaining), len(row.scale_codes),
                      row.expires_at)


def submit(database: Database, catalogue: ScaleCatalogue, token: str, scale_code: str,
           items: Sequence[int | None]) -> list[str]:
    """Record one questionnaire from the tablet; returns the alerts it raised."""
    row, _ = _load_pass(database, token, for_writing=True)
    if scale_code not in row.scale_codes or scale_code in row.completed_codes:
        raise NotFound("This questionnaire is not expected on this link.")
    kiosk_actor = Actor(id=f"kiosk:{row.created_by}", role="kiosk", organisation_id=row.organisation_id)
    result = record_assessment(database, kiosk_actor, catalogue, row.patient_id, scale_code, items, source="kiosk")
    with database.write() as session:
        fresh = session.get(KioskPass, row.token_hash)
        if fresh is not None:
            fresh.completed_codes = [*fresh.completed_codes, scale_code]
            if set(fresh.completed_codes) >= set(fresh.scale_codes):
                fresh.closed_at = utcnow()
    return result.alerts
