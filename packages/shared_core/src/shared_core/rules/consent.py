"""Consent to share, as pure logic over recorded events (domain-sport §8).

Legal basis (§8): L.1110-4 III CSP, sharing outside the care team needs prior consent; D.1172-5
CSP, reports reach physicians only with the patient's agreement. Product policy (§8): stricter
than the law, every referral needs an explicit consent whatever the recipient.

Events are append-only (C-6): a withdrawal is either a later copy of the grant with
``withdrawn_at`` set, or ``withdrawn_at`` on the grant itself; both forms are read the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import msgspec

from shared_core.errors import FieldError, ValidationFailed

__all__ = [
    "COLLECTION_MODES",
    "CONSENT_SCOPES",
    "GRANTORS",
    "CodeLabel",
    "ConsentEvent",
    "ConsentScopeDef",
    "active_consent",
    "consent_event_errors",
]


class CodeLabel(msgspec.Struct, frozen=True):
    label_fr: str
    label_en: str


class ConsentScopeDef(msgspec.Struct, frozen=True):
    """A consent scope of §8.1. ``recipient_required``: the consent names its one recipient."""

    label_fr: str
    label_en: str
    recipient_required: bool = False


# §8.1 (ConsentScope).
CONSENT_SCOPES: dict[str, ConsentScopeDef] = {
    # C-1: bound to one structure; a new structure needs a new consent.
    "share_referral": ConsentScopeDef(
        "Transmission de l'orientation à la structure",
        "Share the referral with the structure",
        recipient_required=True,
    ),
    "share_reports_with_prescriber": ConsentScopeDef(
        "Transmission des bilans au médecin prescripteur",
        "Share assessment reports with the prescriber",
    ),
    "share_reports_with_treating_physician": ConsentScopeDef(
        "Transmission des bilans au médecin traitant",
        "Share assessment reports with the treating physician",
    ),
    "share_contact_phone": ConsentScopeDef("Transmission du numéro de téléphone", "Share the phone number"),
    "share_contact_email": ConsentScopeDef(
        "Transmission de l'adresse électronique", "Share the e-mail address"
    ),
    "share_address": ConsentScopeDef("Transmission de l'adresse postale", "Share the postal address"),
    # C-4: off by default, names the diagnosis labels in the consent text.
    "share_diagnosis": ConsentScopeDef("Transmission du diagnostic", "Share the diagnosis"),
}

# C-6.
COLLECTION_MODES: dict[str, CodeLabel] = {
    "oral_recorded": CodeLabel("Recueil oral tracé", "Oral, recorded"),
    "electronic": CodeLabel("Recueil électronique", "Electronic"),
    "paper_scanned": CodeLabel("Formulaire papier numérisé", "Paper form, scanned"),
}

# C-6: legal_representative for minors and protected adults ([to verify] rules of representation).
GRANTORS: dict[str, CodeLabel] = {
    "patient": CodeLabel("Le patient", "The patient"),
    "legal_representative": CodeLabel("Le représentant légal", "The legal representative"),
}


class ConsentEvent(msgspec.Struct, frozen=True):
    """One recorded consent (C-6). ``recipient`` is a structure id or a role, or None."""

    consent_id: str
    patient_id: str
    scope: str
    recipient: str | None
    granted_at: datetime
    granted_by: str
    collection_mode: str
    withdrawn_at: datetime | None = None


def _is_aware(moment: datetime) -> bool:
    return moment.tzinfo is not None and moment.utcoffset() is not None


def consent_event_errors(event: ConsentEvent) -> list[FieldError]:
    """Every problem of one event against §8.1 and C-6 (empty list when it is valid)."""
    errors: list[FieldError] = []
    if not event.consent_id.strip():
        errors.append(FieldError("consent_id", "must not be empty"))
    if not event.patient_id.strip():
        errors.append(FieldError("patient_id", "must not be empty"))
    scope = CONSENT_SCOPES.get(event.scope)
    if scope is None:
        errors.append(
            FieldError("scope", f"unknown consent scope {event.scope!r}; valid: {', '.join(CONSENT_SCOPES)}")
        )
    elif scope.recipient_required and not (event.recipient and event.recipient.strip()):
        errors.append(FieldError("recipient", f"a {event.scope!r} consent names its one recipient (C-1)"))
    if event.granted_by not in GRANTORS:
        errors.append(FieldError("granted_by", f"must be one of: {', '.join(GRANTORS)}"))
    if event.collection_mode not in COLLECTION_MODES:
        errors.append(FieldError("collection_mode", f"must be one of: {', '.join(COLLECTION_MODES)}"))
    if not _is_aware(event.granted_at):
        errors.append(FieldError("granted_at", "must be timezone-aware"))
    if event.withdrawn_at is not None:
        if not _is_aware(event.withdrawn_at):
            errors.append(FieldError("withdrawn_at", "must be timezone-aware"))
        elif _is_aware(event.granted_at) and event.withdrawn_at < event.granted_at:
            errors.append(FieldError("withdrawn_at", "a consent cannot be withdrawn before it was granted"))
    return errors


def active_consent(
    events: Iterable[ConsentEvent],
    scope: str,
    recipient: str | None,
    at: datetime,
) -> ConsentEvent | None:
    """The consent in force at ``at`` for (``scope``, ``recipient``), or None.

    - C-1: only an event for exactly this recipient counts; a consent bound to one recipient never
      covers another, and an unbound one (recipient None) only answers a query for None.
    - C-7: a withdrawal is effective at once (``withdrawn_at <= at`` means withdrawn) and speaks
      for the patient's current will: it revokes every grant for the pair made at or before it,
      not only the event that carries it, so an older grant never revives. A grant made after
      the withdrawal counts again.
    - The answer is the latest grant with ``granted_at <= at`` not revoked by then.

    ``events`` are one patient's. Each matching event is checked with :func:`consent_event_errors`
    (ValidationFailed on a bad one): a malformed record must never silently count as consent.
    ``at`` must be timezone-aware.
    """
    if scope not in CONSENT_SCOPES:
        raise ValueError(f"unknown consent scope {scope!r}; valid: {', '.join(CONSENT_SCOPES)}")
    if CONSENT_SCOPES[scope].recipient_required and not recipient:
        raise ValueError(f"a {scope!r} consent is per recipient (C-1): name the recipient")
    if not _is_aware(at):
        raise ValueError("'at' must be timezone-aware")

    matching: list[ConsentEvent] = []
    patients: set[str] = set()
    for event in events:
        patients.add(event.patient_id)
        if len(patients) > 1:
            # One patient's consent must never answer for another: mixing them is a caller bug.
            raise ValueError("consent events of several patients were passed together")
        if event.scope != scope or event.recipient != recipient:
            continue
        errors = consent_event_errors(event)
        if errors:
            raise ValidationFailed(errors, f"invalid consent record {event.consent_id!r}")
        matching.append(event)

    # Earliest withdrawal per consent_id (either representation of C-6), then the latest one
    # that has taken effect at `at`.
    withdrawn: dict[str, datetime] = {}
    for event in matching:
        if event.withdrawn_at is not None:
            current = withdrawn.get(event.consent_id)
            withdrawn[event.consent_id] = (
                event.withdrawn_at if current is None else min(current, event.withdrawn_at)
            )
    effective_withdrawals = [moment for moment in withdrawn.values() if moment <= at]
    last_withdrawal = max(effective_withdrawals, default=None)

    grants = [
        event
        for event in matching
        if event.granted_at <= at and (last_withdrawal is None or event.granted_at > last_withdrawal)
    ]
    if not grants:
        return None
    # Several copies of one grant may exist; prefer the latest grant, then a stable order.
    latest = max(grants, key=lambda event: (event.granted_at, event.consent_id))
    return latest
