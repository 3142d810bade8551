"""Aids (domain-sport §9): Pass'Sport worked examples and age bounds (A-1), sport wheelchairs
(A-3, A-4), PCH (A-5), AAH (A-6), and the strictness of aids.yaml."""

from datetime import date

import msgspec
import pytest

from shared_core.errors import ValidationFailed
from sport_referral.catalogue.loader import CatalogueError
from sport_referral.catalogue.loader_sport import load_aids
from sport_referral.rules.aids import (
    aah_hint,
    age_on,
    dap_tacit_acceptance,
    pass_sport_eligibility,
    pch_hint,
    wheelchair_hint,
)

AIDS = load_aids()
PASS = AIDS.pass_sport
ON = date(2025, 9, 1)


def birth_for_age(age: int, on: date = ON) -> date:
    return date(on.year - age, on.month, on.day)


@pytest.mark.parametrize(
    ("birth", "benefit", "age", "eligible", "reason"),
    [
        (date(2008, 3, 15), "aeeh", 17, True, "age_in_range"),
        (date(1994, 7, 1), "aah", 31, False, "age_out_of_range"),
        (date(1995, 10, 2), "aah", 29, True, "age_in_range"),
        (date(2007, 5, 20), "ars", 18, False, "age_out_of_range"),
        (date(1998, 1, 10), "student_grant", 27, True, "age_in_range"),
    ],
)
def test_worked_examples(birth: date, benefit: str, age: int, eligible: bool, reason: str) -> None:
    result = pass_sport_eligibility(birth, ON, [benefit], PASS)
    assert result.age == age
    assert result.eligible is eligible
    assert result.reason == reason
    assert result.amount_eur == (70 if eligible else 0)
    assert all(r.rule.startswith("A-") for r in result.reasons)


@pytest.mark.parametrize(
    ("benefit", "age", "eligible"),
    [
        ("aeeh", 5, False),
        ("aeeh", 6, True),
        ("aeeh", 19, True),
        ("aeeh", 20, False),
        ("aah", 15, False),
        ("aah", 16, True),
        ("aah", 30, True),
        ("aah", 31, False),
        ("student_grant", 27, True),
        ("student_grant", 28, False),
    ],
)
def test_age_bounds_inclusive(benefit: str, age: int, eligible: bool) -> None:
    result = pass_sport_eligibility(birth_for_age(age), ON, [benefit], PASS)
    assert result.age == age
    assert result.eligible is eligible


def test_age_is_whole_years_on_the_date() -> None:
    assert age_on(date(2006, 9, 2), ON) == 18  # birthday tomorrow
    assert age_on(date(2006, 9, 1), ON) == 19  # birthday today
    assert age_on(date(2004, 2, 29), date(2025, 2, 28)) == 20
    assert age_on(date(2004, 2, 29), date(2025, 3, 1)) == 21
    # 20th birthday the day after: still 19, still AEEH-eligible.
    assert pass_sport_eligibility(date(2005, 9, 2), ON, ["aeeh"], PASS).eligible


def test_any_matching_benefit_is_enough_and_no_benefit_is_refused() -> None:
    result = pass_sport_eligibility(birth_for_age(18), ON, ["ars", "aah"], PASS)
    assert result.eligible and result.matched_benefit == "aah"
    assert [r.code for r in result.reasons if r.code.startswith("age_")] == ["age_out_of_range:ars", "age_in_range:aah"]
    empty = pass_sport_eligibility(birth_for_age(18), ON, [], PASS)
    assert not empty.eligible and empty.reason == "no_qualifying_benefit"


def test_invalid_input_lists_every_problem() -> None:
    with pytest.raises(ValidationFailed) as error:
        pass_sport_eligibility(date(2026, 1, 1), ON, ["aeeh", "rsa", "bourse"], PASS)
    assert [e.field for e in error.value.errors] == ["birth_date", "benefits[1]", "benefits[2]"]


def test_campaign_dates_when_enforced() -> None:
    enforced = msgspec.structs.replace(PASS, enforce_campaign_dates=True)
    assert pass_sport_eligibility(date(2008, 3, 15), ON, ["aeeh"], enforced).eligible
    late = pass_sport_eligibility(date(2008, 3, 15), date(2026, 1, 15), ["aeeh"], enforced)
    assert not late.eligible and late.reason == "outside_campaign"
    assert pass_sport_eligibility(date(2008, 3, 15), date(2026, 1, 15), ["aeeh"], PASS).eligible


def test_birth_windows_replace_the_age_test() -> None:
    windows = msgspec.structs.replace(PASS, use_birth_windows=True)
    inside = pass_sport_eligibility(date(2006, 1, 1), ON, ["aeeh"], windows)
    assert inside.eligible and inside.reason == "birth_date_in_window"
    outside = pass_sport_eligibility(date(2005, 12, 31), ON, ["aeeh"], windows)
    assert not outside.eligible and outside.reason == "birth_date_outside_window"


def test_provenance_marks_verified_and_to_verify_groups() -> None:
    result = pass_sport_eligibility(date(2010, 1, 1), ON, ["ars"], PASS)
    assert "à vérifier" in result.reasons[-1].source
    aeeh = pass_sport_eligibility(date(2010, 1, 1), ON, ["aeeh"], PASS)
    assert "dossier de presse" in aeeh.reasons[0].source or "Press kit" in aeeh.reasons[0].source
    assert PASS.provenance["pass_sport.groups.aeeh.ages"].status == "verified"
    assert PASS.provenance["pass_sport.groups.student_grant.ages"].status == "to_verify"


@pytest.mark.parametrize(
    ("quote", "standard", "hint"),
    [
        (2100, True, "covered_no_dap"),
        (2400, True, "covered_no_dap"),
        (2400.01, True, "dap_needed"),
        (5800, False, "dap_needed"),
        (1500, False, "dap_needed"),
    ],
)
def test_a3_wheelchair_examples(quote: float, standard: bool, hint: str) -> None:
    result = wheelchair_hint(quote, standard_leisure=standard, settings=AIDS.wheelchair)
    assert result.hint == hint
    assert [r.rule for r in result.reasons] == ["A-3", "A-3"]
    assert result.documents_fr


def test_a3_electric_and_bad_quote() -> None:
    assert (
        wheelchair_hint(9000, standard_leisure=False, electric=True, settings=AIDS.wheelchair).hint
        == "electric_wheelchair_rules"
    )
    with pytest.raises(ValidationFailed):
        wheelchair_hint(0, standard_leisure=True, settings=AIDS.wheelchair)


def test_a4_tacit_acceptance() -> None:
    deadline = dap_tacit_acceptance(date(2026, 1, 12), AIDS.wheelchair)
    assert deadline.decision_due_by == date(2026, 3, 12)
    assert deadline.deemed_accepted_from == date(2026, 3, 13)
    assert deadline.reasons[0].rule == "A-4" and "à vérifier" in deadline.reasons[0].source
    end_of_month = dap_tacit_acceptance(date(2025, 12, 31), AIDS.wheelchair)
    assert end_of_month.decision_due_by == date(2026, 2, 28)
    assert end_of_month.deemed_accepted_from == date(2026, 3, 1)


def test_a5_pch_hint() -> None:
    assert pch_hint(
        absolute_difficulties=1, serious_difficulties=0, expected_duration_months=24, settings=AIDS.pch
    ).possibly_eligible
    assert (
        pch_hint(absolute_difficulties=0, serious_difficulties=2, expected_duration_months=None, settings=AIDS.pch).code
        == "pch_possibly_eligible"
    )
    assert not pch_hint(
        absolute_difficulties=0, serious_difficulties=1, expected_duration_months=24, settings=AIDS.pch
    ).possibly_eligible
    assert not pch_hint(
        absolute_difficulties=1, serious_difficulties=0, expected_duration_months=6, settings=AIDS.pch
    ).possibly_eligible


def test_a6_aah_hint() -> None:
    hint = aah_hint(receives_aah=True, age=25, aah=AIDS.aah, pass_sport=PASS)
    assert [r.code for r in hint.reasons] == ["aah_cdaph_decides", "e7_cdaph_right", "pass_sport_possible:aah"]
    older = aah_hint(receives_aah=True, age=45, aah=AIDS.aah, pass_sport=PASS)
    assert "pass_sport_possible:aah" not in [r.code for r in older.reasons]
    assert "CDAPH" in hint.reasons[0].text_fr


def test_aids_file_is_strict() -> None:
    from importlib import resources

    text = resources.files("sport_referral.catalogue").joinpath("aids.yaml").read_text("utf-8")
    with pytest.raises(CatalogueError, match=r"aids.yaml: pass_sport.amount_eur.value"):
        load_aids(text.replace("value: 70", "value: seventy"))
    with pytest.raises(CatalogueError, match=r"aids.yaml: pass_sport.groups.aeeh.ages.value"):
        load_aids(text.replace("value: {min: 6, max: 19}", "value: {min: 19, max: 6}"))
    with pytest.raises(CatalogueError, match=r"aids.yaml: pass_sport.groups.aah.ages.value"):
        load_aids(text.replace("value: {min: 16, max: 30}", "value: {min: 16, max: 30, below: 31}"))
    assert PASS.amount_eur == 70
    assert AIDS.wheelchair.sport_manual_cap_eur == 2400
