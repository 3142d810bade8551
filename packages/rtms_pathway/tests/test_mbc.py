"""Measurement-based care rules (domain-rtms §10.2), with the §9.5 S5/S6 and §7.7 example D figures."""

from datetime import date
from fractions import Fraction

import msgspec
import pytest

from rtms_pathway.catalogue.loader_staging import load_mbc_settings
from rtms_pathway.model.mbc import Assessment, RelapseCutoff, ScaleMeasure
from rtms_pathway.rules.mbc import (
    combination_information_cards,
    course_baseline,
    course_status,
    detect_relapse,
    early_checkpoint,
    end_of_course,
    extension_prompt,
    maintenance_offer,
    non_response_prompt,
    post_ect_offer,
    residual_symptoms_prompt,
    retreatment_suggestion,
    ymrs_check,
)
from shared_core.errors import ValidationFailed
from shared_core.scales import load_catalogue, score

SETTINGS = load_mbc_settings()
CATALOGUE = load_catalogue()
MADRS = CATALOGUE.get("madrs")
HAMD = CATALOGUE.get("hamd17")
PHQ9 = CATALOGUE.get("phq9")

# domain-rtms §9.5
S4_HAMD_BASELINE = [3, 2, 1, 2, 1, 2, 3, 2, 1, 2, 2, 1, 2, 1, 1, 1, 0]
S5_MADRS_BASELINE = [4, 4, 3, 4, 2, 4, 3, 3, 3, 2]
S5_MADRS_AFTER_10 = [3, 3, 3, 3, 2, 3, 2, 3, 2, 2]
S6_MADRS_END = [1, 1, 2, 1, 1, 1, 1, 1, 0, 0]
S6_HAMD_END = [2, 1, 0, 1, 1, 1, 2, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0]


def total(code: str, items: list[int]) -> int:
    result = score(CATALOGUE.get(code), items).total
    assert result is not None
    return result


# -- R-MBC-01 -----------------------------------------------------------------------------------


def test_course_baseline_is_the_first_primary_assessment_in_the_window() -> None:
    first_session = date(2026, 4, 27)
    assessments = [
        Assessment("madrs", 35, date(2026, 4, 19)),  # 8 days before: outside the 7-day window
        Assessment("phq9", 20, date(2026, 4, 21)),  # not the primary scale
        Assessment("madrs", 32, date(2026, 4, 22)),
        Assessment("madrs", 30, date(2026, 4, 24)),
        Assessment("madrs", 28, date(2026, 4, 28)),  # after session 1
    ]
    result = course_baseline(assessments, first_session, SETTINGS)
    assert result.assessment is not None and result.assessment.total == 32
    assert result.window_start == date(2026, 4, 20)
    assert result.explanation.rule_id == "R-MBC-01"
    assert "ligne de base de la cure" in result.explanation.text_fr.lower()
    edge = course_baseline([Assessment("madrs", 33, date(2026, 4, 20)), Assessment("madrs", 31, first_session)],
                           first_session, SETTINGS)
    assert edge.assessment is not None and edge.assessment.total == 33
    same_day = course_baseline([Assessment("madrs", 31, first_session)], first_session, SETTINGS)
    assert same_day.assessment is not None


def test_course_baseline_missing() -> None:
    result = course_baseline([Assessment("madrs", 35, date(2026, 4, 19))], date(2026, 4, 27), SETTINGS)
    assert result.assessment is None
    assert "manque" in result.explanation.text_fr
    other = course_baseline([Assessment("hamd17", 20, date(2026, 4, 25))], date(2026, 4, 27), SETTINGS,
                            scale="hamd17")
    assert other.assessment is not None


# -- §9.5 S5 / S6 ---------------------------------------------------------------------------------


def test_s5_status_and_early_checkpoint() -> None:
    baseline, after_10 = total("madrs", S5_MADRS_BASELINE), total("madrs", S5_MADRS_AFTER_10)
    assert (baseline, after_10) == (32, 26)
    status = course_status(MADRS, baseline, after_10, SETTINGS)
    assert status.status == "non_response"
    assert Fraction(status.improvement_numerator or 0, status.improvement_denominator or 1) == Fraction(6, 32)
    assert status.improvement_pct == 18.8
    assert (status.baseline_band, status.current_band) == ("moderate", "moderate")
    assert "18,8 %" in status.explanation.text_fr and "non-réponse" in status.explanation.text_fr
    checkpoint = early_checkpoint(10, MADRS, baseline, after_10, SETTINGS)
    assert checkpoint.code == "review_protocol"
    assert early_checkpoint(9, MADRS, baseline, after_10, SETTINGS).code == "none"


def test_s6_status_and_divergence() -> None:
    madrs_base, madrs_end = total("madrs", S5_MADRS_BASELINE), total("madrs", S6_MADRS_END)
    hamd_base, hamd_end = total("hamd17", S4_HAMD_BASELINE), total("hamd17", S6_HAMD_END)
    assert (madrs_base, madrs_end, hamd_base, hamd_end) == (32, 9, 27, 14)

    result = end_of_course(ScaleMeasure("madrs", madrs_base, madrs_end),
                           [ScaleMeasure("hamd17", hamd_base, hamd_end)], CATALOGUE, SETTINGS)
    assert result.status == "remission"
    assert result.primary.improvement_pct == 71.9
    assert result.primary.is_response is True  # response and remission
    assert result.primary.current_band == "mild"
    hamd = result.secondaries[0]
    assert (hamd.status, hamd.improvement_pct, hamd.is_response, hamd.current_band) == (
        "partial_response", 48.1, False, "moderate")
    assert len(result.divergences) == 1
    divergence = result.divergences[0]
    assert (divergence.scale, divergence.status, divergence.primary_status) == ("hamd17", "partial_response",
                                                                                "remission")
    assert "Divergence" in divergence.text_fr and "échelle principale" in divergence.text_fr
    assert result.explanation.rule_id == "R-MBC-05"


def test_primary_scale_decides_even_when_the_secondary_looks_better() -> None:
    result = end_of_course(ScaleMeasure("hamd17", 27, 14), [ScaleMeasure("madrs", 32, 9)], CATALOGUE, SETTINGS)
    assert result.status == "partial_response"
    assert result.divergences[0].status == "remission"


def test_end_of_course_unknown_scales_are_all_reported() -> None:
    with pytest.raises(ValidationFailed) as caught:
        end_of_course(ScaleMeasure("nope", 1, 1), [ScaleMeasure("madrs", 30, 10), ScaleMeasure("zzz", 1, 1)],
                      CATALOGUE, SETTINGS)
    assert [e.field for e in caught.value.errors] == ["primary.scale", "secondaries[1].scale"]


# -- R-MBC-02 / 04 boundaries -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "current", "status"),
    [
        (30, 10, "remission"),  # current = cut-off 10
        (30, 11, "response"),  # 63.3 %, 11 > 10
        (30, 15, "response"),  # exactly 50 %
        (32, 17, "partial_response"),  # 46.9 %
        (40, 30, "partial_response"),  # exactly 25 %
        (41, 31, "non_response"),  # 24.4 %
        (30, 30, "non_response"),
        (30, 33, "worsening"),
        (0, 0, "not_evaluable"),
        (6, 2, "not_evaluable"),  # baseline below the mild band (7)
        (7, 3, "remission"),
    ],
)
def test_status_boundaries(baseline: int, current: int, status: str) -> None:
    assert course_status(MADRS, baseline, current, SETTINGS).status == status


def test_status_explanations() -> None:
    assert "ligne de base à 0" in course_status(MADRS, 0, 0, SETTINGS).explanation.text_fr
    assert "sous la bande" in course_status(MADRS, 6, 2, SETTINGS).explanation.text_fr
    assert "aggravation" in course_status(MADRS, 30, 33, SETTINGS).explanation.text_fr
    assert "seuil de rémission 10" in course_status(MADRS, 30, 10, SETTINGS).explanation.text_fr


def test_partial_low_conflict_alternative_and_remission_override() -> None:
    thirty = msgspec.structs.replace(SETTINGS, partial_low_pct=30)
    assert course_status(MADRS, 40, 30, thirty).status == "non_response"
    assert course_status(MADRS, 40, 28, thirty).status == "partial_response"
    assert course_status(MADRS, 30, 12, SETTINGS).status == "response"
    assert course_status(MADRS, 30, 12, SETTINGS, remission_max=12).status == "remission"


def test_phq9_remission_cut_off_and_out_of_range() -> None:
    assert course_status(PHQ9, 20, 4, SETTINGS).status == "remission"
    assert course_status(PHQ9, 20, 5, SETTINGS).status == "response"
    with pytest.raises(ValidationFailed) as caught:
        course_status(PHQ9, 30, 28, SETTINGS)
    assert {e.field for e in caught.value.errors} == {"baseline", "current"}


# -- R-MBC-06..09 ---------------------------------------------------------------------------------


def test_extension_prompt() -> None:
    fired = extension_prompt("response", [32, 20, 14], SETTINGS)
    assert fired.fired is True
    assert fired.options == ("+5", "+10")
    assert fired.rule_id == "R-MBC-06"
    assert "prolongation" in fired.text_fr
    assert extension_prompt("partial_response", [32, 24, 22], SETTINGS).fired is True
    assert extension_prompt("response", [32, 14, 14], SETTINGS).fired is False  # plateau
    assert extension_prompt("response", [14], SETTINGS).fired is False
    assert extension_prompt("remission", [32, 12, 8], SETTINGS).fired is False
    assert extension_prompt("non_response", [32, 30, 28], SETTINGS).fired is False


def test_non_response_switch_suggestions() -> None:
    hf = non_response_prompt("non_response", 20, "hf_left_10hz", SETTINGS)
    assert hf.fired is True
    assert hf.options == ("bilateral_sequential", "lf_right_1hz", "reconsider_all_options")
    assert "y compris l'ECT" in hf.text_fr
    assert hf.confidence == "to_verify"  # adequate course length 20 is [to verify]
    lf = non_response_prompt("worsening", 30, "lf_right_1hz", SETTINGS)
    assert lf.options == ("hf_left_10hz", "reconsider_all_options")
    short = non_response_prompt("non_response", 19, "hf_left_10hz", SETTINGS)
    assert short.fired is False
    assert "pas encore adéquate" in short.text_fr
    assert non_response_prompt("partial_response", 30, "hf_left_10hz", SETTINGS).fired is False
    itbs = non_response_prompt("non_response", 20, "itbs_left", SETTINGS)
    assert itbs.options[:2] == ("bilateral_sequential", "lf_right_1hz")


def test_residual_symptoms() -> None:
    response = residual_symptoms_prompt("response", None, SETTINGS)
    assert response.fired is True
    assert "Renforcer la prise en charge" in response.text_fr
    assert response.letter_paragraph_fr is not None
    assert "renforcer la prise en charge" in response.letter_paragraph_fr
    assert "TCC" in response.letter_paragraph_fr
    assert "prédictifs de rechute" in response.letter_paragraph_fr
    assert residual_symptoms_prompt("partial_response", 3, SETTINGS).fired is True
    assert residual_symptoms_prompt("remission", 9, SETTINGS).fired is False
    anxious = residual_symptoms_prompt("remission", 10, SETTINGS)
    assert anxious.fired is True
    assert "GAD-7 = 10" in anxious.text_fr
    assert anxious.confidence == "to_verify"
    assert residual_symptoms_prompt("non_response", None, SETTINGS).fired is False


def test_maintenance_offer() -> None:
    for status in ("response", "remission"):
        offer = maintenance_offer(status)
        assert offer.fired is True
        assert offer.options == ("maintenance_classic", "maintenance_cluster", "structured_follow_up")
        assert "aucun n'est à préférer" in offer.text_fr
    assert maintenance_offer("partial_response").fired is False


# -- R-MBC-10 --------------------------------------------------------------------------------------


def test_example_d_relapse() -> None:
    # domain-rtms §7.7 example D: PHQ-9 course baseline 21, end of course 5, now 18.
    check = detect_relapse(PHQ9, 21, 5, 18, "remission", SETTINGS)
    assert check.possible_relapse is True
    assert check.criteria == ("gain_loss",)  # 18 is moderately severe, baseline 21 severe: (a) not met
    assert Fraction(check.loss_of_gain_numerator or 0, check.loss_of_gain_denominator or 1) == Fraction(13, 16)
    assert round(check.loss_of_gain_pct or 0) == 81
    assert check.task_fr is not None and "Rechute possible" in check.task_fr
    assert "récidive" in check.task_fr
    assert any("(18 − 5) / (21 − 5)" in e.text_fr for e in check.explanations)


@pytest.mark.parametrize(
    ("current", "expected"),
    [(13, ("gain_loss",)), (12, ())],  # 8/16 = 50 % exactly; 7/16 = 43.8 %
)
def test_gain_loss_boundary(current: int, expected: tuple[str, ...]) -> None:
    check = detect_relapse(PHQ9, 21, 5, current, "response", SETTINGS)
    assert check.criteria == expected
    assert check.possible_relapse is bool(expected)


def test_relapse_back_in_baseline_band_only() -> None:
    # MADRS severe band 35-60: 60 -> 30 (response), now 44 (loss 14/30 = 46.7 %) but severe again.
    check = detect_relapse(MADRS, 60, 30, 44, "response", SETTINGS)
    assert check.criteria == ("baseline_band",)
    both = detect_relapse(PHQ9, 21, 5, 20, "remission", SETTINGS)
    assert both.criteria == ("baseline_band", "gain_loss")


def test_relapse_scale_specific_cut_off() -> None:
    settings = msgspec.structs.replace(
        SETTINGS, relapse_cutoffs=(RelapseCutoff("madrs", 15, "design", "test cut-off"),))
    check = detect_relapse(MADRS, 30, 8, 15, "remission", settings)
    assert check.criteria == ("scale_cutoff",)  # loss 7/22 < 50 %, band mild vs moderate
    assert detect_relapse(MADRS, 30, 8, 14, "remission", settings).possible_relapse is False
    # the shipped HDRS-24 cut-off does not apply to another scale
    assert detect_relapse(MADRS, 30, 8, 14, "remission", SETTINGS).criteria == ()


def test_relapse_detection_applies_only_after_response() -> None:
    check = detect_relapse(PHQ9, 21, 12, 20, "partial_response", SETTINGS)
    assert check.possible_relapse is False
    assert "non applicable" in check.explanations[0].text_fr
    with pytest.raises(ValidationFailed) as caught:
        detect_relapse(PHQ9, 28, 5, 30, "response", SETTINGS)
    assert {e.field for e in caught.value.errors} == {"course_baseline", "current"}


# -- R-MBC-11 / 12 ---------------------------------------------------------------------------------


def test_retreatment_after_an_earlier_response() -> None:
    prompt = retreatment_suggestion("remission", "hf_left_10hz", 1, SETTINGS)
    assert prompt.rule_id == "R-MBC-11"
    assert prompt.options == ("M-CLUSTER-RESCUE", "re_induction:hf_left_10hz:course_2")
    assert "cure n° 2" in prompt.text_fr and "6 répondeurs antérieurs sur 6" in prompt.text_fr


def test_retreatment_after_an_earlier_non_response() -> None:
    prompt = retreatment_suggestion("non_response", "hf_left_10hz", 1, SETTINGS)
    assert prompt.rule_id == "R-MBC-12"
    assert prompt.options == ("bilateral_sequential", "lf_right_1hz", "reconsider_all_options")
    assert "3 non-répondeurs antérieurs sur 6" in prompt.text_fr
    assert retreatment_suggestion("response", "hf_left_10hz", 1, SETTINGS, relapse_confirmed=False).fired is False


# -- R-MBC-13 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "previous", "checkin", "triggers"),
    [
        (12, None, False, ("ymrs_absolute",)),
        (11, None, False, ()),
        (11, 5, False, ("ymrs_rise",)),
        (10, 5, False, ()),
        (13, 6, True, ("ymrs_absolute", "ymrs_rise", "checkin_mood_elevation")),
        (None, None, True, ("checkin_mood_elevation",)),
    ],
)
def test_ymrs_triggers(current: int | None, previous: int | None, checkin: bool, triggers: tuple[str, ...]) -> None:
    check = ymrs_check(current, previous, SETTINGS, checkin_mood_elevation=checkin)
    assert check.triggers == triggers
    assert check.review_before_next_session is bool(triggers)
    assert check.confidence == "to_verify"
    if triggers:
        assert "avis médical avant la prochaine séance" in check.explanation.text_fr


def test_ymrs_out_of_range() -> None:
    with pytest.raises(ValidationFailed) as caught:
        ymrs_check(61, -1, SETTINGS)
    assert [e.field for e in caught.value.errors] == ["current", "previous"]


# -- R-MBC-14 / 15 ---------------------------------------------------------------------------------


def test_information_cards_and_post_ect() -> None:
    cards = combination_information_cards()
    assert [c.code for c in cards] == ["card_antidepressants", "card_psychostimulants", "card_cbt"]
    assert all(c.rule_id == "R-MBC-14" and c.text_fr for c in cards)
    assert post_ect_offer(True).fired is True
    assert post_ect_offer(False).fired is False
