"""The sport referral workflow (domain-sport §1.3-§1.4, rules R-1 to R-12, and C-7).

The state machine, R-3 (reason codes, ``other`` needs text) and R-12 (unlisted moves refused,
audit record) are the shared ``SPORT_REFERRAL_WORKFLOW`` and ``check_transition`` /
``record_transition`` of ``shared_core``; this module adds the sport checks around them:
R-1 consent before sending, R-2 first opening, R-6 first-session date, R-7 lost-to-follow-up
suggestion, R-8 final assessment, R-9 prescriber notice, R-10 one active referral per
(prescription, structure), R-11 reminders, C-7 cancellation on consent withdrawal.

Pure functions: the current time and today's date are arguments; nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

import msgspec

from shared_core.errors import Conflict, FieldError, ValidationFailed
from shared_core.rules.consent import ConsentEvent, active_consent
from shared_core.rules.workflow import (
    OTHER_REASON_MIN_TEXT,
    SPORT_REFERRAL_WORKFLOW,
    TransitionRecord,
    check_transition,
    record_transition,
)
from sport_referral.model import Reason, cite
from sport_referral.model.prescription import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    PrescriberNotice,
    Referral,
    ReferralSettings,
    ReferralStatus,
    Reminder,
)
from sport_referral.model.structures import LimitationLevel, Structure
from sport_referral.rules.limitation import supervision_fit
from sport_referral.rules.supervision import SupervisionMatrix

__all__ = [
    "COMPLETED_WITHOUT_FINAL_ASSESSMENT",
    "apply_transition",
    "cancel_on_consent_withdrawal",
    "check_completion",
    "check_single_active",
    "lost_to_follow_up_suggestion",
    "new_referral_after",
    "on_first_open",
    "prescriber_notice",
    "record_first_session",
    "response_reminders",
    "send_referral",
]

SRC_L1110_4 = "Art. L.1110-4 III CSP"
SRC_D1172_5 = "Art. D.1172-5 CSP"
SRC_PRODUCT = "domain-sport §1.4 (valeur par défaut du produit)"
# the reason that lets a referral complete without a final assessment (text required).
COMPLETED_WITHOUT_FINAL_ASSESSMENT = "completed_without_final_assessment"


def _check_aware(at: datetime, name: str = "at") -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name!r} must be timezone-aware")


def check_completion(has_final_assessment: bool, reason_code: str | None, reason_text: str | None) -> list[FieldError]:
    """R-8 [verified, D.1172-5]: ``completed`` needs a final assessment, or the reason
    ``completed_without_final_assessment`` with a text of at least 10 characters."""
    if has_final_assessment:
        return []
    errors: list[FieldError] = []
    if (reason_code or "").strip() != COMPLETED_WITHOUT_FINAL_ASSESSMENT:
        errors.append(
            FieldError(
                "final_assessment",
                "R-8: record the final assessment (D.1172-5 CSP), or give the reason "
                f"'{COMPLETED_WITHOUT_FINAL_ASSESSMENT}' with an explanation / bilan final requis",
            )
        )
    if len((reason_text or "").strip()) < OTHER_REASON_MIN_TEXT:
        errors.append(
            FieldError(
                "reason_text",
                f"R-8: explain in at least {OTHER_REASON_MIN_TEXT} characters why there is no final assessment",
            )
        )
    return errors


def apply_transition(
    referral: Referral,
    target: ReferralStatus,
    *,
    actor_role: str,
    actor_id: str,
    at: datetime,
    reason_code: str | None = None,
    reason_text: str | None = None,
    first_session_at: datetime | None = None,
    has_final_assessment: bool = False,
) -> tuple[Referral, TransitionRecord]:
    """Move ``referral`` to ``target`` and return the new referral with its audit record (R-12).

    Checks, all errors at once where they are field errors: the workflow (409, R-12), the reason
    (R-3), the first session (R-6: required to start, not dated before acceptance) and the final
    assessment (R-8). Sending goes through :func:`send_referral` (R-1).
    """
    _check_aware(at)
    if target == "sent" and referral.status == "draft":
        raise ValueError("use send_referral: sending needs the consent check of R-1")
    check_transition(SPORT_REFERRAL_WORKFLOW, referral.status, target, actor_role, reason_code, reason_text)
    errors: list[FieldError] = []
    if target == "in_progress" and referral.status == "accepted":
        if first_session_at is None:
            errors.append(FieldError("first_session_at", "R-6: the first attended session starts the programme"))
        else:
            _check_aware(first_session_at, "first_session_at")
            accepted = referral.accepted_at
            if accepted is not None and first_session_at.date() < accepted.astimezone(first_session_at.tzinfo).date():
                errors.append(
                    FieldError(
                        "first_session_at",
                        "R-6: the first session cannot be dated before the acceptance "
                        f"({accepted.date().isoformat()}) / "
                        "la première séance ne peut précéder l'acceptation",
                    )
                )
    if target == "completed":
        errors.extend(check_completion(has_final_assessment, reason_code, reason_text))
    if errors:
        raise ValidationFailed(errors, "Transition refused")
    record = record_transition(
        SPORT_REFERRAL_WORKFLOW,
        referral.status,
        target,
        actor_role=actor_role,
        actor_id=actor_id,
        at=at,
        reason_code=reason_code,
        reason_text=reason_text,
    )
    changes: dict[str, object] = {
        "status": target,
        "status_changed_at": record.at,
        "reason_code": record.reason_code,
        "reason_text": record.reason_text,
    }
    if target == "received" and referral.received_at is None:
        changes["received_at"] = record.at
    if target == "accepted":
        changes["accepted_at"] = record.at
    if target == "in_progress" and referral.status == "accepted":
        changes["first_session_at"] = first_session_at
    if target in TERMINAL_STATUSES:
        changes["closed_at"] = record.at
    return msgspec.structs.replace(referral, **changes), record


def send_referral(
    referral: Referral,
    structure: Structure,
    consents: Iterable[ConsentEvent],
    *,
    actor_id: str,
    at: datetime,
    limitation_level: LimitationLevel | None = None,
    matrix: SupervisionMatrix | None = None,
    moderate_conditional: bool = True,
) -> tuple[Referral, TransitionRecord]:
    """R-1 [verified, L.1110-4 III CSP]: a draft is sent only with an active ``share_referral``
    consent for that very structure (422, field ``consent``). Also refused, in the same answer:
    a route (never a referral target, §5.4), a venue without a referral contact (M-6), a structure
    not accepting referrals (M-5) and, when the level and matrix are given, a structure the
    patient's level forbids (L-5, M-1)."""
    _check_aware(at)
    check_transition(SPORT_REFERRAL_WORKFLOW, referral.status, "sent", "prescriber")
    errors: list[FieldError] = []
    if structure.structure_id != referral.structure_id:
        raise ValueError("the structure passed is not the referral's target")
    events = [e for e in consents if e.patient_id == referral.patient_id]
    if active_consent(events, "share_referral", structure.structure_id, at) is None:
        errors.append(
            FieldError(
                "consent",
                "R-1: no active consent to share this referral with this structure (L.1110-4 III CSP) / "
                "consentement du patient au partage avec cette structure requis",
            )
        )
    if structure.kind == "trail":
        errors.append(FieldError("structure_id", "a route is a self-practice destination and receives no referral"))
    elif structure.kind == "venue" and structure.referral_email is None:
        errors.append(FieldError("structure_id", "this practice place has no referral contact (M-6)"))
    elif not structure.accepting_referrals:
        errors.append(FieldError("structure_id", "the structure does not accept referrals at the moment (M-5)"))
    if limitation_level is not None and matrix is not None:
        fit = supervision_fit(limitation_level, structure, matrix, moderate_conditional=moderate_conditional)
        if not fit.ok:
            errors.append(FieldError("structure_id", f"{fit.reason.rule}: {fit.reason.text_en}"))
    if errors:
        raise ValidationFailed(errors, "The referral cannot be sent")
    record = record_transition(
        SPORT_REFERRAL_WORKFLOW, "draft", "sent", actor_role="prescriber", actor_id=actor_id, at=at
    )
    return msgspec.structs.replace(referral, status="sent", sent_at=record.at, status_changed_at=record.at), record


def on_first_open(
    referral: Referral, *, opener_structure_id: str, opener_id: str, at: datetime
) -> tuple[Referral, TransitionRecord | None]:
    """R-2 (product default): the first opening of a ``sent`` referral by a user of the target
    structure sets ``received`` and ``received_at``. Any other opening changes nothing."""
    if referral.status != "sent" or opener_structure_id != referral.structure_id:
        return referral, None
    return apply_transition(referral, "received", actor_role="coordinator", actor_id=opener_id, at=at)


def record_first_session(
    referral: Referral, *, first_session_at: datetime, actor_id: str, at: datetime
) -> tuple[Referral, TransitionRecord]:
    """R-6: recording the first attended session of an ``accepted`` referral moves it to
    ``in_progress``; the session cannot be dated before the acceptance (422 on ``first_session_at``)."""
    return apply_transition(
        referral, "in_progress", actor_role="coordinator", actor_id=actor_id, at=at, first_session_at=first_session_at
    )


def lost_to_follow_up_suggestion(
    referral: Referral,
    *,
    last_attended_on: date | None,
    contact_attempts: int,
    today: date,
    settings: ReferralSettings,
) -> Reason | None:
    """R-7: an ``accepted`` or ``in_progress`` referral with no attended session for
    ``cfg:followup.lost_after_days`` (42) and at least ``cfg:followup.min_contact_attempts`` (2)
    logged attempts → suggest ``lost_to_follow_up``. A person confirms; never automatic."""
    if referral.status not in ("accepted", "in_progress"):
        return None
    if last_attended_on is not None:
        since = last_attended_on
    elif referral.accepted_at is not None:
        since = referral.accepted_at.date()
    else:
        return None
    days = (today - since).days
    if days < settings.lost_after_days or contact_attempts < settings.min_contact_attempts:
        return None
    return Reason(
        rule="R-7",
        code="r7_suggest_lost_to_follow_up",
        source=f"{cite(settings.provenance, 'referral.lost_after_days', SRC_PRODUCT)}",
        text_fr=f"Aucune séance depuis {days} jours et {contact_attempts} tentatives de contact : vous pouvez classer "
        "l'orientation « perdue de vue ». À confirmer par une personne ; rien n'est fait automatiquement.",
        text_en=f"No session for {days} days and {contact_attempts} contact attempts: you may mark the referral lost "
        "to "
        "follow-up. A person confirms; nothing changes automatically.",
        kind="warning",
    )


def check_single_active(
    prescription_id: str,
    structure_id: str,
    existing: Sequence[Referral],
    *,
    ignore_referral_id: str | None = None,
) -> None:
    """R-10: one active (non-terminal, drafts included) referral per (prescription, structure).
    Raises Conflict (409) naming the active referral."""
    for referral in existing:
        if (
            referral.prescription_id == prescription_id
            and referral.structure_id == structure_id
            and referral.status in ACTIVE_STATUSES
            and referral.referral_id != ignore_referral_id
        ):
            raise Conflict(
                f"R-10: referral {referral.referral_id} to this structure is still {referral.status} for this "
                "prescription / une orientation est déjà en cours vers cette structure"
            )


def new_referral_after(
    previous: Referral,
    *,
    referral_id: str,
    structure_id: str,
    created_at: datetime,
    existing: Sequence[Referral] = (),
) -> Referral:
    """R-10: a re-referral is a new draft linked by ``previous_referral_id``; ``declined`` (or any
    final status) is never reopened. The (prescription, structure) pair must have no active referral."""
    _check_aware(created_at, "created_at")
    if previous.status not in TERMINAL_STATUSES:
        raise Conflict(f"R-10: referral {previous.referral_id} is still {previous.status}; it cannot be replaced")
    check_single_active(previous.prescription_id, structure_id, existing)
    return Referral(
        referral_id=referral_id,
        prescription_id=previous.prescription_id,
        patient_id=previous.patient_id,
        structure_id=structure_id,
        status="draft",
        created_at=created_at,
        previous_referral_id=previous.referral_id,
    )


def response_reminders(referral: Referral, *, today: date, settings: ReferralSettings) -> list[Reminder]:
    """R-11: a referral ``sent`` or ``received`` with no decision for ``cfg:sla.response_days`` (10)
    days reminds the coordinator; at twice that delay the prescriber is notified too."""
    if referral.status not in ("sent", "received") or referral.sent_at is None:
        return []
    since = referral.sent_at.date()
    days = (today - since).days
    source = cite(settings.provenance, "referral.response_days", SRC_PRODUCT)
    reminders: list[Reminder] = []
    if days >= settings.response_days:
        reminders.append(
            Reminder(
                referral_id=referral.referral_id,
                recipient="coordinator",
                code="r11_remind_coordinator",
                waiting_since=since,
                days_waiting=days,
                reason=Reason(
                    rule="R-11",
                    code="r11_remind_coordinator",
                    source=source,
                    text_fr=f"Orientation en attente de réponse depuis {days} jours : merci d'accepter ou de refuser.",
                    text_en=f"Referral awaiting an answer for {days} days: please accept or decline.",
                    kind="warning",
                ),
            )
        )
    if days >= 2 * settings.response_days:
        reminders.append(
            Reminder(
                referral_id=referral.referral_id,
                recipient="prescriber",
                code="r11_notify_prescriber",
                waiting_since=since,
                days_waiting=days,
                reason=Reason(
                    rule="R-11",
                    code="r11_notify_prescriber",
                    source=source,
                    text_fr=f"La structure n'a pas répondu depuis {days} jours : vous pouvez la relancer ou orienter "
                    "vers une autre structure.",
                    text_en=f"The structure has not answered for {days} days: follow up or refer elsewhere.",
                    kind="warning",
                ),
            )
        )
    return reminders


def prescriber_notice(referral_id: str, record: TransitionRecord) -> PrescriberNotice:
    """R-9: every transition reaches the prescriber with status, date and reason code only (never
    the free text, never clinical content)."""
    return PrescriberNotice(
        referral_id=referral_id,
        status=record.target,  # type: ignore[arg-type]
        previous_status=record.source,  # type: ignore[arg-type]
        at=record.at,
        reason_code=record.reason_code,
    )


def cancel_on_consent_withdrawal(
    referrals: Sequence[Referral], structure_id: str, *, at: datetime
) -> list[tuple[Referral, TransitionRecord]]:
    """C-7: a withdrawn ``share_referral`` consent cancels every open referral to that structure at
    once (reason ``consent_withdrawn``, actor ``system``)."""
    out: list[tuple[Referral, TransitionRecord]] = []
    for referral in referrals:
        if referral.structure_id == structure_id and referral.status in ACTIVE_STATUSES:
            out.append(
                apply_transition(
                    referral,
                    "cancelled",
                    actor_role="system",
                    actor_id="system:consent",
                    at=at,
                    reason_code="consent_withdrawn",
                )
            )
    return out
