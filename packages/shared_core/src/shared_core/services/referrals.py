"""Referrals on a shared workflow: create, move through the state machine, read the history.

The workflow definition (states, transitions, who may act, required reasons) is pure data from
``rules/workflow.py``; this module only persists what ``check_transition`` allows, with the event
and the audit row in the same transaction.
"""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import select

from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.errors import Conflict, NotFound
from shared_core.ids import new_id
from shared_core.rules.workflow import Workflow, check_transition
from shared_core.services import audit
from shared_core.tables import Patient, Referral, ReferralEvent


class ReferralEventView(msgspec.Struct, frozen=True):
    source: str | None
    target: str
    actor_id: str
    actor_role: str
    reason_code: str | None
    reason_text: str | None
    at: dt.datetime


class ReferralView(msgspec.Struct, frozen=True):
    id: str
    workflow: str
    patient_id: str
    sender_organisation_id: str | None
    recipient_organisation_id: str
    status: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    events: list[ReferralEventView]


def _view(referral: Referral, events: list[ReferralEvent]) -> ReferralView:
    return ReferralView(
        referral.id, referral.workflow, referral.patient_id, referral.sender_organisation_id,
        referral.recipient_organisation_id, referral.status, referral.version, referral.created_at,
        referral.updated_at,
        [ReferralEventView(e.source, e.target, e.actor_id, e.actor_role, e.reason_code, e.reason_text, e.at)
         for e in events],
    )


def create_referral(database: Database, actor: Actor, workflow: Workflow, *, patient_id: str,
                    recipient_organisation_id: str, sender_organisation_id: str | None) -> ReferralView:
    """Open a referral in the workflow's initial state; the creation is its first event."""
    now = utcnow()
    with database.write() as session:
        if session.get(Patient, patient_id) is None:
            raise NotFound("Patient not found.")
        referral = Referral(id=new_id("R"), workflow=workflow.name, patient_id=patient_id,
                            sender_organisation_id=sender_organisation_id,
                            recipient_organisation_id=recipient_organisation_id, status=workflow.initial,
                            created_by=actor.id, created_at=now, updated_at=now)
        session.add(referral)
        session.flush()
        event = ReferralEvent(referral_id=referral.id, source=None, target=workflow.initial, actor_id=actor.id,
                              actor_role=actor.role, at=now)
        session.add(event)
        audit.record(session, actor, "create", "referral", referral.id, patient_id=patient_id,
                     detail=f"{workflow.name} -> {workflow.initial}")
        return _view(referral, [event])


def transition_referral(
    database: Database,
    actor: Actor,
    workflow: Workflow,
    referral_id: str,
    *,
    target: str,
    workflow_actor: str,
    expected_version: int,
    reason_code: str | None = None,
    reason_text: str | None = None,
) -> ReferralView:
    """Move a referral; a stale ``expected_version`` (someone acted first) is a conflict.

    ``workflow_actor`` is the actor code of the workflow (e.g. "coordinator"), decided by the
    caller from the user's role and relation to the referral; scoping is the caller's job.
    """
    now = utcnow()
    with database.write() as session:
        referral = session.get(Referral, referral_id)
        if referral is None or referral.workflow != workflow.name:
            raise NotFound("Referral not found.")
        if referral.version != expected_version:
            raise Conflict("This referral was updated by someone else. Reload it to see its current status.")
        check_transition(workflow, referral.status, target, workflow_actor, reason_code, reason_text)
        event = ReferralEvent(referral_id=referral.id, source=referral.status, target=target, actor_id=actor.id,
                              actor_role=actor.role, reason_code=reason_code or None,
                              reason_text=(reason_text or "").strip() or None, at=now)
        source = referral.status
        referral.status = target
        referral.updated_at = now
        session.add(event)
        session.flush()
        audit.record(session, actor, "transition", "referral", referral.id, patient_id=referral.patient_id,
                     detail=f"{source} -> {target}" + (f" ({reason_code})" if reason_code else ""))
        events = list(session.scalars(select(ReferralEvent).where(ReferralEvent.referral_id == referral.id)
                                      .order_by(ReferralEvent.id)))
        return _view(referral, events)


def get_referral(database: Database, referral_id: str) -> ReferralView:
    with database.read() as session:
        referral = session.get(Referral, referral_id)
        if referral is None:
            raise NotFound("Referral not found.")
        events = list(session.scalars(select(ReferralEvent).where(ReferralEvent.referral_id == referral.id)
                                      .order_by(ReferralEvent.id)))
        return _view(referral, events)
