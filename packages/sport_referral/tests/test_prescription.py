"""The APA prescription (domain-sport §4): P-1 to P-7, settings loader."""

from datetime import UTC, date, datetime

import msgspec
import pytest

from sport_referral.catalogue.loader import CatalogueError
from sport_referral.catalogue.loader_sport import (
    load_consent_settings,
    load_prescription_settings,
    reference_entries,
)
from sport_referral.model.eligibility import EligibilityInput
from sport_referral.model.prescription import (
    ApaPrescription,
    AssessmentReport,
    KineRenewalRequest,
    PrescriptionDraft,
    Referral,
)
from sport_referral.rules.eligibility import evaluate_eligibility
from sport_referral.rules.prescription import (
    KINE_RENEWAL_MENTION,
    add_months,
    carry_referrals_to_renewal,
    check_kine_renewal,
    check_prescription,
    expiry_date,
    prescription_defaults,
    renewal_prompt,
)

SETTINGS = load_prescription_settings()
TODAY = date(2026, 1, 30)
SIGNED = datetime(2026, 1, 30, 9, 0, tzinfo=UTC)


def draft(**overrides: object) -> PrescriptionDraft:
    base: dict[str, object] = {
        "prescription_id": "p-1",
        "patient_id": "pat-1",
        "prescriber_id": "10003456789",
        "prescribed_on": TODAY,
        "eligibility_basis": ("chronic_disease", "risk_factor"),
        "limitation_level": "moderate",
        "activity_types": frozenset({"strength", "endurance"}),
        "intensity": "moderate",
        "sessions_per_week_min": 2,
        "sessions_per_week_max": 3,
        "session_minutes_min": 45,
        "session_minutes_max": 60,
        "programme_months": 3,
        "renewable": True,
        "goals": "Marcher 30 minutes sans pause pour aller au marché",
        "signed_at": SIGNED,
        "signed_by": "user-dr-1",
    }
    base.update(overrides)
    return PrescriptionDraft(**base)  # type: ignore[arg-type]


def valid() -> ApaPrescription:
    check = check_prescription(draft(), today=TODAY, settings=SETTINGS)
    assert check.prescription is not None
    return check.prescription


def test_valid_prescription_is_built_in_canonical_order() -> None:
    check = check_prescription(draft(), today=TODAY, settings=SETTINGS)
    assert check.errors == []
    p = check.prescription
    assert p is not None
    assert p.activity_types == ("endurance", "strength")
    assert p.form_model_version == "instruction-2017-81-annexe"
    assert [r.rule for r in check.reasons][:2] == ["P-1", "P-2"]


def test_p1_lists_every_missing_field() -> None:
    check = check_prescription(PrescriptionDraft(), today=TODAY, settings=SETTINGS)
    assert check.prescription is None
    fields = [e.field for e in check.errors]
    for name in (
        "prescription_id",
        "patient_id",
        "prescriber_id",
        "prescribed_on",
        "eligibility_basis",
        "limitation_level",
        "activity_types",
        "intensity",
        "sessions_per_week_min",
        "sessions_per_week_max",
        "session_minutes_min",
        "session_minutes_max",
        "programme_months",
        "renewable",
        "goals",
        "signed_at",
        "signed_by",
    ):
        assert name in fields
    assert len(fields) == len(set(fields)) == 17


@pytest.mark.parametrize(("months", "ok"), [(2, False), (3, True), (6, True), (7, False)])
def test_p2_programme_months(months: int, ok: bool) -> None:
    check = check_prescription(draft(programme_months=months), today=TODAY, settings=SETTINGS)
    assert (check.prescription is not None) == ok
    if not ok:
        assert [e.field for e in check.errors] == ["programme_months"]
        assert "P-2" in check.errors[0].message


def test_p3_severe_refuses_club_venue_trail() -> None:
    check = check_prescription(
        draft(
            limitation_level="severe",
            severe_criteria=("cereb_anxiety_depression",),
            recommended_structure_kinds=frozenset({"club", "mss", "trail"}),
        ),
        today=TODAY,
        settings=SETTINGS,
    )
    assert [e.field for e in check.errors] == ["recommended_structure_kinds"]
    assert "club, trail" in check.errors[0].message
    ok = check_prescription(
        draft(
            limitation_level="severe",
            severe_criteria=("loco_walking",),
            recommended_structure_kinds=frozenset({"apa_practice"}),
        ),
        today=TODAY,
        settings=SETTINGS,
    )
    assert ok.prescription is not None and any(r.rule == "P-3" for r in ok.reasons)


def test_several_field_errors_at_once() -> None:
    check = check_prescription(
        draft(
            sessions_per_week_min=4,
            sessions_per_week_max=2,
            session_minutes_min=5,
            session_minutes_max=200,
            prescribed_on=date(2026, 2, 1),
            limitation_level="severe",
            goals="x" * 501,
            eligibility_basis=("diagnosis_f32",),
        ),
        today=TODAY,
        settings=SETTINGS,
    )
    assert {e.field for e in check.errors} == {
        "sessions_per_week_max",
        "session_minutes_min",
        "session_minutes_max",
        "prescribed_on",
        "severe_criteria",
        "goals",
        "eligibility_basis[0]",
    }


def test_ineligible_patient_cannot_be_prescribed() -> None:
    result = evaluate_eligibility(
        EligibilityInput(
            prescriber_is_physician=True,
            prescriber_involved_in_care=True,
            below_who_recommendations=False,
            cannot_progress_alone=True,
            ald=True,
            chronic_disease=False,
            patient_agrees=True,
        )
    )
    check = check_prescription(draft(), today=TODAY, settings=SETTINGS, eligibility=result)
    assert [e.field for e in check.errors] == ["eligibility"]


def test_c5_lint_warns_but_does_not_block() -> None:
    check = check_prescription(
        draft(
            precautions="Patient suivi pour DÉPRESSION sévère, en cure de rTMS ; score MADRS 32",
            goals="Reprendre confiance (anxiété sociale)",
        ),
        today=TODAY,
        settings=SETTINGS,
        consent=load_consent_settings(),
    )
    assert check.prescription is not None
    terms = {(hit.field, hit.term) for hit in check.lint_hits}
    assert {
        ("precautions", "dépress"),
        ("precautions", "rTMS"),
        ("precautions", "MADRS"),
        ("goals", "anxiété"),
    } <= terms
    assert [w.code for w in check.warnings] == ["c5_sensitive_term:precautions", "c5_sensitive_term:goals"]
    assert all(w.rule == "C-5" and "visible par la structure" in w.text_fr for w in check.warnings)


def test_p4_expiry_and_renewal_prompt() -> None:
    p = valid()
    assert expiry_date(p) == date(2026, 4, 30)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)
    assert add_months(date(2026, 1, 15), -12) == date(2025, 1, 15)
    assert renewal_prompt(p, "in_progress", date(2026, 4, 8), SETTINGS) is None
    due = renewal_prompt(p, "in_progress", date(2026, 4, 9), SETTINGS)  # 21 days before
    assert due is not None and due.code == "p4_renewal_due" and due.rule == "P-4"
    expired = renewal_prompt(p, "in_progress", date(2026, 5, 2), SETTINGS)
    assert expired is not None and expired.code == "p4_expired"
    assert renewal_prompt(p, "accepted", date(2026, 4, 29), SETTINGS) is None


def test_p6_physiotherapist_renewal() -> None:
    p = valid()
    ok = KineRenewalRequest(
        kind="renewal",
        physiotherapist_name="Claire Martin",
        physiotherapist_rpps="10003456789",
        patient_agrees=True,
        programme_used_up=True,
    )
    decision = check_kine_renewal(ok, p, [], 0)
    assert decision.allowed and decision.notify_prescriber
    assert decision.mention == KINE_RENEWAL_MENTION
    bad = KineRenewalRequest(
        kind="renewal",
        physiotherapist_name="Claire Martin",
        physiotherapist_rpps="123",
        patient_agrees=False,
        programme_used_up=False,
    )
    risky = [
        AssessmentReport(
            report_id="r1", referral_id="ref", report_type="periodic_report", performed_on=TODAY, flags_risk=True
        )
    ]
    refused = check_kine_renewal(bad, msgspec.structs.replace(p, kine_renewal_excluded=True), risky, 1)
    assert not refused.allowed and not refused.notify_prescriber
    assert refused.failed_conditions == [
        "p6a_excluded_by_physician",
        "p6b_patient_disagrees",
        "p6c_programme_not_used_up",
        "p6d_already_renewed",
        "p6e_risk_flagged",
        "p6_rpps_invalid",
    ]
    adaptation = KineRenewalRequest(
        kind="adaptation",
        physiotherapist_name="C. M.",
        physiotherapist_rpps="10003456789",
        patient_agrees=True,
        adaptation_needed=True,
    )
    assert check_kine_renewal(adaptation, p, [], 0).allowed


def test_p5_open_referrals_follow_the_renewal() -> None:
    old = valid()
    new = msgspec.structs.replace(old, prescription_id="p-2", renews_prescription_id="p-1")
    at = datetime(2026, 1, 30, tzinfo=UTC)
    open_ref = Referral(
        referral_id="r1",
        prescription_id="p-1",
        patient_id="pat-1",
        structure_id="s1",
        status="in_progress",
        created_at=at,
    )
    closed = Referral(
        referral_id="r2", prescription_id="p-1", patient_id="pat-1", structure_id="s2", status="declined", created_at=at
    )
    moved = carry_referrals_to_renewal(old, new, [open_ref, closed])
    assert [(r.referral_id, r.prescription_id, r.structure_id) for r in moved] == [("r1", "p-2", "s1")]
    with pytest.raises(ValueError, match="P-5"):
        carry_referrals_to_renewal(old, msgspec.structs.replace(new, renews_prescription_id=None), [open_ref])


def test_p7_defaults() -> None:
    defaults = prescription_defaults(SETTINGS)
    assert (defaults.sessions_per_week_min, defaults.sessions_per_week_max) == (2, 3)
    assert (defaults.session_minutes_min, defaults.session_minutes_max) == (45, 60)
    assert defaults.programme_months == 3
    assert defaults.activity_types == ("endurance", "strength")
    assert "à vérifier" in defaults.reasons[0].source


def test_settings_loader_is_strict_and_names_file_and_key() -> None:
    from importlib import resources

    text = resources.files("sport_referral.catalogue").joinpath("prescription_settings.yaml").read_text("utf-8")
    with pytest.raises(CatalogueError, match=r"prescription_settings.yaml: prescription.programme_months.value.max"):
        load_prescription_settings(text.replace("value: {min: 3, max: 6}", "value: {min: 3, max: six}"))
    with pytest.raises(CatalogueError, match=r"prescription_settings.yaml: prescription.default_months.value"):
        load_prescription_settings(text.replace("value: 3\n", "value: 9\n", 1))
    with pytest.raises(CatalogueError, match=r"prescription_settings.yaml: who: .*unknown field `typo`"):
        load_prescription_settings(text.replace("who:\n", "who:\n  typo: 1\n"))


def test_to_verify_values_live_in_reference_data() -> None:
    entries = {e.key: e for e in reference_entries()}
    for key in (
        "prescription_settings:prescription.default_sessions_per_week",
        "prescription_settings:who.vigorous_factor",
        "aids:pass_sport.groups.ars.ages",
        "aids:wheelchair.dap_silence_months",
        "matching_settings:supervision.moderate_sport_educator_conditional",
        "limitation_levels:minimal",
        "severe_criteria:vision_parts_rule",
        "supervision:levels.moderate",
    ):
        assert entries[key].status in ("to_verify", "conflict"), key
    assert entries["aids:pass_sport.amount_eur"].status == "verified"
    assert all(e.source for e in entries.values())
