"""Protocol catalogue: §6.3 derived formulas and checks, §6.4 V-PRO-01..08, §6.2 data."""

from __future__ import annotations

from fractions import Fraction

import msgspec
import pytest

from rtms_pathway.catalogue.loader_planning import load_planning_settings, load_protocol_catalogue
from rtms_pathway.model.protocols import (
    Burst,
    IntensityRange,
    ProtocolBlock,
    ProtocolCatalogue,
    ProtocolDefinition,
    weakest_confidence,
)
from rtms_pathway.rules.protocols import (
    ProtocolArithmeticError,
    block_pulses,
    bursts_per_train,
    check_intensity,
    check_new_version,
    cycle_seconds,
    exact_intensity_pct_mso,
    format_duration,
    intensity_pct_mso,
    new_version,
    prescription_issues,
    protocol_fingerprint,
    round_fraction,
    session_seconds,
    session_seconds_int,
    to_fraction,
    total_pulses,
    validate_catalogue,
    validate_protocol,
)

CATALOGUE = load_protocol_catalogue()
TOLERANCE = load_planning_settings().pro_duration_tolerance_pct


def proto(code: str) -> ProtocolDefinition:
    return CATALOGUE.get(code)


def replace_block(definition: ProtocolDefinition, index: int = 0, **changes: object) -> ProtocolDefinition:
    blocks = list(definition.blocks)
    blocks[index] = msgspec.structs.replace(blocks[index], **changes)
    return msgspec.structs.replace(definition, blocks=blocks)


# --- §6.3 checks ---------------------------------------------------------------------------------


def test_hf_left_10hz_3000_pulses_and_2224_seconds() -> None:
    d = proto("hf_left_10hz")
    assert total_pulses(d) == 3000  # 75 × 10 × 4
    assert session_seconds(d) == 2224  # 300 + 74 × 26
    assert cycle_seconds(d) == 2250  # the published "37.5 min"
    assert format_duration(session_seconds(d)) == "37 min 04 s"
    assert format_duration(cycle_seconds(d)) == "37 min 30 s"


def test_deep_tms_h1_1980_pulses_and_1190_seconds() -> None:
    d = proto("deep_tms_h1")
    assert total_pulses(d) == 1980  # 55 × 18 × 2
    assert session_seconds(d) == 1190  # 110 + 54 × 20
    assert format_duration(1190) == "19 min 50 s"


def test_itbs_left_600_pulses_and_192_seconds() -> None:
    d = proto("itbs_left")
    assert bursts_per_train(d.blocks[0]) == 10  # 2 s × 5 Hz
    assert total_pulses(d) == 600  # 20 × (2 × 5) × 3
    assert session_seconds(d) == 192  # 40 + 19 × 8
    assert format_duration(192) == "3 min 12 s"


def test_saint_1800_pulses_and_592_seconds() -> None:
    d = proto("accelerated_itbs")
    assert total_pulses(d) == 1800  # 60 × 10 × 3
    assert session_seconds(d) == 592  # 120 + 59 × 8
    assert format_duration(592) == "9 min 52 s"
    # Example C totals: 18,000 pulses a day, 90,000 over 50 sessions.
    assert total_pulses(d) * d.sessions_per_day == 18_000
    assert total_pulses(d) * 50 == 90_000


def test_other_catalogue_durations_of_table_6_2() -> None:
    assert session_seconds(proto("hf_left_10hz_short_iti")) == 1114  # 18 min 34 s
    assert session_seconds(proto("hf_left_10hz_5s_25s")) == 1775  # 29 min 35 s
    assert cycle_seconds(proto("hf_left_10hz_5s_25s")) == 1800
    assert session_seconds(proto("lf_right_1hz")) == 600  # 10 min 00 s, continuous
    assert block_pulses(proto("lf_right_1hz").blocks[0]) == 600  # frequency × duration
    assert [block_pulses(b) for b in proto("bilateral_sequential").blocks] == [600, 1500]
    assert [block_pulses(b) for b in proto("bilateral_sequential_maintenance").blocks] == [600, 3000]


def test_intensity_52_pct_mt_at_120_gives_62_mso() -> None:
    assert exact_intensity_pct_mso(52, 120) == Fraction(624, 10)
    assert intensity_pct_mso(52, 120) == 62


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [("round_half_down", 60), ("round_half_up", 61), ("round_half_even", 60), ("floor", 60), ("ceil", 61)],
)
def test_rounding_is_configurable_on_an_exact_tie(rounding: str, expected: int) -> None:
    # MT 55 % MSO at 110 % MT = 60.5 exactly: only a tie shows the rounding mode.
    assert exact_intensity_pct_mso(55, 110) == Fraction(121, 2)
    assert intensity_pct_mso(55, 110, rounding) == expected  # type: ignore[arg-type]


def test_round_half_down_goes_up_above_the_half() -> None:
    assert round_fraction(Fraction(6051, 100), "round_half_down") == 61
    assert round_fraction(Fraction(6049, 100), "round_half_up") == 60
    assert round_fraction(Fraction(123, 2), "round_half_even") == 62  # 61.5 -> 62 (even)
    with pytest.raises(ValueError, match="unknown rounding"):
        round_fraction(Fraction(1), "bankers")  # type: ignore[arg-type]


def test_to_fraction_reads_floats_through_their_decimal_form() -> None:
    assert to_fraction(0.1) == Fraction(1, 10)
    assert to_fraction(52.5) == Fraction(105, 2)
    assert to_fraction("7/2") == Fraction(7, 2)
    with pytest.raises(TypeError):
        to_fraction(True)
    with pytest.raises(ValueError):
        to_fraction(float("nan"))


def test_session_seconds_int_rounds_up() -> None:
    d = replace_block(proto("hf_left_10hz"), iti_s=26.5)
    assert session_seconds(d) == Fraction(2261)
    d = replace_block(proto("hf_left_10hz"), train_duration_s=4.01, pulses=3008)
    assert session_seconds_int(d) == 2225  # 2224.75 -> 2225


def test_missing_fields_raise_a_named_arithmetic_error() -> None:
    d = replace_block(proto("hf_left_10hz"), frequency_hz=None)
    with pytest.raises(ProtocolArithmeticError, match="frequency_hz"):
        block_pulses(d.blocks[0])
    with pytest.raises(ProtocolArithmeticError, match="theta-burst"):
        bursts_per_train(proto("hf_left_10hz").blocks[0])


# --- §6.4 validations ------------------------------------------------------------------------------


def test_whole_catalogue_passes_every_validation() -> None:
    results = validate_catalogue(CATALOGUE, tolerance_pct=TOLERANCE)
    assert set(results) == {p.ref for p in CATALOGUE.protocols}
    for ref, result in results.items():
        assert result.ok, (ref, result.errors)
        assert result.warnings == [], ref
        assert result.needs_override == [], ref
        assert validate_protocol(CATALOGUE.by_ref(ref), tolerance_pct=TOLERANCE, catalogue=CATALOGUE).ok


def test_v_pro_01_declared_pulses_differ_is_an_error() -> None:
    d = replace_block(proto("hf_left_10hz"), pulses=3001)
    result = validate_protocol(d, tolerance_pct=TOLERANCE)
    assert [(i.rule_id, i.field) for i in result.errors] == [("V-PRO-01", "blocks[0].pulses")]
    assert "3001" in result.errors[0].message_en


def test_v_pro_01_uncomputable_block_is_an_error() -> None:
    d = replace_block(proto("hf_left_10hz"), n_trains=None)
    result = validate_protocol(d, tolerance_pct=TOLERANCE)
    assert [i.rule_id for i in result.errors] == ["V-PRO-01"]


def test_v_pro_02_warns_only_when_both_conventions_are_off() -> None:
    hf = proto("hf_left_10hz")
    # 2250 s (cycle convention) is 1.2 % off the session time: no warning.
    assert validate_protocol(msgspec.structs.replace(hf, declared_duration_s=2250), tolerance_pct=5).warnings == []
    # The vendor's 18:26 for the short-ITI protocol is within 5 %.
    short = msgspec.structs.replace(proto("hf_left_10hz_short_iti"), declared_duration_s=18 * 60 + 26)
    assert validate_protocol(short, tolerance_pct=5).warnings == []
    # 30 min is more than 5 % away from both 2224 s and 2250 s.
    result = validate_protocol(msgspec.structs.replace(hf, declared_duration_s=1800), tolerance_pct=5)
    assert [(i.rule_id, i.severity) for i in result.warnings] == [("V-PRO-02", "warning")]
    assert result.ok  # a warning does not block
    # The tolerance is a setting.
    assert validate_protocol(msgspec.structs.replace(hf, declared_duration_s=1800), tolerance_pct=25).warnings == []


def test_v_pro_03_bursts_per_train_must_be_an_integer() -> None:
    d = replace_block(proto("itbs_left"), train_duration_s=2.1, pulses=630)
    result = validate_protocol(d, tolerance_pct=100)
    assert "V-PRO-03" in {i.rule_id for i in result.errors}


def test_v_pro_03_burst_must_fit_inside_the_burst_period() -> None:
    wide = Burst(pulses_per_burst=3, intra_burst_hz=10, burst_rate_hz=5)  # 0.3 s > 0.2 s
    d = replace_block(proto("itbs_left"), burst=wide)
    result = validate_protocol(d, tolerance_pct=100)
    assert [(i.rule_id, i.field) for i in result.errors] == [("V-PRO-03", "blocks[0].burst")]
    # Exactly filling the period fits (3 × 1/15 s = 0.2 s).
    edge = replace_block(proto("itbs_left"), burst=Burst(pulses_per_burst=3, intra_burst_hz=15, burst_rate_hz=5))
    assert validate_protocol(edge, tolerance_pct=100).ok


def test_v_pro_03_theta_burst_without_bursts_is_an_error() -> None:
    d = replace_block(proto("itbs_left"), burst=None, frequency_hz=10, pulses=400)
    assert "V-PRO-03" in {i.rule_id for i in validate_protocol(d, tolerance_pct=100).errors}


def test_v_pro_04_intensity_outside_range_needs_override() -> None:
    lf = proto("lf_right_1hz")
    assert check_intensity(lf, 0, 110) is None
    assert check_intensity(lf, 0, 120) is None
    issue = check_intensity(lf, 0, 125)
    assert issue is not None and issue.rule_id == "V-PRO-04" and issue.severity == "needs_override"
    assert check_intensity(lf, 0, 105) is not None
    hf = proto("hf_left_10hz")
    blocks = [msgspec.structs.replace(hf.blocks[0], intensity_pct_mt=110,
                                      intensity_range_pct_mt=IntensityRange(min=100, max=120))]
    edited = new_version(hf, blocks=blocks)
    # Its own (widened) range accepts 110 %, the published range (120-120) does not.
    assert validate_protocol(edited, tolerance_pct=TOLERANCE).needs_override == []
    result = validate_protocol(edited, tolerance_pct=TOLERANCE, catalogue=CATALOGUE)
    assert {i.rule_id for i in result.needs_override} == {"V-PRO-04", "V-PRO-06"}
    assert result.ok  # decision support: an override, not a block


def test_v_pro_04_on_a_prescription_one_intensity_per_block() -> None:
    bilateral = proto("bilateral_sequential")
    assert prescription_issues(bilateral, [120, 120]) == []
    issues = prescription_issues(bilateral, [120, 130])
    assert [i.field for i in issues] == ["blocks[1].intensity_pct_mt"]
    with pytest.raises(ValueError, match="2 blocks"):
        prescription_issues(bilateral, [120])


def test_v_pro_05_short_iti_above_100_pct_mt_is_an_error() -> None:
    d = replace_block(proto("hf_left_10hz"), iti_s=1, intensity_range_pct_mt=IntensityRange(min=100, max=130))
    result = validate_protocol(d, tolerance_pct=100)
    assert "V-PRO-05" in {i.rule_id for i in result.errors}
    # At 100 % MT (not above) the same ITI is not flagged by V-PRO-05.
    at_100 = replace_block(d, intensity_pct_mt=100)
    assert "V-PRO-05" not in {i.rule_id for i in validate_protocol(at_100, tolerance_pct=100).errors}
    # ITI 1.5 s is above the limit.
    longer = replace_block(d, iti_s=1.5)
    assert "V-PRO-05" not in {i.rule_id for i in validate_protocol(longer, tolerance_pct=100).errors}


def test_v_pro_06_protocol_not_in_catalogue_needs_override() -> None:
    edited = new_version(proto("hf_left_10hz"), declared_duration_s=2230)
    result = validate_protocol(edited, tolerance_pct=TOLERANCE, catalogue=CATALOGUE)
    assert [i.rule_id for i in result.needs_override] == ["V-PRO-06"]
    assert result.ok


def test_v_pro_07_several_sessions_a_day_need_isi_and_anchor() -> None:
    d = msgspec.structs.replace(proto("accelerated_itbs"), isi_anchor=None)
    assert [i.rule_id for i in validate_protocol(d, tolerance_pct=100).errors] == ["V-PRO-07"]
    twice = msgspec.structs.replace(proto("hf_left_10hz_5s_25s"), min_isi_min=None)
    assert [i.rule_id for i in validate_protocol(twice, tolerance_pct=100).errors] == ["V-PRO-07"]


def test_v_pro_08_edit_creates_a_new_version() -> None:
    hf = proto("hf_left_10hz")
    edited_in_place = msgspec.structs.replace(hf, label_fr="autre libellé")
    issues = check_new_version(hf, edited_in_place)
    assert [i.rule_id for i in issues] == ["V-PRO-08"]
    result = validate_protocol(edited_in_place, tolerance_pct=TOLERANCE, catalogue=CATALOGUE)
    assert "V-PRO-08" in {i.rule_id for i in result.errors}
    bumped = new_version(hf, label_fr="autre libellé")
    assert bumped.version == 2 and bumped.ref == "hf_left_10hz@2"
    assert bumped.content_hash == protocol_fingerprint(bumped) != hf.content_hash
    assert check_new_version(hf, bumped) == []
    jump = msgspec.structs.replace(bumped, version=5)
    assert [i.field for i in check_new_version(hf, jump)] == ["version"]
    assert [i.field for i in check_new_version(hf, msgspec.structs.replace(hf, id="other"))] == ["id"]
    assert check_new_version(hf, hf) == []


def test_fingerprint_ignores_only_the_hash_field() -> None:
    hf = proto("hf_left_10hz")
    assert protocol_fingerprint(hf) == hf.content_hash
    assert protocol_fingerprint(msgspec.structs.replace(hf, content_hash="x")) == hf.content_hash
    assert protocol_fingerprint(msgspec.structs.replace(hf, notes=["n"])) != hf.content_hash


def test_every_error_is_reported_at_once() -> None:
    d = replace_block(proto("accelerated_itbs"), pulses=1, iti_s=0.5, intensity_pct_mt=110,
                      intensity_range_pct_mt=IntensityRange(min=110, max=110))
    d = msgspec.structs.replace(d, min_isi_min=None)
    rules = {i.rule_id for i in validate_protocol(d, tolerance_pct=100).errors}
    assert {"V-PRO-01", "V-PRO-05", "V-PRO-07"} <= rules


# --- catalogue data (§6.1, §6.2, §0.1) -------------------------------------------------------------


def test_catalogue_holds_every_table_row() -> None:
    assert CATALOGUE.ids() == [
        "hf_left_10hz", "hf_left_10hz_short_iti", "hf_left_10hz_5s_25s", "itbs_left", "accelerated_itbs",
        "lf_right_1hz", "bilateral_sequential", "bilateral_sequential_maintenance", "deep_tms_h1",
    ]
    assert all(p.version == 1 for p in CATALOGUE.protocols)


@pytest.mark.parametrize(
    ("code", "intensity", "per_day", "acute"),
    [
        ("hf_left_10hz", 120, 1, (20, 30)),
        ("hf_left_10hz_short_iti", 120, 1, (20, 36)),
        ("hf_left_10hz_5s_25s", 110, 1, (30, 30)),
        ("itbs_left", 120, 1, (20, 30)),
        ("accelerated_itbs", 90, 10, (50, 50)),
        ("lf_right_1hz", 110, 1, (20, 30)),
        ("bilateral_sequential", 120, 1, (15, 30)),
        ("deep_tms_h1", 120, 1, (20, 20)),
    ],
)
def test_table_6_2_values(code: str, intensity: int, per_day: int, acute: tuple[int, int]) -> None:
    d = proto(code)
    assert d.blocks[0].intensity_pct_mt == intensity
    assert d.sessions_per_day == per_day
    assert d.acute_sessions_range == acute
    assert d.sources and d.evidence


def test_accelerated_itbs_is_a_five_day_block_with_a_50_min_isi() -> None:
    d = proto("accelerated_itbs")
    assert d.consecutive_days_required and d.min_isi_min == 50 and d.isi_anchor == "end_to_start"
    assert d.fact_confidence["isi_anchor"] == "to_verify"
    assert d.fact_confidence["blocks[0].n_trains"] == "to_verify"
    assert d.fact_confidence["blocks[0].pulses"] == "verified"
    assert d.blocks[0].targeting_method == "fcmri_sgacc_neuronav"


@pytest.mark.parametrize(
    ("code", "fact"),
    [
        ("itbs_left", "blocks[0].burst"),
        ("itbs_left", "blocks[0].intensity_pct_mt"),
        ("lf_right_1hz", "blocks[0].pulses"),
        ("bilateral_sequential", "blocks[1].n_trains"),
        ("deep_tms_h1", "blocks[0].intensity_pct_mt"),
        ("hf_left_10hz_5s_25s", "min_isi_min"),
    ],
)
def test_to_verify_facts_are_marked_and_weaken_the_entry(code: str, fact: str) -> None:
    d = proto(code)
    assert d.fact_confidence[fact] == "to_verify"
    assert d.confidence == "to_verify"


def test_verified_entries_stay_verified_with_design_facts() -> None:
    hf = proto("hf_left_10hz")
    assert hf.confidence == "verified"
    assert hf.fact_confidence["blocks[0].targeting_method"] == "design"
    assert hf.evidence[0].body == "LEFAUCHEUR20" and hf.evidence[0].level == "A"
    assert weakest_confidence(["verified", "design"]) == "verified"
    assert weakest_confidence(["design", "conflict", "to_verify"]) == "to_verify"
    assert weakest_confidence([]) == "verified"


def test_catalogue_lookup_by_ref_and_version() -> None:
    assert CATALOGUE.by_ref("itbs_left@1").id == "itbs_left"
    assert "deep_tms_h1" in CATALOGUE and "nope" not in CATALOGUE
    with pytest.raises(KeyError):
        CATALOGUE.get("itbs_left", 2)
    with pytest.raises(KeyError):
        CATALOGUE.by_ref("itbs_left")
    with pytest.raises(KeyError):
        CATALOGUE.get("nope")
    two = ProtocolCatalogue(catalogue_version="t", protocols=[*CATALOGUE.protocols,
                                                              new_version(proto("itbs_left"), notes=["v2"])])
    assert two.get("itbs_left").version == 2
    assert two.get("itbs_left", 1).version == 1


def test_maintenance_only_protocol() -> None:
    d = proto("bilateral_sequential_maintenance")
    assert not d.induction and d.maintenance_sessions_per_week_range == (1, 2)
    assert d.default_maintenance_template == "M-BILAT-ECT"
    assert proto("deep_tms_h1").default_maintenance_template == "M-DTMS"


def test_a_new_protocol_block_can_be_validated_without_the_catalogue() -> None:
    block = ProtocolBlock(target="L_DLPFC", targeting_method="beam_f3", coil_type="figure8", pulses=2000,
                          intensity_pct_mt=110, intensity_range_pct_mt=IntensityRange(min=100, max=120),
                          frequency_hz=20, train_duration_s=2, iti_s=28, n_trains=50)
    d = msgspec.structs.replace(proto("hf_left_10hz"), id="hf_left_20hz", blocks=[block], declared_duration_s=None)
    assert validate_protocol(d, tolerance_pct=TOLERANCE).ok
    result = validate_protocol(d, tolerance_pct=TOLERANCE, catalogue=CATALOGUE)
    assert [i.rule_id for i in result.needs_override] == ["V-PRO-06"]
