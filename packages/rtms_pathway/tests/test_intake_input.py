"""Referral form parsing (domain-rtms §1 stage 1, §2.1): every bad field named at once."""

import datetime as dt

import pytest

from rtms_pathway.intake_service import ORIENTATION_MOVES, WORKFLOW, parse_referral_input
from shared_core.errors import ValidationFailed

TODAY = dt.date(2026, 5, 1)
VALID = {"recipient_organisation_id": "org-centre", "family_name": "Martin", "given_names": "Jeanne",
         "birth_date": "1970-01-02", "sex": "F", "reason": "r", "clinical_summary": "c", "current_treatment": "t",
         "question": "q", "urgency": "routine"}


def _fields(raw: dict[str, str | None], *, by_centre: bool = False) -> list[str]:
    with pytest.raises(ValidationFailed) as failure:
        parse_referral_input(raw, TODAY, by_centre=by_centre)
    return [error.field for error in failure.value.errors]


def test_a_blank_referral_names_every_required_field() -> None:
    assert sorted(_fields({})) == sorted(["recipient_organisation_id", "family_name", "given_names", "birth_date",
                                          "sex", "reason", "clinical_summary", "current_treatment", "question",
                                          "urgency"])
    assert "referrer_name" in _fields({}, by_centre=True) and "recipient_organisation_id" not in _fields(
        {}, by_centre=True)


def test_month_precision_episode_start_and_limits() -> None:
    parsed = parse_referral_input(VALID | {"episode_start": "2026-02"}, TODAY, by_centre=False)
    assert parsed.episode_start == dt.date(2026, 2, 1) and parsed.past_trials is None
    assert _fields(VALID | {"episode_start": "2026-13"}) == ["episode_start"]
    assert _fields(VALID | {"episode_start": "2026-06-01"}) == ["episode_start"]
    assert _fields(VALID | {"urgency": "now", "question": "x" * 2001}) == ["question", "urgency"]


def test_the_centre_may_name_its_patient_instead_of_the_identity() -> None:
    parsed = parse_referral_input({k: v for k, v in VALID.items() if k not in ("family_name", "given_names",
                                                                              "birth_date", "sex")}
                                  | {"patient_id": "p-demo00001", "referrer_name": "Dr X"}, TODAY, by_centre=True)
    assert parsed.patient_id == "P-DEMO00001"


def test_every_orientation_maps_to_a_workflow_state() -> None:
    for target, reason in ORIENTATION_MOVES.values():
        assert WORKFLOW.has_state(target)
        assert reason is None or any(reason in t.reason_codes for t in WORKFLOW.transitions if t.target == target)
