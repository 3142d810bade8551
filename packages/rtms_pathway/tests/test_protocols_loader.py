"""Strict loader of protocols.yaml: every problem named by file and key; V-PRO-08 immutability."""

from __future__ import annotations

from importlib import resources

import pytest

from rtms_pathway.catalogue.loader_planning import (
    PlanningCatalogueError,
    load_protocol_catalogue,
    parse_protocol_catalogue,
)
from rtms_pathway.rules.protocols import protocol_fingerprint

SHIPPED = resources.files("rtms_pathway.catalogue").joinpath("protocols.yaml").read_text(encoding="utf-8")


def problems_of(text: str, *, verify_hashes: bool = True) -> list[str]:
    with pytest.raises(PlanningCatalogueError) as info:
        parse_protocol_catalogue(text, "protocols.yaml", verify_hashes=verify_hashes)
    return info.value.problems


def test_shipped_catalogue_loads_and_is_cached() -> None:
    assert load_protocol_catalogue() is load_protocol_catalogue()
    assert load_protocol_catalogue().catalogue_version
    assert parse_protocol_catalogue(SHIPPED) == load_protocol_catalogue()


def test_every_hash_matches_its_content() -> None:
    for definition in load_protocol_catalogue().protocols:
        assert definition.content_hash == protocol_fingerprint(definition), definition.ref


def test_in_place_edit_of_a_published_version_is_refused() -> None:
    edited = SHIPPED.replace("        iti_s: 26\n        n_trains: 75\n        pulses: 3000\n        intensity_pct_mt: 120\n"
                             "        intensity_range_pct_mt: {min: 120, max: 120}\n    sessions_per_day: 1\n"
                             "    days_per_week: 5\n    consecutive_days_required: false\n    acute_sessions_default: 30",
                             "        iti_s: 26\n        n_trains: 75\n        pulses: 3000\n        intensity_pct_mt: 120\n"
                             "        intensity_range_pct_mt: {min: 120, max: 120}\n    sessions_per_day: 1\n"
                             "    days_per_week: 5\n    consecutive_days_required: false\n    acute_sessions_default: 25",
                             1)
    assert edited != SHIPPED
    problems = problems_of(edited)
    assert len(problems) == 1
    assert problems[0].startswith("protocols.yaml: protocols[hf_left_10hz@1].content_hash: content changed")
    assert "V-PRO-08" in problems[0] and "version 2" in problems[0]


def test_unknown_field_is_named_with_its_protocol() -> None:
    text = SHIPPED.replace("    label_fr: \"rTMS haute fréquence 10 Hz, DLPFC gauche\"\n",
                           "    label_fr: \"rTMS haute fréquence 10 Hz, DLPFC gauche\"\n    colour: blue\n", 1)
    problems = problems_of(text)
    assert problems == ["protocols.yaml: protocols[hf_left_10hz@1]: Object contains unknown field `colour`"]


def test_wrong_type_is_named_with_its_path() -> None:
    text = SHIPPED.replace("        pulses: 600\n        intensity_pct_mt: 120\n", "        pulses: six hundred\n"
                           "        intensity_pct_mt: 120\n", 1)
    problems = problems_of(text)
    assert problems == ["protocols.yaml: protocols[itbs_left@1].blocks[0].pulses: Expected `int`, got `str`"]


def test_duplicated_yaml_key_is_refused() -> None:
    text = SHIPPED.replace("    sessions_per_day: 10\n", "    sessions_per_day: 10\n    sessions_per_day: 1\n", 1)
    problems = problems_of(text)
    assert len(problems) == 1 and "duplicated key 'sessions_per_day'" in problems[0]
    assert problems[0].startswith("protocols.yaml: not valid YAML")


def test_v_pro_01_in_the_file_blocks_loading() -> None:
    text = SHIPPED.replace("        pulses: 1980\n", "        pulses: 1990\n", 1)
    problems = problems_of(text, verify_hashes=False)
    assert problems == ["protocols.yaml: protocols[deep_tms_h1@1].blocks[0].pulses: V-PRO-01: "
                        "Declared pulses 1990 differ from the computed 1980."]


def test_several_problems_are_reported_together() -> None:
    text = SHIPPED.replace("        pulses: 1980\n", "        pulses: 1990\n", 1)
    text = text.replace("    acute_sessions_default: 15\n", "    acute_sessions_default: 40\n", 1)
    text = text.replace("  - id: lf_right_1hz\n    version: 1\n", "  - id: lf_right_1hz\n    version: 2\n", 1)
    problems = problems_of(text, verify_hashes=False)
    joined = "\n".join(problems)
    assert "protocols[deep_tms_h1@1].blocks[0].pulses: V-PRO-01" in joined
    assert "protocols[bilateral_sequential@1].acute_sessions_default: must lie in acute_sessions_range" in joined
    assert "protocols[lf_right_1hz].version: versions must be 1..n without gaps, got [2]" in joined


def test_block_shape_is_checked() -> None:
    text = SHIPPED.replace("        continuous: true\n        frequency_hz: 1\n        duration_s: 600\n        pulses: 600\n"
                           "        intensity_pct_mt: 110\n",
                           "        continuous: true\n        frequency_hz: 1\n        duration_s: 600\n        iti_s: 5\n"
                           "        pulses: 600\n        intensity_pct_mt: 110\n", 1)
    problems = problems_of(text, verify_hashes=False)
    assert problems == ["protocols.yaml: protocols[lf_right_1hz@1].blocks[0].iti_s: not used by a continuous block"]


def test_confidence_must_be_the_weakest_fact() -> None:
    text = SHIPPED.replace("    sources: [COLE20, COLE22]\n    confidence: to_verify\n",
                           "    sources: [COLE20, COLE22]\n    confidence: verified\n", 1)
    problems = problems_of(text, verify_hashes=False)
    assert problems == ["protocols.yaml: protocols[accelerated_itbs@1].confidence: is 'verified' but a fact is "
                        "'to_verify'; use the weakest marker"]


def test_bad_hash_format_and_top_level_keys() -> None:
    text = SHIPPED.replace('content_hash: "sha256:', 'content_hash: "md5:', 1) + "extra: 1\n"
    problems = problems_of(text)
    assert "protocols.yaml: extra: unknown key" in problems
    assert any("protocols[hf_left_10hz@1].content_hash: missing or malformed" in p for p in problems)


def test_not_a_mapping_and_empty_list() -> None:
    assert problems_of("- 1\n") == ["protocols.yaml: expected a mapping at the top level"]
    assert problems_of("catalogue_version: x\nprotocols: []\n") == ["protocols.yaml: protocols: must be a non-empty list"]
