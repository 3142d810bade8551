"""Resistance staging (domain-rtms §5): adequacy, failure flags, TRD definitions, MSM, Thase–Rush."""

from datetime import date
from decimal import Decimal

import msgspec
import pytest

from rtms_pathway.catalogue.loader_staging import load_staging_settings
from rtms_pathway.model.staging import StagingInput, StagingSettings, TreatmentTrial
from rtms_pathway.rules.staging import (
    assess_trial,
    episode_duration_months,
    maudsley_staging,
    pseudo_resistance_checklist,
    stage,
    thase_rush_stage,
)
from shared_core.errors import ValidationFailed

SETTINGS = load_staging_settings()
EPISODE = "ep-2024"


def ad(agent: str, pharm_class: str, dose: str, weeks: str, outcome: str = "non_response_lt25", **kw: object) -> TreatmentTrial:
    unit = kw.pop("unit", "mg")
    return TreatmentTrial(
        episode_id=kw.pop("episode_id", EPISODE),  # type: ignore[arg-type]
        modality="antidepressant",
        agent=agent,
        pharm_class=pharm_class,  # type: ignore[arg-type]
        max_daily_dose=Decimal(dose),
        unit=unit,  # type: ignore[arg-type]
        weeks_at_adequate_dose=Decimal(weeks),
        adherence=kw.pop("adherence", "good"),  # type: ignore[arg-type]
        outcome=outcome,  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def worked_example_trials() -> tuple[TreatmentTrial, ...]:
    """domain-rtms §5.6."""
    return (
        ad("escitalopram", "ssri", "20", "8", stop_reason="inefficacy"),
        ad("venlafaxine", "snri", "225", "10", stop_reason="inefficacy"),
        ad("mirtazapine", "mirtazapine_like", "15", "2", outcome="intolerance", stop_reason="intolerance"),
        TreatmentTrial(EPISODE, "augmentation", "lithium", pharm_class="lithium_aug", max_daily_dose=Decimal("0.8"),
                       unit="mmol/L", weeks_at_adequate_dose=Decimal(6), adherence="good",
                       outcome="non_response_lt25", augments_agent="venlafaxine"),
        TreatmentTrial(EPISODE, "psychotherapy", "CBT (TCC)", sessions=12, outcome="non_response_lt25"),
    )


def staging_input(trials: tuple[TreatmentTrial, ...], **kw: object) -> StagingInput:
    return StagingInput(
        current_episode_id=EPISODE,
        diagnosis=kw.pop("diagnosis", "unipolar"),  # type: ignore[arg-type]
        severity=kw.pop("severity", "severe_without_psychosis"),  # type: ignore[arg-type]
        trials=trials,
        episode_start=kw.pop("episode_start", date(2024, 10, 1)),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def with_settings(**changes: object) -> StagingSettings:
    return msgspec.structs.replace(SETTINGS, **changes)


# -- §5.6 worked example ------------------------------------------------------------------------


def test_worked_example_5_6() -> None:
    result = stage(staging_input(worked_example_trials()), date(2026, 4, 20), SETTINGS)

    assert result.msm.total == 8
    assert result.msm.band == "moderate"
    assert [(d.code, d.points) for d in result.msm.dimensions] == [
        ("duration", 2), ("severity", 4), ("antidepressant_failures", 1), ("augmentation", 1), ("ect", 0),
    ]
    assert result.flag("trd_has").value is True
    assert result.flag("trd_eu_pearl").value is True
    assert result.trd is True
    assert result.thase_rush.stage == 2
    assert result.thase_rush.label == "II"
    assert result.intolerance_count == 1
    assert result.flag("mtr_mdd").value is True
    assert result.high_resistance.value is True
    assert result.high_resistance.definition == "mtr_mdd"
    assert result.high_resistance.confidence == "to_verify"
    assert result.ruleset_version == SETTINGS.version


def test_worked_example_trial_table() -> None:
    result = stage(staging_input(worked_example_trials()), date(2026, 4, 20), SETTINGS)
    rows = [(t.agent, t.adequate, t.failure_eu_pearl, t.failure_has) for t in result.trials]
    assert rows == [
        ("escitalopram", True, True, True),
        ("venlafaxine", True, True, True),
        ("mirtazapine", False, False, False),  # R-STG-02: intolerance, not a failure
        ("lithium", True, False, False),  # augmentation: never an antidepressant failure
        ("CBT (TCC)", None, False, False),  # psychotherapy: adequacy not rated
    ]
    mirtazapine = result.trials[2]
    assert mirtazapine.intolerance is True
    assert any(e.rule_id == "R-STG-02" for e in mirtazapine.explanations)
    assert result.trials[3].treatment_failure is True  # counts for MTR-MDD
    assert result.trials[4].treatment_failure is True


def test_worked_example_explanations_are_french_and_cite_rules() -> None:
    result = stage(staging_input(worked_example_trials()), date(2026, 4, 20), SETTINGS)
    escitalopram = result.trials[0]
    adequacy = next(e for e in escitalopram.explanations if e.rule_id == "R-STG-01")
    assert "essai adéquat" in adequacy.text_fr
    assert "valeur à vérifier" in adequacy.text_fr  # the dose table is [to verify]
    assert "§5.2" in adequacy.source
    assert "= 8" in result.msm.explanation.text_fr and "modérée" in result.msm.explanation.text_fr
    assert all(d.text_fr and d.text_en for d in result.msm.dimensions)
    assert "quel que soit l'ordre" in result.thase_rush.explanation.text_fr
    # R-TRI-07 and R-TRI-08 are shown side by side (§5.6)
    assert any(e.rule_id == "R-TRI-07" and "le médecin décide" in e.text_fr for e in result.explanations)
    assert "Discuter l'ECT" in result.high_resistance.explanation.text_fr
    for flag in result.flags:
        assert flag.explanation.text_fr and flag.explanation.text_en and "§5.3" in flag.explanation.source


def test_dtd_is_never_computed() -> None:
    result = stage(staging_input(worked_example_trials()), date(2026, 4, 20), SETTINGS)
    assert result.flag("dtd").value is None
    assigned = stage(staging_input(worked_example_trials(), dtd=True), date(2026, 4, 20), SETTINGS)
    assert assigned.flag("dtd").value is True


# -- R-STG-01 adequacy ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weeks", "adequate"),
    [("3", False), ("3.9", False), ("4", True), ("6", True)],
)
def test_adequacy_weeks_boundary(weeks: str, adequate: bool) -> None:
    assert assess_trial(ad("sertraline", "ssri", "100", weeks), SETTINGS).adequate is adequate


@pytest.mark.parametrize(("adherence", "adequate"), [("good", True), ("partial", True), ("unknown", True), ("poor", False)])
def test_adequacy_adherence(adherence: str, adequate: bool) -> None:
    trial = ad("sertraline", "ssri", "100", "8", adherence=adherence)
    result = assess_trial(trial, SETTINGS)
    assert result.adequate is adequate
    if not adequate:
        assert "observance mauvaise" in result.explanations[0].text_fr
        assert result.failure_has is False and result.failure_eu_pearl is False


def test_min_weeks_is_configurable() -> None:
    six = with_settings(min_weeks=6)
    assert assess_trial(ad("sertraline", "ssri", "100", "5"), six).adequate is False
    assert assess_trial(ad("sertraline", "ssri", "100", "6"), six).adequate is True


@pytest.mark.parametrize(("dose", "adequate", "check"), [("49", False, "below_minimum"), ("50", True, "met")])
def test_adequacy_dose_boundary(dose: str, adequate: bool, check: str) -> None:
    result = assess_trial(ad("sertraline", "ssri", dose, "8"), SETTINGS)
    assert (result.adequate, result.dose_check) == (adequate, check)


def test_unknown_molecule_needs_a_physician_confirmation() -> None:
    trial = ad("unknownine", "other_ad", "10", "8")
    result = assess_trial(trial, SETTINGS)
    assert result.adequate is False
    assert result.dose_check == "unknown_molecule"
    assert result.needs_review is True
    confirmed = assess_trial(msgspec.structs.replace(trial, dose_confirmed_adequate=True), SETTINGS)
    assert confirmed.adequate is True
    assert confirmed.dose_check == "confirmed_by_clinician"


def test_unit_mismatch_and_missing_dose() -> None:
    assert assess_trial(ad("sertraline", "ssri", "100", "8", unit="µg"), SETTINGS).dose_check == "unit_mismatch"
    missing = msgspec.structs.replace(ad("sertraline", "ssri", "100", "8"), max_daily_dose=None)
    assert assess_trial(missing, SETTINGS).dose_check == "dose_missing"


def test_molecule_aliases_are_accent_and_case_insensitive() -> None:
    assert SETTINGS.molecule("Miansérine") is not None
    assert SETTINGS.molecule(" ESCITALOPRAM ") is not None


# -- R-STG-03 / R-STG-04 failure flags ----------------------------------------------------------


@pytest.mark.parametrize(
    ("improvement", "eu", "has"),
    [("24.9", True, True), ("25", False, True), ("49.9", False, True), ("50", False, False), ("-10", True, True)],
)
def test_failure_thresholds_with_an_improvement_figure(improvement: str, eu: bool, has: bool) -> None:
    trial = ad("sertraline", "ssri", "100", "8", outcome="unknown", improvement_pct=Decimal(improvement))
    result = assess_trial(trial, SETTINGS)
    assert (result.failure_eu_pearl, result.failure_has) == (eu, has)


@pytest.mark.parametrize(
    ("outcome", "eu", "has"),
    [("non_response_lt25", True, True), ("partial_25_49", False, True), ("response_ge50", False, False),
     ("remission", False, False), ("unknown", False, False)],
)
def test_failure_flags_from_outcome_categories(outcome: str, eu: bool, has: bool) -> None:
    result = assess_trial(ad("sertraline", "ssri", "100", "8", outcome=outcome), SETTINGS)
    assert (result.failure_eu_pearl, result.failure_has) == (eu, has)


def test_has_threshold_inside_the_partial_band_is_undetermined() -> None:
    settings = with_settings(has_failure_below_pct=40)
    result = assess_trial(ad("sertraline", "ssri", "100", "8", outcome="partial_25_49"), settings)
    assert result.failure_has is False
    assert result.needs_review is True


def test_intolerance_after_an_adequate_duration_without_figure_is_not_a_failure() -> None:
    trial = ad("sertraline", "ssri", "100", "6", outcome="intolerance", stop_reason="intolerance")
    result = stage(staging_input((trial,)), date(2026, 4, 20), SETTINGS)
    assert result.trials[0].failure_has is False
    assert result.intolerance_count == 1


def test_only_current_episode_trials_count() -> None:
    old = ad("paroxetine", "ssri", "20", "8", episode_id="ep-2019")
    result = stage(staging_input((old, ad("sertraline", "ssri", "100", "8"))), date(2026, 4, 20), SETTINGS)
    assert result.trials[0].in_current_episode is False
    assert result.antidepressant_failures_has == 1
    assert result.flag("trd_has").value is False


def test_the_same_molecule_twice_counts_once() -> None:
    trials = (ad("sertraline", "ssri", "100", "8"), ad("Sertraline", "ssri", "150", "8"))
    result = stage(staging_input(trials), date(2026, 4, 20), SETTINGS)
    assert result.antidepressant_failures_has == 1
    assert result.flag("trd_has").value is False


# -- §5.3 definitions ---------------------------------------------------------------------------


def test_trd_fr_classes_needs_two_classes() -> None:
    trials = (ad("sertraline", "ssri", "100", "8"), ad("escitalopram", "ssri", "20", "8"))
    result = stage(staging_input(trials), date(2026, 4, 20), SETTINGS)
    assert result.flag("trd_has").value is True
    assert result.flag("trd_fr_classes").value is False
    assert result.flag("trd_fr_classes").confidence == "conflict"
    assert result.trd is True  # HAS default: no class requirement
    strict = stage(staging_input(trials), date(2026, 4, 20), with_settings(require_different_classes=True))
    assert strict.trd is False


def test_eu_pearl_is_for_unipolar_depression_and_bipolar_trd_needs_one_failure() -> None:
    trials = worked_example_trials()
    bipolar = stage(staging_input(trials, diagnosis="bipolar_ii"), date(2026, 4, 20), SETTINGS)
    assert bipolar.flag("trd_eu_pearl").value is False
    assert bipolar.flag("bipolar_trd").value is True
    one = stage(staging_input((ad("sertraline", "ssri", "100", "8"),), diagnosis="bipolar_i"),
                date(2026, 4, 20), SETTINGS)
    assert one.flag("bipolar_trd").value is True
    none = stage(staging_input((), diagnosis="bipolar_i"), date(2026, 4, 20), SETTINGS)
    assert none.flag("bipolar_trd").value is False
    assert stage(staging_input(trials), date(2026, 4, 20), SETTINGS).flag("bipolar_trd").value is False


def test_prd_eu_pearl_partial_response() -> None:
    trials = (ad("sertraline", "ssri", "100", "8", outcome="partial_25_49"),)
    result = stage(staging_input(trials), date(2026, 4, 20), SETTINGS)
    assert result.flag("prd_eu_pearl").value is True
    assert result.flag("prd_eu_pearl").confidence == "to_verify"
    assert result.flag("trd_eu_pearl").value is False


def test_eu_pearl_augmentation_setting() -> None:
    trials = (ad("sertraline", "ssri", "100", "8"), *worked_example_trials()[3:4])
    default = stage(staging_input(trials), date(2026, 4, 20), SETTINGS)
    assert default.flag("trd_eu_pearl").value is False
    counted = stage(staging_input(trials), date(2026, 4, 20), with_settings(eu_pearl_counts_augmentation=True))
    assert counted.flag("trd_eu_pearl").value is True


def test_mtr_mdd_needs_each_component() -> None:
    without_cbt = worked_example_trials()[:4]
    result = stage(staging_input(without_cbt), date(2026, 4, 20), SETTINGS)
    assert result.flag("mtr_mdd").value is False
    assert result.high_resistance.value is False
    non_validated = (*worked_example_trials()[:4], TreatmentTrial(EPISODE, "psychotherapy", "art therapy", sessions=12, outcome="non_response_lt25"))
    assert stage(staging_input(non_validated), date(2026, 4, 20), SETTINGS).flag("mtr_mdd").value is False


def test_high_resistance_msm_alternative() -> None:
    msm_settings = with_settings(high_resistance_definition="msm")
    example = stage(staging_input(worked_example_trials()), date(2026, 4, 20), msm_settings)
    assert example.high_resistance.definition == "msm"
    assert example.high_resistance.value is False  # MSM 8 < 11
    long_episode = stage(staging_input(worked_example_trials(), severity="severe_with_psychosis",
                                       episode_start=date(2023, 1, 1)), date(2026, 4, 20), msm_settings)
    assert long_episode.msm.total == 3 + 5 + 1 + 1 + 0
    assert long_episode.high_resistance.value is False  # 10
    with_ect = (*worked_example_trials(), TreatmentTrial(EPISODE, "ect", "ECT", sessions=12, ect_laterality="right_unilateral", outcome="response_ge50"))
    severe = stage(staging_input(with_ect, severity="severe_with_psychosis", episode_start=date(2023, 1, 1)),
                   date(2026, 4, 20), msm_settings)
    assert severe.msm.total == 11
    assert severe.msm.band == "severe"
    assert severe.high_resistance.value is True


# -- §5.4 MSM -------------------------------------------------------------------------------------


def msm(months: int = 6, extra: bool = False, failures: int = 1, severity: str = "mild", aug: bool = False,
        ect: bool = False) -> int | None:
    return maudsley_staging(duration_months=months, duration_extra_days=extra, severity=severity,  # type: ignore[arg-type]
                            antidepressant_failures=failures, augmentation_used=aug, ect_used=ect,
                            settings=SETTINGS).total


def duration_points(months: int, extra: bool = False) -> int:
    result = maudsley_staging(duration_months=months, duration_extra_days=extra, severity="mild",
                              antidepressant_failures=1, augmentation_used=False, ect_used=False, settings=SETTINGS)
    return result.dimensions[0].points


@pytest.mark.parametrize(
    ("months", "extra", "points"),
    [(0, False, 1), (12, False, 1), (12, True, 2), (13, False, 2), (24, False, 2), (24, True, 3), (25, False, 3)],
)
def test_msm_duration_boundaries(months: int, extra: bool, points: int) -> None:
    assert duration_points(months, extra) == points


@pytest.mark.parametrize(
    ("failures", "points"),
    [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (6, 3), (7, 4), (10, 4), (11, 5), (25, 5)],
)
def test_msm_failure_boundaries(failures: int, points: int) -> None:
    result = maudsley_staging(duration_months=6, duration_extra_days=False, severity="mild",
                              antidepressant_failures=failures, augmentation_used=False, ect_used=False,
                              settings=SETTINGS)
    assert result.dimensions[2].points == points


@pytest.mark.parametrize(
    ("severity", "points"),
    [("subsyndromal", 1), ("mild", 2), ("moderate", 3), ("severe_without_psychosis", 4), ("severe_with_psychosis", 5)],
)
def test_msm_severity_points(severity: str, points: int) -> None:
    assert msm(severity=severity) == 1 + points + 1


def total_and_band(months: int, severity: str, failures: int, aug: bool, ect: bool) -> tuple[int | None, str | None]:
    result = maudsley_staging(duration_months=months, duration_extra_days=False, severity=severity,  # type: ignore[arg-type]
                              antidepressant_failures=failures, augmentation_used=aug, ect_used=ect, settings=SETTINGS)
    return result.total, result.band


def test_msm_bands_and_extremes() -> None:
    assert total_and_band(1, "subsyndromal", 1, False, False) == (3, "mild")
    assert total_and_band(6, "moderate", 3, False, False) == (6, "mild")
    assert total_and_band(6, "moderate", 3, True, False) == (7, "moderate")
    assert total_and_band(18, "severe_without_psychosis", 5, True, False) == (10, "moderate")
    assert total_and_band(18, "severe_without_psychosis", 5, True, True) == (11, "severe")
    assert total_and_band(40, "severe_with_psychosis", 12, True, True) == (15, "severe")


def test_msm_trd_cutoff_is_display_only() -> None:
    seven = maudsley_staging(duration_months=6, duration_extra_days=False, severity="moderate",
                             antidepressant_failures=3, augmentation_used=True, ect_used=False, settings=SETTINGS)
    eight = maudsley_staging(duration_months=6, duration_extra_days=False, severity="moderate",
                             antidepressant_failures=3, augmentation_used=True, ect_used=True, settings=SETTINGS)
    assert (seven.total, seven.above_trd_cutoff) == (7, False)
    assert (eight.total, eight.above_trd_cutoff) == (8, True)


def test_msm_is_null_with_zero_failures() -> None:
    result = maudsley_staging(duration_months=30, duration_extra_days=False, severity="severe_with_psychosis",
                              antidepressant_failures=0, augmentation_used=True, ect_used=True, settings=SETTINGS)
    assert result.total is None
    assert result.band is None
    assert "non applicable" in result.explanation.text_fr
    staged = stage(staging_input((ad("sertraline", "ssri", "100", "2"),)), date(2026, 4, 20), SETTINGS)
    assert staged.msm.total is None  # not 0
    assert staged.thase_rush.stage == 0


@pytest.mark.parametrize(
    ("start", "on", "expected"),
    [
        (date(2025, 4, 20), date(2026, 4, 20), (12, False)),
        (date(2025, 4, 20), date(2026, 4, 21), (12, True)),
        (date(2024, 10, 1), date(2026, 4, 20), (18, True)),
        (date(2024, 1, 31), date(2024, 2, 29), (1, False)),
        (date(2026, 4, 20), date(2026, 4, 20), (0, False)),
    ],
)
def test_episode_duration_months(start: date, on: date, expected: tuple[int, bool]) -> None:
    assert episode_duration_months(start, on) == expected


def test_duration_boundary_through_stage() -> None:
    trials = (ad("sertraline", "ssri", "100", "8"),)
    exactly_12 = stage(staging_input(trials, episode_start=date(2025, 4, 20)), date(2026, 4, 20), SETTINGS)
    one_day_more = stage(staging_input(trials, episode_start=date(2025, 4, 20)), date(2026, 4, 21), SETTINGS)
    assert exactly_12.msm.dimensions[0].points == 1
    assert one_day_more.msm.dimensions[0].points == 2
    months_only = StagingInput(EPISODE, "unipolar", "mild", trials, episode_months=25)
    assert stage(months_only, date(2026, 4, 20), SETTINGS).msm.dimensions[0].points == 3


# -- §5.5 Thase–Rush ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("classes", "bilateral_ect", "stage_"),
    [
        ((), False, 0),
        (("ssri",), False, 1),
        (("tca",), False, 1),
        (("ssri", "snri"), False, 2),
        (("ssri", "tca"), False, 2),  # the TCA cannot be both the second class and the stage III TCA
        (("ssri", "snri", "tca"), False, 3),
        (("ssri", "maoi", "tca"), False, 3),
        (("ssri", "snri", "tca", "maoi"), False, 4),
        (("ssri", "snri", "tca", "maoi"), True, 5),
        (("ssri", "tca", "maoi"), True, 3),  # V needs all of IV first
        (("ssri",), True, 1),
    ],
)
def test_thase_rush_stages(classes: tuple[str, ...], bilateral_ect: bool, stage_: int) -> None:
    assert thase_rush_stage(classes, bilateral_ect).stage == stage_


def test_thase_rush_any_order_and_bilateral_ect_through_stage() -> None:
    maoi_first = (
        ad("phenelzine", "maoi", "60", "8"),
        ad("clomipramine", "tca", "150", "8"),
        ad("venlafaxine", "snri", "225", "8"),
        ad("sertraline", "ssri", "150", "8"),
    )
    result = stage(staging_input(maoi_first), date(2026, 4, 20), SETTINGS)
    assert result.thase_rush.label == "IV"
    right_ul = (*maoi_first, TreatmentTrial(EPISODE, "ect", "ECT", sessions=12, ect_laterality="right_unilateral", outcome="non_response_lt25"))
    assert stage(staging_input(right_ul), date(2026, 4, 20), SETTINGS).thase_rush.label == "IV"
    bilateral = (*maoi_first, TreatmentTrial(EPISODE, "ect", "ECT", sessions=12, ect_laterality="bilateral", outcome="non_response_lt25"))
    assert stage(staging_input(bilateral), date(2026, 4, 20), SETTINGS).thase_rush.label == "V"
    responded = (*maoi_first, TreatmentTrial(EPISODE, "ect", "ECT", sessions=12, ect_laterality="bilateral", outcome="response_ge50"))
    assert stage(staging_input(responded), date(2026, 4, 20), SETTINGS).thase_rush.label == "IV"


def test_thase_rush_ignores_inadequate_trials() -> None:
    trials = (ad("sertraline", "ssri", "100", "8"), ad("venlafaxine", "snri", "225", "3"))
    assert stage(staging_input(trials), date(2026, 4, 20), SETTINGS).thase_rush.stage == 1


# -- R-STG-06 checklist and validation ------------------------------------------------------------


def test_pseudo_resistance_checklist() -> None:
    empty = pseudo_resistance_checklist({}, SETTINGS)
    assert empty.complete is False
    assert len(empty.items) == 8
    assert "compléter la liste" in empty.explanation.text_fr
    codes = [item.code for item in SETTINGS.pseudo_resistance]
    clear = pseudo_resistance_checklist(dict.fromkeys(codes, False), SETTINGS)
    assert clear.complete is True and clear.any_present is False
    present = pseudo_resistance_checklist({**dict.fromkeys(codes, False), "adhd": True}, SETTINGS)
    assert present.any_present is True
    assert "TDAH" in present.explanation.text_fr
    with pytest.raises(ValidationFailed) as caught:
        pseudo_resistance_checklist({"astrology": True}, SETTINGS)
    assert caught.value.errors[0].field == "pseudo_resistance.astrology"


def test_invalid_staging_input_lists_every_error() -> None:
    bad_trial = msgspec.structs.replace(ad("sertraline", "ssri", "100", "8"), weeks_at_adequate_dose=Decimal(-1),
                                        improvement_pct=Decimal(120))
    data = StagingInput(EPISODE, "unipolar", "mild", (bad_trial,), pseudo_resistance={"nope": True})
    with pytest.raises(ValidationFailed) as caught:
        stage(data, date(2026, 4, 20), SETTINGS)
    fields = {e.field for e in caught.value.errors}
    assert fields == {"episode_start", "pseudo_resistance.nope", "trials[0].weeks_at_adequate_dose",
                      "trials[0].improvement_pct"}
    future = StagingInput(EPISODE, "unipolar", "mild", (), episode_start=date(2027, 1, 1))
    with pytest.raises(ValidationFailed):
        stage(future, date(2026, 4, 20), SETTINGS)


def test_trial_is_json_round_trippable() -> None:
    trial = worked_example_trials()[3]
    decoded = msgspec.json.decode(msgspec.json.encode(trial), type=TreatmentTrial)
    assert decoded == trial
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"episode_id": "e", "modality": "antidepressant", "agent": "x", "bogus": 1}',
                            type=TreatmentTrial)
