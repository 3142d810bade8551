"""Strict loaders of staging_settings.yaml and mbc_settings.yaml (domain-rtms §0.1, §13)."""

from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from rtms_pathway.catalogue.loader_staging import (
    SettingsError,
    load_mbc_settings,
    load_session_settings,
    load_staging_settings,
    parse_mbc_settings,
    parse_staging_settings,
)


def shipped(name: str) -> dict[str, Any]:
    text = resources.files("rtms_pathway.catalogue").joinpath(name).read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    assert isinstance(raw, dict)
    return raw


def dump(raw: dict[str, Any]) -> str:
    return yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)


def test_shipped_staging_defaults_match_the_specification() -> None:
    s = load_staging_settings()
    assert s.min_weeks == 4
    assert s.has_failure_below_pct == 50
    assert s.eu_pearl_failure_below_pct == 25
    assert s.require_different_classes is False
    assert s.high_resistance_definition == "mtr_mdd"
    assert s.high_resistance_msm_min == 11
    assert str(s.msm_trd_cutoff) == "7.5"
    assert s.confidence("stg.min_weeks") == "verified"
    assert s.confidence("stg.has_failure_below_pct") == "to_verify"
    assert s.confidence("stg.require_different_classes") == "conflict"
    assert s.provenance["stg.require_different_classes"].alternative
    assert s.confidence("stg.high_resistance_definition") == "to_verify"
    assert s.confidence("msm") == "verified"
    assert [(b.code, b.min, b.max) for b in s.msm.bands] == [("mild", 3, 6), ("moderate", 7, 10), ("severe", 11, 15)]


def test_every_molecule_dose_is_marked_to_verify() -> None:
    s = load_staging_settings()
    assert s.molecules
    assert all(row.confidence == "to_verify" for row in s.molecules)
    for key in ("stg.has_failure_below_pct", "stg.high_resistance_definition", "stg.msm_trd_cutoff",
                "molecules.escitalopram"):
        assert key in s.to_verify


def test_shipped_mbc_and_session_defaults() -> None:
    m = load_mbc_settings()
    assert (m.early_sessions, m.early_min_pct, m.response_pct) == (10, 20, 50)
    assert m.partial_low_pct == 25
    assert m.confidence("mbc.partial_low") == "conflict"
    assert "30" in (m.provenance["mbc.partial_low"].alternative or "")
    assert (m.adequate_course_sessions, m.residual_gad7, m.relapse_gain_loss_pct) == (20, 10, 50)
    assert (m.ymrs_absolute, m.ymrs_rise) == (12, 6)
    assert m.follow_up_self_months == (1, 3, 6, 12)
    assert m.follow_up_clinician_months == (3, 12)
    for key in ("mbc.adequate_course_sessions", "mbc.residual_gad7", "mbc.ymrs.absolute_min", "mbc.ymrs.rise_min",
                "mbc.baseline_window_days"):
        assert key in m.to_verify
    ses = load_session_settings()
    assert ses.partial_threshold_pct == 80
    assert ses.seizure_always_sae is True
    assert set(ses.to_verify) == {"ses.partial_threshold_pct", "ses.seizure_always_sae"}


def test_staging_errors_name_the_file_and_every_key() -> None:
    raw = shipped("staging_settings.yaml")
    raw["settings"]["stg.min_weeks"]["value"] = 3
    raw["settings"]["stg.response_pct"]["value"] = "fifty"
    raw["settings"]["stg.min_wekes"] = {"value": 4, "confidence": "verified", "source": "typo"}
    del raw["settings"]["stg.has_failure_below_pct"]
    raw["settings"]["stg.require_different_classes"]["confidence"] = "sure"
    with pytest.raises(SettingsError) as caught:
        parse_staging_settings(dump(raw), "site_staging.yaml")
    problems = caught.value.problems
    assert all(p.startswith("site_staging.yaml: ") for p in problems)
    joined = "\n".join(problems)
    for key in ("settings.stg.min_weeks", "settings.stg.response_pct", "settings.stg.min_wekes",
                "settings.stg.has_failure_below_pct", "settings.stg.require_different_classes"):
        assert key in joined
    assert len(problems) == 5


def test_staging_table_errors() -> None:
    raw = shipped("staging_settings.yaml")
    raw["msm"]["bands"][1]["min"] = 8  # gap between mild and moderate
    raw["molecules"].append(dict(raw["molecules"][0]))  # duplicate agent
    raw["molecules"][1]["min_effective_dose"] = 0
    raw["extra_section"] = {}
    with pytest.raises(SettingsError) as caught:
        parse_staging_settings(dump(raw))
    joined = "\n".join(caught.value.problems)
    assert "staging_settings.yaml: extra_section: unknown key" in joined
    assert "msm.bands" in joined
    assert "molecules.citalopram: duplicate" in joined
    assert "min_effective_dose must be > 0" in joined


def test_mbc_cross_checks() -> None:
    raw = shipped("mbc_settings.yaml")
    raw["settings"]["mbc.partial_low"]["value"] = 50
    raw["settings"]["mbc.cadence.follow_up_self_months"]["value"] = [3, 1]
    raw["switch_map"][1]["suggest"] = ["lf_right_1hz"]
    with pytest.raises(SettingsError) as caught:
        parse_mbc_settings(dump(raw), "mbc.yaml")
    joined = "\n".join(caught.value.problems)
    assert "mbc.yaml: settings.mbc.partial_low: must be below mbc.response_pct" in joined
    assert "settings.mbc.cadence.follow_up_self_months" in joined
    assert "switch_map[1]" in joined


def test_conflict_alternative_can_be_chosen_by_a_site(tmp_path: Path) -> None:
    raw = shipped("mbc_settings.yaml")
    raw["settings"]["mbc.partial_low"]["value"] = 30
    path = tmp_path / "mbc_settings.yaml"
    path.write_text(dump(raw), encoding="utf-8")
    assert load_mbc_settings(path).partial_low_pct == 30


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_staging_settings(tmp_path / "missing.yaml")
    assert "missing.yaml" in str(caught.value)
    with pytest.raises(SettingsError):
        parse_staging_settings("- just\n- a list\n")
    with pytest.raises(SettingsError):
        parse_staging_settings("settings: [unclosed\n")
    with pytest.raises(SettingsError) as caught:
        parse_mbc_settings("version: 1\n")
    joined = "\n".join(caught.value.problems)
    assert "version: must be non-empty text" in joined and "settings: missing" in joined
