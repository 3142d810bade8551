"""A generic referral state machine, and the two referral workflows of Parcours.

Workflows are data (states, transitions, who may do them, which reasons they require), checked
by :meth:`Workflow.validate`. :func:`check_transition` applies domain-sport R-3 (reason required,
``other`` needs text) and R-12 (a transition not listed is refused, 409);
:func:`record_transition` returns the audit record R-12 asks for (who, role, when in UTC, from,
to, reason). Everything else a transition depends on (consent R-1, final assessment R-8, first
session date R-6) belongs to the domain services, which call these functions first.

Reason policy (chosen): on a transition that lists ``reason_codes`` a reason is required and must
be one of them. On a transition that lists none, a reason is optional and free; it is kept in
the record, never silently dropped, because some rules need one there (R-8:
``completed_without_final_assessment`` with text). On both, ``other`` needs a text of at least
10 characters (R-3).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from shared_core.errors import Conflict, FieldError, ValidationFailed

__all__ = [
    "OTHER_REASON",
    "OTHER_REASON_MIN_TEXT",
    "RTMS_CANCEL_REASONS",
    "RTMS_DECLINE_REASONS",
    "RTMS_ON_HOLD_REASONS",
    "RTMS_REDIRECT_REASONS",
    "RTMS_REFERRAL_WORKFLOW",
    "SPORT_CANCEL_REASONS",
    "SPORT_DECLINE_REASONS",
    "SPORT_LOST_REASONS",
    "SPORT_ON_HOLD_REASONS",
    "SPORT_REFERRAL_WORKFLOW",
    "StateDef",
    "TransitionDef",
    "TransitionRecord",
    "TransitionRefused",
    "Workflow",
    "check_transition",
    "record_transition",
]

OTHER_REASON = "other"
# domain-sport R-3: free text of at least 10 characters when the reason code is "other".
OTHER_REASON_MIN_TEXT = 10


class StateDef(msgspec.Struct, frozen=True):
    code: str
    label_fr: str
    label_en: str
    terminal: bool = False


class TransitionDef(msgspec.Struct, frozen=True):
    """One allowed move. ``actors`` are role-like codes (``prescriber``, ``coordinator``,
    ``referrer``, ``centre``, ``system``); a non-empty ``reason_codes`` makes a reason required."""

    source: str
    target: str
    actors: frozenset[str]
    reason_codes: tuple[str, ...] = ()
    name: str = ""


class TransitionRefused(Conflict):
    """The transition is not listed, leaves a terminal state, or the actor may not do it (409).

    ``code`` is one of ``unknown_state``, ``terminal_state``, ``transition_not_allowed``,
    ``actor_not_allowed``.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        source: str | None = None,
        target: str | None = None,
        actor: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.source = source
        self.target = target
        self.actor = actor


class Workflow(msgspec.Struct, frozen=True):
    name: str
    initial: str
    states: tuple[StateDef, ...]
    transitions: tuple[TransitionDef, ...]

    def state(self, code: str) -> StateDef:
        """The state ``code``; KeyError when the workflow has no such state."""
        for state in self.states:
            if state.code == code:
                return state
        raise KeyError(f"workflow {self.name!r} has no state {code!r}")

    def has_state(self, code: str) -> bool:
        return any(state.code == code for state in self.states)

    def transition(self, source: str, target: str) -> TransitionDef | None:
        for transition in self.transitions:
            if transition.source == source and transition.target == target:
                return transition
        return None

    def allowed_targets(self, source: str, actor: str) -> list[str]:
        """Targets ``actor`` may move to from ``source``, in definition order (for buttons)."""
        return [t.target for t in self.transitions if t.source == source and actor in t.actors]

    def terminal_codes(self) -> frozenset[str]:
        return frozenset(state.code for state in self.states if state.terminal)

    def validate(self) -> None:
        """Raise ValueError listing every inconsistency of the definition."""
        problems: list[str] = []
        codes = [state.code for state in self.states]
        known = set(codes)
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            problems.append(f"duplicate states: {', '.join(duplicates)}")
        if self.initial not in known:
            problems.append(f"initial state {self.initial!r} is not a state")
        elif self.state(self.initial).terminal:
            problems.append(f"initial state {self.initial!r} is terminal")
        terminal = self.terminal_codes()
        seen: set[tuple[str, str]] = set()
        for t in self.transitions:
            label = f"{t.source} -> {t.target}"
            for end in (t.source, t.target):
                if end not in known:
                    problems.append(f"{label}: unknown state {end!r}")
            if t.source in terminal:
                problems.append(f"{label}: leaves terminal state {t.source!r}")
            if t.source == t.target:
                problems.append(f"{label}: a state cannot move to itself")
            if (t.source, t.target) in seen:
                problems.append(f"{label}: duplicate transition")
            seen.add((t.source, t.target))
            if not t.actors or any(not actor for actor in t.actors):
                problems.append(f"{label}: actors must be non-empty codes")
            if len(set(t.reason_codes)) != len(t.reason_codes) or any(not r for r in t.reason_codes):
                problems.append(f"{label}: reason codes must be distinct non-empty codes")
        sources = {t.source for t in self.transitions}
        for code in codes:
            if code not in terminal and code not in sources:
                problems.append(f"non-terminal state {code!r} has no way out")
        if problems:
            raise ValueError(f"workflow {self.name!r} is inconsistent: " + "; ".join(problems))


def _blank_to_none(text: str | None) -> str | None:
    if text is None:
        return None
    stripped = text.strip()
    return stripped or None


def check_transition(
    workflow: Workflow,
    source: str,
    target: str,
    actor: str,
    reason_code: str | None = None,
    reason_text: str | None = None,
) -> TransitionDef:
    """Return the transition definition when ``actor`` may move ``source`` -> ``target``.

    Raises TransitionRefused (R-12, 409) when the move is not allowed at all or not for this
    actor, and ValidationFailed (422) listing the reason fields that break R-3.
    """
    for state_code in (source, target):
        if not workflow.has_state(state_code):
            raise TransitionRefused(
                f"{workflow.name}: unknown status {state_code!r}",
                code="unknown_state",
                source=source,
                target=target,
                actor=actor,
            )
    if workflow.state(source).terminal:
        raise TransitionRefused(
            f"{workflow.name}: {source!r} is a final status; nothing can follow it",
            code="terminal_state",
            source=source,
            target=target,
            actor=actor,
        )
    transition = workflow.transition(source, target)
    if transition is None:
        raise TransitionRefused(
            f"{workflow.name}: cannot move from {source!r} to {target!r}",
            code="transition_not_allowed",
            source=source,
            target=target,
            actor=actor,
        )
    if actor not in transition.actors:
        allowed = ", ".join(sorted(transition.actors))
        raise TransitionRefused(
            f"{workflow.name}: {actor!r} may not move from {source!r} to {target!r} (allowed: {allowed})",
            code="actor_not_allowed",
            source=source,
            target=target,
            actor=actor,
        )

    errors: list[FieldError] = []
    code = _blank_to_none(reason_code)
    text = _blank_to_none(reason_text)
    if transition.reason_codes:
        expected = ", ".join(transition.reason_codes)
        if code is None:
            errors.append(
                FieldError("reason_code", f"a reason is required to move to {target!r}: {expected}")
            )
        elif code not in transition.reason_codes:
            errors.append(
                FieldError(
                    "reason_code",
                    f"{code!r} is not a reason for moving to {target!r}; use one of: {expected}",
                )
            )
    if code == OTHER_REASON and (text is None or len(text) < OTHER_REASON_MIN_TEXT):
        errors.append(
            FieldError(
                "reason_text",
                f"with the reason 'other', describe it in at least {OTHER_REASON_MIN_TEXT} characters",
            )
        )
    if errors:
        raise ValidationFailed(errors)
    return transition


class TransitionRecord(msgspec.Struct, frozen=True):
    """Who did what when (R-12). ``at`` must be timezone-aware and in UTC."""

    workflow: str
    source: str
    target: str
    actor_role: str
    actor_id: str
    reason_code: str | None
    reason_text: str | None
    at: datetime

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() != timedelta(0):
            raise ValueError("TransitionRecord.at must be a timezone-aware UTC datetime")


def record_transition(
    workflow: Workflow,
    source: str,
    target: str,
    *,
    actor_role: str,
    actor_id: str,
    at: datetime,
    reason_code: str | None = None,
    reason_text: str | None = None,
) -> TransitionRecord:
    """Check the move (see :func:`check_transition`) and return its audit record.

    ``at`` is passed in (rules read no clock); any timezone-aware value is converted to UTC, a
    naive one is refused because its instant is unknown.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("'at' must be timezone-aware")
    if not actor_id.strip():
        raise ValueError("'actor_id' must name who made the change")
    check_transition(workflow, source, target, actor_role, reason_code, reason_text)
    return TransitionRecord(
        workflow=workflow.name,
        source=source,
        target=target,
        actor_role=actor_role,
        actor_id=actor_id,
        reason_code=_blank_to_none(reason_code),
        reason_text=_blank_to_none(reason_text),
        at=at.astimezone(UTC),
    )


# --------------------------------------------------------------------------------------------
# Sport-health referral: domain-sport §1.2-§1.4
# --------------------------------------------------------------------------------------------

# R-4, product default.
SPORT_DECLINE_REASONS: tuple[str, ...] = (
    "no_capacity",
    "limitation_beyond_competence",
    "disability_family_not_accommodated",
    "activity_not_offered",
    "accessibility_insufficient",
    "out_of_catchment_area",
    "patient_unreachable",
    "patient_declined",
    "prescription_incomplete",
    "redirected_to_other_structure",
    OTHER_REASON,
)
# R-5, product defaults.
SPORT_CANCEL_REASONS: tuple[str, ...] = (
    "patient_withdrew",
    "consent_withdrawn",
    "prescriber_cancelled",
    "medical_contraindication",
    "patient_moved",
    "duplicate",
    OTHER_REASON,
)
SPORT_ON_HOLD_REASONS: tuple[str, ...] = (
    "medical_event",
    "patient_request",
    "structure_closure",
    OTHER_REASON,
)
SPORT_LOST_REASONS: tuple[str, ...] = ("repeated_no_show", "unreachable", OTHER_REASON)

_SPORT_STATES = (
    StateDef("draft", "Brouillon", "Draft"),
    StateDef("sent", "Envoyée", "Sent"),
    StateDef("received", "Reçue", "Received"),
    StateDef("accepted", "Acceptée", "Accepted"),
    StateDef("declined", "Refusée", "Declined", terminal=True),
    StateDef("in_progress", "En cours", "In progress"),
    StateDef("on_hold", "En pause", "On hold"),
    StateDef("completed", "Terminée", "Completed", terminal=True),
    StateDef("lost_to_follow_up", "Perdue de vue", "Lost to follow-up", terminal=True),
    StateDef("cancelled", "Annulée", "Cancelled", terminal=True),
)

_PRESCRIBER = frozenset({"prescriber"})
_COORDINATOR = frozenset({"coordinator"})

SPORT_REFERRAL_WORKFLOW = Workflow(
    name="sport_referral",
    initial="draft",
    states=_SPORT_STATES,
    transitions=(
        # R-1 (active share_referral consent) is checked by the sport service before this move.
        TransitionDef("draft", "sent", _PRESCRIBER, name="send"),
        # set automatically when a user of the structure first opens the referral.
        TransitionDef("sent", "received", frozenset({"coordinator", "system"}), name="receive"),
        TransitionDef("received", "accepted", _COORDINATOR, name="accept"),
        # declined is terminal, a re-referral is a new referral.
        TransitionDef("received", "declined", _COORDINATOR, SPORT_DECLINE_REASONS, name="decline"),
        # first session attended (not before accepted_at, checked by the service).
        TransitionDef("accepted", "in_progress", _COORDINATOR, name="start"),
        # §1.3: on_hold is set by the coordinator or the prescriber; in_progress by the coordinator.
        TransitionDef(
            "in_progress",
            "on_hold",
            frozenset({"coordinator", "prescriber"}),
            SPORT_ON_HOLD_REASONS,
            name="pause",
        ),
        TransitionDef("on_hold", "in_progress", _COORDINATOR, name="resume"),
        # R-8 (final assessment, or reason completed_without_final_assessment with text) is the
        # service's check; the optional reason is kept in the record.
        TransitionDef("in_progress", "completed", _COORDINATOR, name="complete"),
        # suggested from accepted or in_progress, always confirmed by a person (no "system").
        TransitionDef("accepted", "lost_to_follow_up", _COORDINATOR, SPORT_LOST_REASONS, name="mark_lost"),
        TransitionDef("in_progress", "lost_to_follow_up", _COORDINATOR, SPORT_LOST_REASONS, name="mark_lost"),
        # §1.2: cancelled possible from any non-terminal state. "system" is C-7: a
        # withdrawn share_referral consent cancels open referrals (consent_withdrawn). A draft is
        # invisible to the structure, so only the prescriber side can cancel it.
        TransitionDef(
            "draft", "cancelled", frozenset({"prescriber", "system"}), SPORT_CANCEL_REASONS, name="cancel"
        ),
        *(
            TransitionDef(
                source,
                "cancelled",
                frozenset({"prescriber", "coordinator", "system"}),
                SPORT_CANCEL_REASONS,
                name="cancel",
            )
            for source in ("sent", "received", "accepted", "in_progress", "on_hold")
        ),
    ),
)


# --------------------------------------------------------------------------------------------
# rTMS centre intake: domain-rtms §1 (referral -> intake & triage -> orientation), §2.2, product
# journeys 1-2. Product design: the centre is one actor ("centre": psychiatrist, secretary),
# the referring physician outside it is "referrer".
# --------------------------------------------------------------------------------------------

# Orientations of §2.2 that send the patient elsewhere, plus a better-placed centre.
RTMS_REDIRECT_REASONS: tuple[str, ...] = (
    "ect_first",  # R-TRI-02/03/04
    "not_eligible_safety",  # R-TRI-01
    "out_of_pathway",  # R-TRI-13: manic/mixed episode or non-mood indication
    "other_centre",
    OTHER_REASON,
)
RTMS_DECLINE_REASONS: tuple[str, ...] = (
    "no_capacity",
    "out_of_catchment_area",
    "information_not_provided",  # R-TRI-06 request left unanswered
    "patient_declined",
    OTHER_REASON,
)
RTMS_CANCEL_REASONS: tuple[str, ...] = (
    "patient_withdrew",
    "referrer_cancelled",
    "patient_moved",
    "duplicate",
    "consent_withdrawn",
    OTHER_REASON,
)
RTMS_ON_HOLD_REASONS: tuple[str, ...] = (
    "precondition_pending",  # §2.2/§2.3: a precondition precaution must be resolved first
    "medical_event",
    "patient_request",
    "centre_closure",
    OTHER_REASON,
)

_CENTRE = frozenset({"centre"})
_ANY_RTMS_ACTOR = frozenset({"referrer", "centre", "system"})

RTMS_REFERRAL_WORKFLOW = Workflow(
    name="rtms_referral",
    initial="received",
    states=(
        StateDef("received", "Reçue", "Received"),
        StateDef("triage_scheduled", "Consultation d'évaluation programmée", "Triage scheduled"),
        StateDef("more_information_requested", "Informations demandées", "More information requested"),
        StateDef("accepted", "Acceptée (indication de rTMS)", "Accepted (triaged for rTMS)"),
        StateDef("redirected", "Réorientée", "Redirected", terminal=True),
        StateDef("declined", "Refusée", "Declined", terminal=True),
        StateDef("cancelled", "Annulée", "Cancelled", terminal=True),
        StateDef("on_hold", "En attente", "On hold"),
        StateDef("completed", "Terminée", "Completed", terminal=True),
    ),
    transitions=(
        TransitionDef("received", "triage_scheduled", _CENTRE, name="schedule_triage"),
        # §2.4 R-TRI-06 needs_more_information: a request (Task) to the referrer.
        TransitionDef("received", "more_information_requested", _CENTRE, name="request_information"),
        # A physician may triage on the file alone.
        TransitionDef("received", "accepted", _CENTRE, name="accept"),
        TransitionDef("received", "redirected", _CENTRE, RTMS_REDIRECT_REASONS, name="redirect"),
        TransitionDef("received", "declined", _CENTRE, RTMS_DECLINE_REASONS, name="decline"),
        TransitionDef("received", "on_hold", _CENTRE, RTMS_ON_HOLD_REASONS, name="pause"),
        TransitionDef("received", "cancelled", _ANY_RTMS_ACTOR, RTMS_CANCEL_REASONS, name="cancel"),
        # §1: "triage re-run on reply": the reply puts the referral back in the intake queue.
        TransitionDef("more_information_requested", "received", _ANY_RTMS_ACTOR, name="information_received"),
        TransitionDef("more_information_requested", "triage_scheduled", _CENTRE, name="schedule_triage"),
        TransitionDef(
            "more_information_requested", "declined", _CENTRE, RTMS_DECLINE_REASONS, name="decline"
        ),
        TransitionDef(
            "more_information_requested", "cancelled", _ANY_RTMS_ACTOR, RTMS_CANCEL_REASONS, name="cancel"
        ),
        # Outcome of the triage consultation (§2.2 orientation, accepted or overridden by the physician).
        TransitionDef("triage_scheduled", "accepted", _CENTRE, name="accept"),
        TransitionDef("triage_scheduled", "redirected", _CENTRE, RTMS_REDIRECT_REASONS, name="redirect"),
        TransitionDef("triage_scheduled", "declined", _CENTRE, RTMS_DECLINE_REASONS, name="decline"),
        TransitionDef("triage_scheduled", "more_information_requested", _CENTRE, name="request_information"),
        TransitionDef("triage_scheduled", "on_hold", _CENTRE, RTMS_ON_HOLD_REASONS, name="pause"),
        TransitionDef("triage_scheduled", "cancelled", _ANY_RTMS_ACTOR, RTMS_CANCEL_REASONS, name="cancel"),
        # Accepted: course planned and delivered; completed once the end-of-course letter is out.
        TransitionDef("accepted", "completed", _CENTRE, name="complete"),
        TransitionDef("accepted", "on_hold", _CENTRE, RTMS_ON_HOLD_REASONS, name="pause"),
        # Once in care the centre records a stop; the referrer asks the centre.
        TransitionDef(
            "accepted", "cancelled", frozenset({"centre", "system"}), RTMS_CANCEL_REASONS, name="cancel"
        ),
        # The machine keeps no history, so resuming names the step to go back to.
        TransitionDef("on_hold", "received", _CENTRE, name="resume"),
        TransitionDef("on_hold", "triage_scheduled", _CENTRE, name="resume"),
        TransitionDef("on_hold", "accepted", _CENTRE, name="resume"),
        TransitionDef("on_hold", "cancelled", _ANY_RTMS_ACTOR, RTMS_CANCEL_REASONS, name="cancel"),
    ),
)
