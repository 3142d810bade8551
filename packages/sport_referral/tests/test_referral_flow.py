"""Referral workflow (domain-sport §1.4): R-1, R-2, R-3, R-6, R-7, R-8, R-9, R-10, R-11, R-12, C-7."""

from datetime import UTC, date, datetime, timedelta, timezone

import msgspec
import pytest

from shared_core.errors import Conflict, ValidationFailed
from shared_core.rules.consent import ConsentEvent
from shared_core.rules.workflow import TransitionRefused
from sport_referral.catalogue.loader import load_supervision_matrix
from sport_referral.catalogue.loader_sport import load_prescription_settings
from sport_referral.model.prescription import Referral
from sport_referral.model.structures import Structure
from sport_referral.rules.referral_flow import (
    apply_transition,
    cancel_on_consent_withdrawal,
    check_completion,
    check_single_active,
    lost_to_follow_up_suggestion,
    new_referral_after,
    on_first_open,
    prescriber_notice,
    record_first_session,
    response_reminders,
    send_referral,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SETTINGS = load_prescription_settings().referral
MATRIX = load_supervision_matrix()


def referral(**overrides: object) -> Referral:
    base: dict[str, object] = {
        "referral_id": "ref-1",
        "prescription_id": "p-1",
        "patient_id": "pat-1",
        "structure_id": "mss-31-001",
        "status": "draft",
        "created_at": T0,
    }
    base.update(overrides)
    return Referral(**base)  # type: ignore[arg-type]


def mss(**overrides: object) -> Structure:
    base: dict[str, object] = {
        "structure_id": "mss-31-001",
        "kind": "mss",
        "name": "MSS",
        "postcode": "31400",
        "commune_insee": "31555",
        "accepting_referrals": True,
        "source": "manual",
        "source_licence": "own",
        "referral_email": "accueil@mss.example.fr",
        "professions": frozenset({"apa_teacher"}),
    }
    base.update(overrides)
    return Structure(**base)  # type: ignore[arg-type]


def consent(recipient: str = "mss-31-001", withdrawn_at: datetime | None = None) -> ConsentEvent:
    return ConsentEvent(
        consent_id="c-1",
        patient_id="pat-1",
        scope="share_referral",
        recipient=recipient,
        granted_at=T0 - timedelta(days=1),
        granted_by="patient",
        collection_mode="paper_scanned",
        withdrawn_at=withdrawn_at,
    )


def sent() -> Referral:
    return send_referral(referral(), mss(), [consent()], actor_id="dr-1", at=T0)[0]


def test_r1_send_needs_consent_for_that_structure() -> None:
    with pytest.raises(ValidationFailed) as error:
        send_referral(referral(), mss(), [consent("other-structure")], actor_id="dr-1", at=T0)
    assert [e.field for e in error.value.errors] == ["consent"]
    with pytest.raises(ValidationFailed):
        send_referral(referral(), mss(), [consent(withdrawn_at=T0 - timedelta(hours=1))], actor_id="dr-1", at=T0)
    updated, record = send_referral(referral(), mss(), [consent()], actor_id="dr-1", at=T0)
    assert updated.status == "sent" and updated.sent_at == T0
    assert (record.source, record.target, record.actor_role, record.actor_id) == ("draft", "sent", "prescriber", "dr-1")


def test_r1_refuses_routes_closed_structures_and_l5_in_one_answer() -> None:
    with pytest.raises(ValidationFailed) as error:
        send_referral(
            referral(),
            mss(kind="club", accepting_referrals=False),
            [],
            actor_id="dr-1",
            at=T0,
            limitation_level="severe",
            matrix=MATRIX,
        )
    assert [e.field for e in error.value.errors] == ["consent", "structure_id", "structure_id"]
    assert "L-5" in error.value.errors[2].message
    with pytest.raises(ValidationFailed) as trail:
        send_referral(referral(), mss(kind="trail"), [consent()], actor_id="dr-1", at=T0)
    assert "route" in trail.value.errors[0].message


def test_r2_first_open_by_the_target_structure() -> None:
    at = T0 + timedelta(hours=2)
    untouched, none = on_first_open(sent(), opener_structure_id="someone-else", opener_id="u-9", at=at)
    assert untouched.status == "sent" and none is None
    received, record = on_first_open(sent(), opener_structure_id="mss-31-001", opener_id="u-1", at=at)
    assert received.status == "received" and received.received_at == at and record is not None
    again, nothing = on_first_open(received, opener_structure_id="mss-31-001", opener_id="u-1", at=at)
    assert again is received and nothing is None


def test_r3_decline_needs_a_reason_and_other_needs_text() -> None:
    received = on_first_open(sent(), opener_structure_id="mss-31-001", opener_id="u-1", at=T0)[0]
    with pytest.raises(ValidationFailed):
        apply_transition(received, "declined", actor_role="coordinator", actor_id="u-1", at=T0)
    with pytest.raises(ValidationFailed) as error:
        apply_transition(
            received,
            "declined",
            actor_role="coordinator",
            actor_id="u-1",
            at=T0,
            reason_code="other",
            reason_text="court",
        )
    assert error.value.errors[0].field == "reason_text"
    declined, record = apply_transition(
        received, "declined", actor_role="coordinator", actor_id="u-1", at=T0, reason_code="no_capacity"
    )
    assert declined.status == "declined" and declined.closed_at == T0 and record.reason_code == "no_capacity"


def test_r6_first_session_not_before_acceptance() -> None:
    received = on_first_open(sent(), opener_structure_id="mss-31-001", opener_id="u-1", at=T0)[0]
    accepted, _ = apply_transition(
        received, "accepted", actor_role="coordinator", actor_id="u-1", at=datetime(2026, 1, 8, 14, 0, tzinfo=UTC)
    )
    with pytest.raises(ValidationFailed) as missing:
        apply_transition(accepted, "in_progress", actor_role="coordinator", actor_id="u-1", at=T0)
    assert missing.value.errors[0].field == "first_session_at"
    with pytest.raises(ValidationFailed) as early:
        apply_transition(
            accepted,
            "in_progress",
            actor_role="coordinator",
            actor_id="u-1",
            at=datetime(2026, 1, 9, tzinfo=UTC),
            first_session_at=datetime(2026, 1, 7, 10, tzinfo=UTC),
        )
    assert "R-6" in early.value.errors[0].message
    # Same day as the acceptance (even earlier in the day) is accepted.
    same_day = datetime(2026, 1, 8, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    started, _ = apply_transition(
        accepted,
        "in_progress",
        actor_role="coordinator",
        actor_id="u-1",
        at=datetime(2026, 1, 9, tzinfo=UTC),
        first_session_at=same_day,
    )
    assert started.status == "in_progress" and started.first_session_at == same_day
    via_helper, record = record_first_session(accepted, first_session_at=same_day, actor_id="u-1", at=same_day)
    assert via_helper.status == "in_progress" and (record.source, record.target) == ("accepted", "in_progress")


def in_progress() -> Referral:
    return referral(status="in_progress", sent_at=T0, accepted_at=T0, first_session_at=T0)


def test_r7_suggests_lost_to_follow_up_but_never_changes_status() -> None:
    current = in_progress()
    last = date(2026, 1, 10)
    assert (
        lost_to_follow_up_suggestion(
            current, last_attended_on=last, contact_attempts=2, today=last + timedelta(days=41), settings=SETTINGS
        )
        is None
    )
    assert (
        lost_to_follow_up_suggestion(
            current, last_attended_on=last, contact_attempts=1, today=last + timedelta(days=60), settings=SETTINGS
        )
        is None
    )
    suggestion = lost_to_follow_up_suggestion(
        current, last_attended_on=last, contact_attempts=2, today=last + timedelta(days=42), settings=SETTINGS
    )
    assert suggestion is not None and suggestion.rule == "R-7"
    assert "confirmer" in suggestion.text_fr
    assert current.status == "in_progress"
    never_came = referral(status="accepted", accepted_at=T0)
    assert (
        lost_to_follow_up_suggestion(
            never_came,
            last_attended_on=None,
            contact_attempts=3,
            today=T0.date() + timedelta(days=50),
            settings=SETTINGS,
        )
        is not None
    )
    assert (
        lost_to_follow_up_suggestion(
            referral(status="sent"),
            last_attended_on=None,
            contact_attempts=5,
            today=date(2027, 1, 1),
            settings=SETTINGS,
        )
        is None
    )


def test_r8_completion_needs_final_assessment_or_explained_reason() -> None:
    with pytest.raises(ValidationFailed) as error:
        apply_transition(in_progress(), "completed", actor_role="coordinator", actor_id="u-1", at=T0)
    assert [e.field for e in error.value.errors] == ["final_assessment", "reason_text"]
    done, _ = apply_transition(
        in_progress(), "completed", actor_role="coordinator", actor_id="u-1", at=T0, has_final_assessment=True
    )
    assert done.status == "completed" and done.closed_at == T0
    _, record = apply_transition(
        in_progress(),
        "completed",
        actor_role="coordinator",
        actor_id="u-1",
        at=T0,
        reason_code="completed_without_final_assessment",
        reason_text="Patient a déménagé avant le bilan final",
    )
    assert record.reason_code == "completed_without_final_assessment"
    assert check_completion(False, "completed_without_final_assessment", "court") != []


def test_r9_prescriber_notice_carries_no_free_text() -> None:
    _, record = apply_transition(
        in_progress(),
        "on_hold",
        actor_role="coordinator",
        actor_id="u-1",
        at=T0,
        reason_code="other",
        reason_text="Hospitalisation en psychiatrie pour rechute",
    )
    notice = prescriber_notice("ref-1", record)
    assert (notice.status, notice.previous_status, notice.reason_code) == ("on_hold", "in_progress", "other")
    assert b"psychiatrie" not in msgspec.json.encode(notice)


def test_r10_one_active_referral_per_prescription_and_structure() -> None:
    active = referral(status="received")
    with pytest.raises(Conflict, match="R-10"):
        check_single_active("p-1", "mss-31-001", [active])
    check_single_active("p-1", "mss-31-002", [active])
    check_single_active("p-1", "mss-31-001", [referral(status="declined")])
    declined = referral(status="declined")
    again = new_referral_after(declined, referral_id="ref-2", structure_id="mss-31-002", created_at=T0)
    assert (again.status, again.previous_referral_id, again.prescription_id) == ("draft", "ref-1", "p-1")
    with pytest.raises(Conflict):
        new_referral_after(active, referral_id="ref-3", structure_id="mss-31-002", created_at=T0)
    with pytest.raises(TransitionRefused) as terminal:
        apply_transition(declined, "received", actor_role="coordinator", actor_id="u-1", at=T0)
    assert terminal.value.code == "terminal_state"


def test_r11_reminders() -> None:
    waiting = sent()
    assert response_reminders(waiting, today=T0.date() + timedelta(days=9), settings=SETTINGS) == []
    first = response_reminders(waiting, today=T0.date() + timedelta(days=10), settings=SETTINGS)
    assert [r.recipient for r in first] == ["coordinator"]
    both = response_reminders(waiting, today=T0.date() + timedelta(days=20), settings=SETTINGS)
    assert [r.recipient for r in both] == ["coordinator", "prescriber"]
    assert both[1].reason.rule == "R-11" and both[1].days_waiting == 20
    decided = referral(status="accepted", sent_at=T0)
    assert response_reminders(decided, today=T0.date() + timedelta(days=30), settings=SETTINGS) == []


def test_r12_unlisted_transition_is_refused() -> None:
    with pytest.raises(TransitionRefused) as error:
        apply_transition(sent(), "in_progress", actor_role="coordinator", actor_id="u-1", at=T0)
    assert error.value.code == "transition_not_allowed"
    with pytest.raises(TransitionRefused):
        apply_transition(sent(), "received", actor_role="prescriber", actor_id="dr-1", at=T0)
    with pytest.raises(ValueError, match="R-1"):
        apply_transition(referral(), "sent", actor_role="prescriber", actor_id="dr-1", at=T0)


def test_c7_withdrawal_cancels_open_referrals_to_that_structure() -> None:
    refs = [
        in_progress(),
        referral(referral_id="ref-2", status="completed"),
        referral(referral_id="ref-3", structure_id="other", status="sent", sent_at=T0),
        referral(referral_id="ref-4", status="draft"),
    ]
    out = cancel_on_consent_withdrawal(refs, "mss-31-001", at=T0)
    assert [(r.referral_id, r.status, rec.reason_code, rec.actor_role) for r, rec in out] == [
        ("ref-1", "cancelled", "consent_withdrawn", "system"),
        ("ref-4", "cancelled", "consent_withdrawn", "system"),
    ]
