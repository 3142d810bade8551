"""Contract mapping of POST /api/v1/rtms/progress (api-contract.md)."""

from typing import Any

import msgspec
import pytest

from rtms_pathway.rules.progress_api import (
    ContractProgressAnswer,
    ContractProgressInput,
    ContractThresholds,
    parse_contract_progress,
    progress_contract,
    validate_contract_progress,
)
from shared_core.errors import ValidationFailed
from shared_core.scales import load_catalogue

CATALOGUE = load_catalogue()


def answer(scale: str, baseline: int, current: int, sessions: int, **kw: Any) -> ContractProgressAnswer:
    body = {"scale": scale, "baseline": baseline, "current": current, "sessions_completed": sessions}
    return progress_contract(parse_contract_progress(body, CATALOGUE, **kw), CATALOGUE, **kw)


def test_contract_example_s5() -> None:
    result = answer("madrs", 32, 26, 10)
    assert result == ContractProgressAnswer(18.8, "non_response", "review_protocol")
    assert msgspec.json.encode(result) == b'{"improvement_pct":18.8,"status":"non_response","checkpoint":"review_protocol"}'


def test_contract_example_remission() -> None:
    assert answer("madrs", 32, 9, 30) == ContractProgressAnswer(71.9, "remission", "none")
    assert answer("madrs", 32, 9, 10).status == "remission"


def test_hamd_s6_partial_response() -> None:
    assert answer("hamd17", 27, 14, 20) == ContractProgressAnswer(48.1, "partial_response", "none")


@pytest.mark.parametrize(
    ("scale", "baseline", "current", "status"),
    [
        ("madrs", 30, 10, "remission"),
        ("madrs", 30, 11, "response"),
        ("madrs", 30, 15, "response"),  # exactly 50 %
        ("madrs", 40, 30, "partial_response"),  # exactly 25 %
        ("madrs", 41, 31, "non_response"),  # 24.4 %
        ("madrs", 20, 25, "non_response"),  # worse: the contract has no "worsening"
        ("madrs", 5, 3, "remission"),  # baseline in the normal band: the contract still answers
        ("hamd17", 20, 7, "remission"),
        ("hamd17", 20, 8, "response"),
        ("phq9", 20, 4, "remission"),
        ("phq9", 20, 5, "response"),
        ("qids_sr16", 16, 5, "remission"),
        ("qids_sr16", 16, 6, "response"),
    ],
)
def test_status_boundaries(scale: str, baseline: int, current: int, status: str) -> None:
    assert answer(scale, baseline, current, 5).status == status


@pytest.mark.parametrize(
    ("baseline", "current", "sessions", "checkpoint"),
    [
        (32, 26, 9, "none"),  # before session 10
        (30, 24, 10, "none"),  # exactly 20 %
        (30, 25, 10, "review_protocol"),  # 16.7 %
        (32, 38, 25, "review_protocol"),  # worsening
        (30, 10, 10, "none"),
    ],
)
def test_checkpoint_boundaries(baseline: int, current: int, sessions: int, checkpoint: str) -> None:
    assert answer("madrs", baseline, current, sessions).checkpoint == checkpoint


def test_rounding_is_exact_then_one_decimal() -> None:
    assert answer("madrs", 30, 20, 0).improvement_pct == 33.3
    assert answer("madrs", 32, 38, 0).improvement_pct == -18.8  # −18.75, half away from zero
    assert answer("madrs", 40, 39, 0).improvement_pct == 2.5
    assert answer("phq9", 16, 15, 0).improvement_pct == 6.3  # 6.25 → 6.3 (half up, not banker's 6.2)


def test_remission_cut_off_is_configurable() -> None:
    site = ContractThresholds(remission_max={"madrs": 12})
    assert answer("madrs", 30, 12, 5).status == "response"
    assert answer("madrs", 30, 12, 5, thresholds=site).status == "remission"


def test_phq9_baseline_zero_is_an_error() -> None:
    body = {"scale": "phq9", "baseline": 0, "current": 0, "sessions_completed": 3}
    errors = validate_contract_progress(body, CATALOGUE)
    assert [e.field for e in errors] == ["baseline"]
    with pytest.raises(ValidationFailed):
        parse_contract_progress(body, CATALOGUE)
    with pytest.raises(ValidationFailed):
        progress_contract(ContractProgressInput("phq9", 0, 0, 3), CATALOGUE)


def test_invalid_body_lists_every_error() -> None:
    body = {"scale": "nope", "baseline": -3, "current": True, "sessions_completed": -1, "patient": "x"}
    errors = validate_contract_progress(body, CATALOGUE)
    assert [e.field for e in errors] == ["scale", "baseline", "current", "sessions_completed", "patient"]
    assert "unknown scale" in errors[0].message
    assert "negative" in errors[1].message


def test_scores_out_of_the_scale_range_and_missing_fields() -> None:
    errors = validate_contract_progress({"scale": "phq9", "baseline": 28, "current": 30}, CATALOGUE)
    assert [(e.field, e.message) for e in errors] == [
        ("baseline", "28 is outside 0–27 for phq9"),
        ("current", "30 is outside 0–27 for phq9"),
        ("sessions_completed", "required"),
    ]
    errors = validate_contract_progress({}, CATALOGUE)
    assert [e.field for e in errors] == ["scale", "baseline", "current", "sessions_completed"]


def test_types_are_strict() -> None:
    body = {"scale": 3, "baseline": 30.0, "current": "10", "sessions_completed": None}
    assert [e.field for e in validate_contract_progress(body, CATALOGUE)] == [
        "scale", "baseline", "current", "sessions_completed"]
    assert validate_contract_progress(["madrs"], CATALOGUE)[0].field == "body"


def test_scales_without_a_remission_cut_off_are_refused() -> None:
    errors = validate_contract_progress({"scale": "hads", "baseline": 10, "current": 5, "sessions_completed": 1},
                                        CATALOGUE)
    assert [e.field for e in errors] == ["scale"]
    assert "remission cut-off" in errors[0].message


def test_input_struct_forbids_unknown_fields() -> None:
    decoded = msgspec.json.decode(b'{"scale":"madrs","baseline":32,"current":26,"sessions_completed":10}',
                                  type=ContractProgressInput)
    assert decoded == ContractProgressInput("madrs", 32, 26, 10)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"scale":"madrs","baseline":32,"current":26,"sessions_completed":10,"x":1}',
                            type=ContractProgressInput)
