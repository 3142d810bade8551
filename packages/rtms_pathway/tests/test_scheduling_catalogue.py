"""planning_settings.yaml and planning_templates.yaml: values, confidence markers, strict loading."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import pytest

from rtms_pathway.catalogue.loader_planning import (
    PlanningCatalogueError,
    check_cross_references,
    load_planning_settings,
    load_planning_templates,
    load_protocol_catalogue,
    parse_planning_settings,
    parse_planning_templates,
    ruleset_version,
)

FOLDER = resources.files("rtms_pathway.catalogue")
SETTINGS_TEXT = FOLDER.joinpath("planning_settings.yaml").read_text(encoding="utf-8")
TEMPLATES_TEXT = FOLDER.joinpath("planning_templates.yaml").read_text(encoding="utf-8")


def settings_problems(text: str) -> list[str]:
    with pytest.raises(PlanningCatalogueError) as info:
        parse_planning_settings(text, "planning_settings.yaml")
    return info.value.problems


def template_problems(text: str) -> list[str]:
    with pytest.raises(PlanningCatalogueError) as info:
        parse_planning_templates(text, "planning_templates.yaml")
    return info.value.problems


# --- settings -------------------------------------------------------------------------------------


def test_settings_values() -> None:
    s = load_planning_settings()
    assert s.mt_interval_days == 7
    assert s.mt_high_risk_interval_days == 3
    assert s.mt_change_confirm_pct == 10
    assert s.sch_consecutive_missed_alert == 3
    assert s.maint_min_sessions_per_month == 2
    assert s.maint_relapse_window_months == 5
    assert s.isi_default_min_isi_min == 50 and s.isi_default_anchor == "end_to_start"
    assert s.site_opening_time == dt.time(8) and s.site_closing_time == dt.time(18)
    assert s.pro_intensity_rounding == "round_half_down"
    assert s.device_max_output_pct_mso == 100
    assert s.sch_extension_steps == [5, 10]


def test_every_to_verify_value_is_marked() -> None:
    s = load_planning_settings()
    assert s.to_verify() == [
        "isi.default_anchor",
        "isi.default_min_isi_min",
        "mt.change_confirm_pct",
        "mt.high_risk_interval_days",
        "sch.consecutive_missed_alert",
    ]
    assert s.provenance["mt.interval_days"].confidence == "verified"
    assert "R-MT-02" in s.provenance["mt.interval_days"].source
    assert s.provenance["isi.default_anchor"].alternative == "start_to_start"
    assert s.provenance["maint.relapse_window_months"].confidence == "verified"


def test_unknown_and_missing_settings_are_named() -> None:
    text = SETTINGS_TEXT.replace("  mt.interval_days:\n", "  mt.intervall_days:\n", 1)
    assert settings_problems(text) == [
        "planning_settings.yaml: mt.intervall_days: unknown setting",
        "planning_settings.yaml: mt.interval_days: missing",
    ]


def test_wrong_type_and_range_are_named() -> None:
    text = SETTINGS_TEXT.replace("    value: 7\n", "    value: seven\n", 1)
    text = text.replace("    value: 3\n    confidence: to_verify\n    source: \"domain-rtms R-SCH-07",
                        "    value: 0\n    confidence: to_verify\n    source: \"domain-rtms R-SCH-07", 1)
    text = text.replace("    value: \"18:00\"\n", "    value: \"6 pm\"\n", 1)
    text = text.replace("    value: round_half_down\n", "    value: bankers\n", 1)
    problems = settings_problems(text)
    assert "planning_settings.yaml: mt.interval_days.value: Expected `int`, got `str`" in problems
    assert "planning_settings.yaml: sch.consecutive_missed_alert.value: must be in 1–30, got 0" in problems
    assert "planning_settings.yaml: site.closing_time.value: must be a time HH:MM, got '6 pm'" in problems
    assert any(p.startswith("planning_settings.yaml: pro.intensity_rounding.value: must be one of") for p in problems)
    assert len(problems) == 4


def test_bad_confidence_marker_and_boolean_value() -> None:
    text = SETTINGS_TEXT.replace("    value: 7\n    confidence: verified\n", "    value: true\n    confidence: sure\n", 1)
    assert settings_problems(text) == ["planning_settings.yaml: mt.interval_days.confidence: Invalid enum value 'sure'"]
    text = text.replace("    confidence: sure\n", "    confidence: verified\n", 1)
    assert settings_problems(text) == ["planning_settings.yaml: mt.interval_days.value: must be int, got a boolean"]


def test_opening_must_precede_closing() -> None:
    text = SETTINGS_TEXT.replace("    value: \"08:00\"\n", "    value: \"19:00\"\n", 1)
    assert settings_problems(text) == ["planning_settings.yaml: site.opening_time: must be before site.closing_time"]


def test_duplicated_setting_is_refused() -> None:
    text = SETTINGS_TEXT.replace("  mt.high_risk_interval_days:\n", "  mt.interval_days:\n    value: 1\n"
                                 "    confidence: design\n    source: x\n  mt.high_risk_interval_days:\n", 1)
    problems = settings_problems(text)
    assert len(problems) == 1 and "duplicated key 'mt.interval_days'" in problems[0]


# --- templates ------------------------------------------------------------------------------------


def test_templates_of_7_4_and_7_5() -> None:
    t = load_planning_templates()
    assert [x.id for x in t.tapers] == ["T-NS-321", "T-NONE"]
    assert [x.id for x in t.maintenance] == [
        "M-OREARDON", "M-WEEKLY-BIWEEKLY-FR", "M-DTMS", "M-ECT-SUB", "M-BILAT-ECT", "M-CLUSTER-FITZ",
        "M-CLUSTER-RESCUE",
    ]
    ns = t.taper("T-NS-321")
    assert ns.weeks == [[0, 2, 4], [1, 3], [2]] and sum(map(len, ns.weeks)) == 6
    assert ns.confidence == "verified" and ns.fact_confidence["weekdays"] == "design"
    assert t.taper("T-NONE").weeks == []
    oreardon = t.maintenance_template("M-OREARDON")
    assert [(s.every_days, s.count) for s in oreardon.steps] == [(7, 4), (14, 4), (28, 3)]
    assert oreardon.fact_confidence["monthly_as_4_weekly"] == "design"
    fitz = t.maintenance_template("M-CLUSTER-FITZ")
    assert fitz.cluster is not None and fitz.cluster.day_sessions == [3, 2] and fitz.cluster.min_isi_min == 50
    assert fitz.confidence == "to_verify"
    assert fitz.fact_confidence["day_split_3_2"] == "to_verify"
    assert fitz.fact_confidence["intra_day_isi_50_min"] == "to_verify"
    rescue = t.maintenance_template("M-CLUSTER-RESCUE")
    assert rescue.kind == "rescue" and rescue.cluster is not None and sum(rescue.cluster.day_sessions) == 5
    assert t.maintenance_template("M-DTMS").weekly is not None
    assert t.maintenance_template("M-ECT-SUB").steps[0].every_days == 24.5
    assert t.maintenance_template("M-BILAT-ECT").protocol_id == "bilateral_sequential_maintenance"
    with pytest.raises(KeyError):
        t.taper("T-XX")
    with pytest.raises(KeyError):
        t.maintenance_template("M-XX")


def test_template_errors_are_named() -> None:
    text = TEMPLATES_TEXT.replace("    weeks: [[0, 2, 4], [1, 3], [2]]\n", "    weeks: [[0, 2, 9], [3, 1], [2]]\n", 1)
    text = text.replace("      - {every_days: 24.5, count: null}\n", "      - {every_days: 0, count: null}\n", 1)
    text = text.replace("      - {every_days: 7, count: 4}\n      - {every_days: 14, count: 4}\n      - {every_days: 28",
                        "      - {every_days: 7, count: null}\n      - {every_days: 14, count: 4}\n      - {every_days: 28",
                        1)
    problems = template_problems(text)
    assert "planning_templates.yaml: tapers[T-NS-321].weeks[0]: must be increasing weekdays 0 (Monday) .. 6, " \
           "at least one" in problems
    assert any(p.startswith("planning_templates.yaml: tapers[T-NS-321].weeks[1]:") for p in problems)
    assert "planning_templates.yaml: maintenance[M-ECT-SUB].steps[0].every_days: must be > 0" in problems
    assert "planning_templates.yaml: maintenance[M-OREARDON].steps[0].count: only the last step may be " \
           "open-ended (null)" in problems


def test_template_unknown_field_and_duplicate_id() -> None:
    text = TEMPLATES_TEXT.replace("    then: stop\n", "    then: stop\n    colour: red\n", 1)
    text = text.replace("  - id: M-ECT-SUB\n", "  - id: M-DTMS\n", 1)
    problems = template_problems(text)
    assert "planning_templates.yaml: maintenance[M-CLUSTER-RESCUE]: Object contains unknown field `colour`" in problems
    assert "planning_templates.yaml: M-DTMS: id used twice" in problems


def test_template_confidence_must_be_the_weakest() -> None:
    text = TEMPLATES_TEXT.replace("    sources: [FITZ13, SEED]\n    confidence: to_verify\n",
                                  "    sources: [FITZ13, SEED]\n    confidence: verified\n", 1)
    assert template_problems(text) == ["planning_templates.yaml: maintenance[M-CLUSTER-FITZ].confidence: is "
                                       "'verified' but a fact is 'to_verify'; use the weakest marker"]


def test_cross_references_resolve() -> None:
    catalogue = load_protocol_catalogue()
    templates = load_planning_templates()
    assert check_cross_references(catalogue, templates) == []
    broken = parse_planning_templates(TEMPLATES_TEXT.replace("    protocol_id: deep_tms_h1\n",
                                                             "    protocol_id: deep_tms_h7\n", 1))
    problems = check_cross_references(catalogue, broken)
    assert problems == ["planning_templates.yaml: maintenance[M-DTMS].protocol_id: unknown protocol 'deep_tms_h7' "
                        "(not in protocols.yaml)"]


def test_ruleset_version_names_the_three_files() -> None:
    assert ruleset_version().startswith("protocols:") and ";templates:" in ruleset_version()
