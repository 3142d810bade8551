"""Consent logic (domain-sport §8.1, C-1, C-6, C-7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest

from shared_core.errors import ValidationFailed
from shared_core.rules.consent import (
    COLLECTION_MODES,
    CONSENT_SCOPES,
    GRANTORS,
    ConsentEvent,
    active_consent,
    consent_event_errors,
)


def t(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 5, day, hour, tzinfo=UTC)


def grant(
    consent_id: str = "c1",
    *,
    scope: str = "share_referral",
    recipient: str | None = "mss-lyon",
    at: datetime | None = None,
    withdrawn_at: datetime | None = None,
    patient_id: str = "p1",
) -> ConsentEvent:
    return ConsentEvent(
        consent_id=consent_id,
        patient_id=patient_id,
        scope=scope,
        recipient=recipient,
        granted_at=at or t(4),
        granted_by="patient",
        collection_mode="electronic",
        withdrawn_at=withdrawn_at,
    )


def test_vocabularies() -> None:
    assert set(CONSENT_SCOPES) == {
        "share_referral",
        "share_reports_with_prescriber",
        "share_reports_with_treating_physician",
        "share_contact_phone",
        "share_contact_email",
        "share_address",
        "share_diagnosis",
    }
    assert all(s.label_fr and s.label_en for s in CONSENT_SCOPES.values())
    assert [code for code, s in CONSENT_SCOPES.items() if s.recipient_required] == ["share_referral"]
    assert set(COLLECTION_MODES) == {"oral_recorded", "electronic", "paper_scanned"}
    assert set(GRANTORS) == {"patient", "legal_representative"}


def test_active_grant_is_returned() -> None:
    event = grant()
    assert active_consent([event], "share_referral", "mss-lyon", t(5)) == event


def test_grant_counts_from_its_instant_not_before() -> None:
    event = grant(at=t(4, 9))
    assert active_consent([event], "share_referral", "mss-lyon", t(4, 9)) == event
    assert active_consent([event], "share_referral", "mss-lyon", t(4, 8)) is None


def test_c1_bound_to_one_recipient() -> None:
    events = [grant(recipient="mss-lyon")]
    assert active_consent(events, "share_referral", "mss-grenoble", t(5)) is None


def test_scope_must_match() -> None:
    events = [grant(scope="share_contact_phone", recipient="mss-lyon")]
    assert active_consent(events, "share_referral", "mss-lyon", t(5)) is None
    assert active_consent(events, "share_contact_phone", "mss-lyon", t(5)) == events[0]
    # An unbound consent only answers an unbound query, and the other way round.
    assert active_consent(events, "share_contact_phone", None, t(5)) is None
    unbound = [grant(scope="share_reports_with_prescriber", recipient=None)]
    assert active_consent(unbound, "share_reports_with_prescriber", None, t(5)) == unbound[0]
    assert active_consent(unbound, "share_reports_with_prescriber", "dr-x", t(5)) is None


def test_c7_withdrawal_on_the_grant_record() -> None:
    event = grant(withdrawn_at=t(10))
    assert active_consent([event], "share_referral", "mss-lyon", t(9)) == event
    # Effective at once: at the withdrawal instant the consent is gone.
    assert active_consent([event], "share_referral", "mss-lyon", t(10)) is None
    assert active_consent([event], "share_referral", "mss-lyon", t(11)) is None


def test_c6_withdrawal_as_a_new_appended_event() -> None:
    original = grant()
    withdrawal = msgspec.structs.replace(original, withdrawn_at=t(10))
    events = [original, withdrawal]
    assert active_consent(events, "share_referral", "mss-lyon", t(9)) == original
    assert active_consent(events, "share_referral", "mss-lyon", t(10)) is None
    assert active_consent(list(reversed(events)), "share_referral", "mss-lyon", t(12)) is None


def test_withdrawal_does_not_let_an_older_grant_revive() -> None:
    old = grant("c-old", at=t(1))
    new = grant("c-new", at=t(5), withdrawn_at=t(8))
    assert active_consent([old, new], "share_referral", "mss-lyon", t(6)) == new
    assert active_consent([old, new], "share_referral", "mss-lyon", t(9)) is None
    # Before the new grant, the old one was in force.
    assert active_consent([old, new], "share_referral", "mss-lyon", t(3)) == old


def test_new_grant_after_withdrawal_counts_again() -> None:
    first = grant("c1", at=t(1), withdrawn_at=t(3))
    second = grant("c2", at=t(6))
    events = [second, first]
    assert active_consent(events, "share_referral", "mss-lyon", t(2)) == first
    assert active_consent(events, "share_referral", "mss-lyon", t(4)) is None
    assert active_consent(events, "share_referral", "mss-lyon", t(7)) == second


def test_latest_grant_wins() -> None:
    a = grant("a", at=t(1))
    b = grant("b", at=t(3))
    assert active_consent([b, a], "share_referral", "mss-lyon", t(5)) == b
    assert active_consent([b, a], "share_referral", "mss-lyon", t(2)) == a


def test_withdrawal_of_another_recipient_does_not_count() -> None:
    lyon = grant("lyon", recipient="mss-lyon")
    grenoble = grant("gre", recipient="mss-grenoble", withdrawn_at=t(6))
    assert active_consent([lyon, grenoble], "share_referral", "mss-lyon", t(7)) == lyon


def test_comparison_is_by_instant_across_offsets() -> None:
    paris = timezone(timedelta(hours=2))
    event = grant(at=datetime(2026, 5, 4, 11, tzinfo=paris))  # 09:00 UTC
    assert active_consent([event], "share_referral", "mss-lyon", datetime(2026, 5, 4, 9, tzinfo=UTC)) == event
    assert (
        active_consent([event], "share_referral", "mss-lyon", datetime(2026, 5, 4, 10, 59, tzinfo=paris))
        is None
    )


def test_empty_events() -> None:
    assert active_consent([], "share_referral", "mss-lyon", t(5)) is None


def test_bad_queries() -> None:
    with pytest.raises(ValueError):
        active_consent([], "share_everything", "mss-lyon", t(5))
    with pytest.raises(ValueError):
        active_consent([], "share_referral", None, t(5))
    with pytest.raises(ValueError):
        active_consent([], "share_referral", "mss-lyon", datetime(2026, 5, 5))


def test_events_of_several_patients_are_refused() -> None:
    with pytest.raises(ValueError):
        active_consent([grant(patient_id="p1"), grant(patient_id="p2")], "share_referral", "mss-lyon", t(5))


def test_malformed_record_never_counts() -> None:
    bad = msgspec.structs.replace(grant(), granted_by="neighbour")
    with pytest.raises(ValidationFailed) as excinfo:
        active_consent([bad], "share_referral", "mss-lyon", t(5))
    assert [e.field for e in excinfo.value.errors] == ["granted_by"]


def test_consent_event_errors_lists_every_problem() -> None:
    assert consent_event_errors(grant()) == []
    event = ConsentEvent(
        consent_id=" ",
        patient_id="",
        scope="share_referral",
        recipient=None,
        granted_at=datetime(2026, 5, 4),
        granted_by="cousin",
        collection_mode="fax",
        withdrawn_at=datetime(2026, 5, 3),
    )
    fields = [e.field for e in consent_event_errors(event)]
    assert fields == [
        "consent_id",
        "patient_id",
        "recipient",
        "granted_by",
        "collection_mode",
        "granted_at",
        "withdrawn_at",
    ]
    unknown_scope = msgspec.structs.replace(grant(), scope="share_everything")
    assert [e.field for e in consent_event_errors(unknown_scope)] == ["scope"]
    early = grant(at=t(5), withdrawn_at=t(4))
    assert [e.field for e in consent_event_errors(early)] == ["withdrawn_at"]


def test_consent_event_is_a_frozen_msgspec_struct() -> None:
    event = grant(withdrawn_at=t(6))
    assert msgspec.json.decode(msgspec.json.encode(event), type=ConsentEvent) == event
    with pytest.raises(AttributeError):
        event.scope = "share_address"  # type: ignore[misc]
