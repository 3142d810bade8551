"""rTMS use cases: load, apply the rules, persist and audit in one transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import select

from rtms_pathway.catalogue.loader_clinical import load_clinical_catalogues
from rtms_pathway.rules.triage_api import ContractTriageAnswer, run_contract_triage
from rtms_pathway.tables import TriageRecord
from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.errors import FieldError, PermissionDenied, ValidationFailed
from shared_core.ids import new_id
from shared_core.services import audit
from shared_core.services.patients import load_patient

ORIENTATIONS = ("rtms_indicated", "rtms_with_precautions", "ect_first", "not_eligible_safety",
                "needs_more_information")
# domain-rtms §3.5: an override carries a written reason of at least 20 characters.
OVERRIDE_REASON_MIN = 20
SIGNING_ROLES = frozenset({"psychiatrist"})


class TriageView(msgspec.Struct, frozen=True):
    id: str
    inputs: dict[str, Any]
    proposal: ContractTriageAnswer
    final_orientation: str
    decision: str
    override_reason: str | None
    ruleset_version: str
    decided_by: str
    decided_at: dt.datetime


def propose_triage(raw: dict[str, Any]) -> ContractTriageAnswer:
    """What Parcours proposes for these answers (pure; raises ValidationFailed naming each bad field)."""
    return run_contract_triage(raw, load_clinical_catalogues())


def _view(row: TriageRecord) -> TriageView:
    return TriageView(row.id, dict(row.inputs), msgspec.convert(row.proposal, ContractTriageAnswer),
                      row.final_orientation, row.decision, row.override_reason, row.ruleset_version,
                      row.decided_by, row.decided_at)


def record_triage(database: Database, actor: Actor, patient_id: str, raw: dict[str, Any], *,
                  override_orientation: str | None, override_reason: str | None) -> TriageView:
    """The physician accepts the proposal, or overrides it with a written reason (audited).

    The proposal is recomputed here from the answers: what the browser displayed is never trusted.
    """
    if actor.role not in SIGNING_ROLES:
        raise PermissionDenied("Only a physician of the centre can sign a triage decision.")
    proposal = propose_triage(raw)
    reason = (override_reason or "").strip() or None
    errors: list[FieldError] = []
    if override_orientation and override_orientation != proposal.orientation:
        if override_orientation not in ORIENTATIONS:
            errors.append(FieldError("override_orientation", "Unknown orientation."))
        if reason is None or len(reason) < OVERRIDE_REASON_MIN:
            errors.append(FieldError("override_reason",
                                     "An override needs a written reason of at least 20 characters."))
        decision, final = "overridden", override_orientation
    else:
        decision, final = "accepted", proposal.orientation
        reason = None
    if errors:
        raise ValidationFailed(errors)
    settings = load_clinical_catalogues().settings
    with database.write() as session:
        patient = load_patient(session, actor, patient_id)
        row = TriageRecord(id=new_id("TR"), patient_id=patient.id, inputs=raw,
                           proposal=msgspec.to_builtins(proposal), proposed_orientation=proposal.orientation,
                           final_orientation=final, decision=decision, override_reason=reason,
                           ruleset_version=settings.version, decided_by=actor.id, decided_at=utcnow())
        session.add(row)
        audit.record(session, actor, "triage_" + decision, "rtms_triage", row.id, patient_id=patient.id,
                     detail=f"proposed {proposal.orientation}, decided {final}")
        return _view(row)


def triage_history(database: Database, actor: Actor, patient_id: str) -> list[TriageView]:
    with database.write() as session:
        patient = load_patient(session, actor, patient_id)
        rows = session.scalars(select(TriageRecord).where(TriageRecord.patient_id == patient.id)
                               .order_by(TriageRecord.decided_at.desc())).all()
        audit.record(session, actor, "read", "rtms_triage", None, patient_id=patient.id)
        return [_view(row) for row in rows]
