"""Referral state machine (domain-sport §1.3-§1.4 R-3, R-4, R-5, R-12; rTMS intake)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from itertools import product

import msgspec
import pytest

from shared_core.errors import Conflict, ValidationFailed
from shared_core.rules.workflow import (
    RTMS_CANCEL_REASONS,
    RTMS_REFERRAL_WORKFLOW,
    SPORT_CANCEL_REASONS,
    SPORT_DECLINE_REASONS,
    SPORT_LOST_REASONS,
    SPORT_ON_HOLD_REASONS,
    SPORT_REFERRAL_WORKFLOW,
    StateDef,
    TransitionDef,
    TransitionRecord,
    TransitionRefused,
    Workflow,
    check_transition,
    record_transition,
)

SPORT = SPORT_REFERRAL_WORKFLOW
RTMS = RTMS_REFERRAL_WORKFLOW
AT = datetime(2026, 5, 4, 8, 30, tzinfo=UTC)


def valid_reason(transition: TransitionDef) -> tuple[str | None, str | None]:
    if not transition.reason_codes:
        return None, None
    return transition.reason_codes[0], None


# --- definitions ------------------------------------------------------------------------------


@pytest.mark.parametrize("workflow", [SPORT, RTMS])
def test_shipped_workflows_are_consistent(workflow: Workflow) -> None:
    workflow.validate()


def test_sport_states_follow_section_1_3() -> None:
    assert [s.code for s in SPORT.states] == [
        "draft",
        "sent",
        "received",
        "accepted",
        "declined",
        "in_progress",
        "on_hold",
        "completed",
        "lost_to_follow_up",
        "cancelled",
    ]
    assert SPORT.initial == "draft"
    assert SPORT.terminal_codes() == {"declined", "completed", "lost_to_follow_up", "cancelled"}


SPORT_EDGES = {
    ("draft", "sent"): {"prescriber"},
    ("sent", "received"): {"coordinator", "system"},
    ("received", "accepted"): {"coordinator"},
    ("received", "declined"): {"coordinator"},
    ("accepted", "in_progress"): {"coordinator"},
    ("in_progress", "on_hold"): {"coordinator", "prescriber"},
    ("on_hold", "in_progress"): {"coordinator"},
    ("in_progress", "completed"): {"coordinator"},
    ("accepted", "lost_to_follow_up"): {"coordinator"},
    ("in_progress", "lost_to_follow_up"): {"coordinator"},
    ("draft", "cancelled"): {"prescriber", "system"},
    ("sent", "cancelled"): {"prescriber", "coordinator", "system"},
    ("received", "cancelled"): {"prescriber", "coordinator", "system"},
    ("accepted", "cancelled"): {"prescriber", "coordinator", "system"},
    ("in_progress", "cancelled"): {"prescriber", "coordinator", "system"},
    ("on_hold", "cancelled"): {"prescriber", "coordinator", "system"},
}


def test_sport_transition_table_is_exactly_the_documented_one() -> None:
    assert {(t.source, t.target): set(t.actors) for t in SPORT.transitions} == SPORT_EDGES


def test_sport_reason_lists() -> None:
    assert SPORT.transition("received", "declined") is not None
    assert SPORT.transition("received", "declined").reason_codes == SPORT_DECLINE_REASONS  # type: ignore[union-attr]
    assert len(SPORT_DECLINE_REASONS) == 11
    assert SPORT_CANCEL_REASONS == (
        "patient_withdrew",
        "consent_withdrawn",
        "prescriber_cancelled",
        "medical_contraindication",
        "patient_moved",
        "duplicate",
        "other",
    )
    assert SPORT_ON_HOLD_REASONS == ("medical_event", "patient_request", "structure_closure", "other")
    assert SPORT_LOST_REASONS == ("repeated_no_show", "unreachable", "other")
    # exactly the moves to declined, on_hold, lost_to_follow_up and cancelled need a reason.
    needing = {(t.source, t.target) for t in SPORT.transitions if t.reason_codes}
    assert {target for _, target in needing} == {"declined", "on_hold", "lost_to_follow_up", "cancelled"}
    assert all(t.reason_codes for t in SPORT.transitions if t.target in {"declined", "on_hold", "cancelled"})


def test_cancelled_reachable_from_every_non_terminal_state() -> None:
    for workflow in (SPORT, RTMS):
        for state in workflow.states:
            if not state.terminal:
                assert workflow.transition(state.code, "cancelled") is not None, (workflow.name, state.code)


def test_rtms_states_and_terminals() -> None:
    assert RTMS.initial == "received"
    assert {s.code for s in RTMS.states} == {
        "received",
        "triage_scheduled",
        "more_information_requested",
        "accepted",
        "redirected",
        "declined",
        "cancelled",
        "on_hold",
        "completed",
    }
    assert RTMS.terminal_codes() == {"redirected", "declined", "cancelled", "completed"}
    # Moves to redirected, declined, cancelled and on_hold always ask for a reason.
    for t in RTMS.transitions:
        if t.target in {"redirected", "declined", "cancelled", "on_hold"}:
            assert t.reason_codes, (t.source, t.target)
        else:
            assert not t.reason_codes, (t.source, t.target)
    assert "ect_first" in RTMS.transition("received", "redirected").reason_codes  # type: ignore[union-attr]
    assert "not_eligible_safety" in RTMS.transition("triage_scheduled", "redirected").reason_codes  # type: ignore[union-attr]


def test_state_lookup_and_labels() -> None:
    assert SPORT.state("lost_to_follow_up") == StateDef(
        "lost_to_follow_up", "Perdue de vue", "Lost to follow-up", True
    )
    with pytest.raises(KeyError):
        SPORT.state("archived")
    assert all(s.label_fr and s.label_en for s in (*SPORT.states, *RTMS.states))


def test_allowed_targets_by_actor() -> None:
    assert SPORT.allowed_targets("received", "coordinator") == ["accepted", "declined", "cancelled"]
    assert SPORT.allowed_targets("received", "prescriber") == ["cancelled"]
    assert SPORT.allowed_targets("draft", "coordinator") == []
    assert SPORT.allowed_targets("completed", "coordinator") == []
    assert SPORT.allowed_targets("in_progress", "prescriber") == ["on_hold", "cancelled"]
    assert RTMS.allowed_targets("more_information_requested", "referrer") == ["received", "cancelled"]


def test_workflows_round_trip_through_msgspec() -> None:
    data = msgspec.json.encode(SPORT)
    assert msgspec.json.decode(data, type=Workflow) == SPORT


# --- every allowed transition ----------------------------------------------------------------

ALL_ALLOWED = [
    pytest.param(workflow, t, actor, id=f"{workflow.name}:{t.source}->{t.target}:{actor}")
    for workflow in (SPORT, RTMS)
    for t in workflow.transitions
    for actor in sorted(t.actors)
]


@pytest.mark.parametrize(("workflow", "transition", "actor"), ALL_ALLOWED)
def test_every_allowed_transition_passes(workflow: Workflow, transition: TransitionDef, actor: str) -> None:
    code, text = valid_reason(transition)
    assert check_transition(workflow, transition.source, transition.target, actor, code, text) is transition
    record = record_transition(
        workflow,
        transition.source,
        transition.target,
        actor_role=actor,
        actor_id="u-1",
        at=AT,
        reason_code=code,
    )
    assert (record.source, record.target, record.actor_role, record.reason_code) == (
        transition.source,
        transition.target,
        actor,
        code,
    )


def test_every_unlisted_pair_is_refused() -> None:
    # a transition not listed is rejected (409), for every pair of states and actor.
    actors = ("prescriber", "coordinator", "referrer", "centre", "system", "observer")
    for workflow in (SPORT, RTMS):
        codes = [s.code for s in workflow.states]
        for source, target, actor in product(codes, codes, actors):
            t = workflow.transition(source, target)
            if t is not None and actor in t.actors:
                continue
            with pytest.raises(TransitionRefused):
                check_transition(workflow, source, target, actor, "other", "a long enough reason text")


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "target", "actor", "code"),
    [
        ("draft", "accepted", "prescriber", "transition_not_allowed"),
        ("sent", "accepted", "coordinator", "transition_not_allowed"),  # must be received first
        ("accepted", "completed", "coordinator", "transition_not_allowed"),
        ("on_hold", "completed", "coordinator", "transition_not_allowed"),
        ("draft", "sent", "coordinator", "actor_not_allowed"),
        ("received", "accepted", "prescriber", "actor_not_allowed"),
        ("in_progress", "lost_to_follow_up", "system", "actor_not_allowed"),  # never automatic
        ("declined", "received", "coordinator", "terminal_state"),
        ("completed", "in_progress", "coordinator", "terminal_state"),
        ("cancelled", "draft", "prescriber", "terminal_state"),
        ("sent", "archived", "prescriber", "unknown_state"),
        ("limbo", "sent", "prescriber", "unknown_state"),
    ],
)
def test_refused_transitions(source: str, target: str, actor: str, code: str) -> None:
    with pytest.raises(TransitionRefused) as excinfo:
        check_transition(SPORT, source, target, actor, None, None)
    error = excinfo.value
    assert isinstance(error, Conflict)
    assert error.code == code
    assert (error.source, error.target, error.actor) == (source, target, actor)
    assert error.message


def test_actor_refusal_names_who_may() -> None:
    with pytest.raises(TransitionRefused) as excinfo:
        check_transition(SPORT, "draft", "sent", "coordinator", None, None)
    assert "prescriber" in excinfo.value.message


# --- reasons (R-3) ----------------------------------------------------------------------------


def field_errors(exc: ValidationFailed) -> dict[str, str]:
    return {e.field: e.message for e in exc.errors}


def test_reason_required() -> None:
    for code in (None, "", "   "):
        with pytest.raises(ValidationFailed) as excinfo:
            check_transition(SPORT, "received", "declined", "coordinator", code, None)
        errors = field_errors(excinfo.value)
        assert set(errors) == {"reason_code"}
        assert "no_capacity" in errors["reason_code"]


def test_reason_must_be_in_the_list() -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        check_transition(SPORT, "received", "declined", "coordinator", "patient_withdrew", None)
    assert "patient_withdrew" in field_errors(excinfo.value)["reason_code"]
    # An on-hold reason is not a cancel reason.
    with pytest.raises(ValidationFailed):
        check_transition(SPORT, "in_progress", "cancelled", "coordinator", "medical_event", None)


def test_other_needs_ten_characters_of_text() -> None:
    for text in (None, "", "too short", "   short   "):
        with pytest.raises(ValidationFailed) as excinfo:
            check_transition(SPORT, "in_progress", "on_hold", "prescriber", "other", text)
        assert set(field_errors(excinfo.value)) == {"reason_text"}
    assert check_transition(SPORT, "in_progress", "on_hold", "prescriber", "other", "0123456789")
    assert check_transition(SPORT, "in_progress", "on_hold", "prescriber", "other", "  hospitalised  ")


def test_every_reason_of_every_transition_is_accepted() -> None:
    for workflow in (SPORT, RTMS):
        for t in workflow.transitions:
            for code in t.reason_codes:
                actor = sorted(t.actors)[0]
                check_transition(workflow, t.source, t.target, actor, code, "explained in enough words")


def test_optional_reason_on_a_transition_without_reason_list_is_kept() -> None:
    # completing without a final assessment needs this reason with text; the service decides
    # when, the workflow keeps it in the audit record.
    record = record_transition(
        SPORT,
        "in_progress",
        "completed",
        actor_role="coordinator",
        actor_id="coord-7",
        at=AT,
        reason_code="completed_without_final_assessment",
        reason_text="patient moved abroad before the final session",
    )
    assert record.reason_code == "completed_without_final_assessment"
    assert record.reason_text == "patient moved abroad before the final session"
    # No reason at all is fine there.
    assert check_transition(SPORT, "received", "accepted", "coordinator") is SPORT.transition(
        "received", "accepted"
    )
    # "other" still needs its text everywhere.
    with pytest.raises(ValidationFailed):
        check_transition(SPORT, "received", "accepted", "coordinator", "other", "short")


def test_rtms_reasons() -> None:
    check_transition(RTMS, "triage_scheduled", "redirected", "centre", "ect_first", None)
    with pytest.raises(ValidationFailed):
        check_transition(RTMS, "triage_scheduled", "redirected", "centre", None, None)
    with pytest.raises(ValidationFailed):
        check_transition(RTMS, "received", "declined", "centre", "ect_first", None)
    for code in RTMS_CANCEL_REASONS:
        check_transition(RTMS, "on_hold", "cancelled", "referrer", code, "referrer explains why")
    with pytest.raises(TransitionRefused):
        check_transition(RTMS, "accepted", "cancelled", "referrer", "patient_withdrew", None)


# --- records ----------------------------------------------------------------------------------


def test_record_is_utc_and_complete() -> None:
    paris = timezone(timedelta(hours=2))
    record = record_transition(
        SPORT,
        "received",
        "declined",
        actor_role="coordinator",
        actor_id="coord-1",
        at=datetime(2026, 5, 4, 10, 30, tzinfo=paris),
        reason_code="no_capacity",
        reason_text="  ",
    )
    assert record == TransitionRecord(
        workflow="sport_referral",
        source="received",
        target="declined",
        actor_role="coordinator",
        actor_id="coord-1",
        reason_code="no_capacity",
        reason_text=None,
        at=datetime(2026, 5, 4, 8, 30, tzinfo=UTC),
    )
    assert record.at.utcoffset() == timedelta(0)


def test_record_refuses_naive_time_and_missing_actor() -> None:
    with pytest.raises(ValueError):
        record_transition(
            SPORT, "draft", "sent", actor_role="prescriber", actor_id="p-1", at=datetime(2026, 5, 4)
        )
    with pytest.raises(ValueError):
        record_transition(SPORT, "draft", "sent", actor_role="prescriber", actor_id=" ", at=AT)


def test_record_checks_the_transition() -> None:
    with pytest.raises(TransitionRefused):
        record_transition(SPORT, "draft", "completed", actor_role="prescriber", actor_id="p-1", at=AT)
    with pytest.raises(ValidationFailed):
        record_transition(SPORT, "sent", "cancelled", actor_role="prescriber", actor_id="p-1", at=AT)


def test_transition_record_requires_utc() -> None:
    common = {
        "workflow": "sport_referral",
        "source": "draft",
        "target": "sent",
        "actor_role": "prescriber",
        "actor_id": "p-1",
        "reason_code": None,
        "reason_text": None,
    }
    with pytest.raises(ValueError):
        TransitionRecord(**common, at=datetime(2026, 5, 4, 8, 30))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        TransitionRecord(**common, at=datetime(2026, 5, 4, 8, 30, tzinfo=timezone(timedelta(hours=2))))  # type: ignore[arg-type]
    record = TransitionRecord(**common, at=AT)  # type: ignore[arg-type]
    assert msgspec.json.decode(msgspec.json.encode(record), type=TransitionRecord) == record
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(
            msgspec.json.encode(record).replace(b"Z", b"+02:00"),
            type=TransitionRecord,
        )


# --- validate() -------------------------------------------------------------------------------


def states(*codes: str, terminal: tuple[str, ...] = ()) -> tuple[StateDef, ...]:
    return tuple(StateDef(c, c, c, c in terminal) for c in codes)


def test_validate_accepts_a_minimal_workflow() -> None:
    Workflow(
        "mini",
        "a",
        states("a", "b", terminal=("b",)),
        (TransitionDef("a", "b", frozenset({"x"})),),
    ).validate()


X = frozenset({"x"})
A_B = TransitionDef("a", "b", X)
AB_TERMINAL_B = states("a", "b", terminal=("b",))


@pytest.mark.parametrize(
    ("workflow", "fragment"),
    [
        (Workflow("w", "z", AB_TERMINAL_B, (A_B,)), "initial state 'z'"),
        (Workflow("w", "b", AB_TERMINAL_B, (A_B,)), "is terminal"),
        (Workflow("w", "a", AB_TERMINAL_B, (TransitionDef("a", "c", X),)), "unknown state 'c'"),
        (Workflow("w", "a", AB_TERMINAL_B, (A_B, TransitionDef("b", "a", X))), "leaves terminal state 'b'"),
        (
            Workflow("w", "a", AB_TERMINAL_B, (A_B, TransitionDef("a", "b", frozenset({"y"})))),
            "duplicate transition",
        ),
        (Workflow("w", "a", states("a", "a", "b", terminal=("b",)), (A_B,)), "duplicate states"),
        (Workflow("w", "a", AB_TERMINAL_B, (TransitionDef("a", "b", frozenset()),)), "actors"),
        (Workflow("w", "a", AB_TERMINAL_B, (TransitionDef("a", "b", X, ("r", "r")),)), "reason codes"),
        (Workflow("w", "a", AB_TERMINAL_B, (TransitionDef("a", "a", X), A_B)), "itself"),
        (Workflow("w", "a", states("a", "b", "c", terminal=("b",)), (A_B,)), "'c' has no way out"),
    ],
)
def test_validate_catches_bad_definitions(workflow: Workflow, fragment: str) -> None:
    with pytest.raises(ValueError, match="inconsistent") as excinfo:
        workflow.validate()
    assert fragment in str(excinfo.value)
