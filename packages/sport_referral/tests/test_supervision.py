import pytest

from sport_referral.catalogue.loader import CatalogueError, load_supervision_matrix
from sport_referral.rules.supervision import allowed_professions


@pytest.fixture(scope="module")
def matrix():
    return load_supervision_matrix()


def test_severe_allows_exactly_the_three_health_professions(matrix) -> None:
    answer = allowed_professions("severe", matrix)
    assert answer.allowed_professions == ["physiotherapist", "occupational_therapist", "psychomotor_therapist"]
    assert answer.rule_ids == ["L-5"]
    assert "sport_educator" not in answer.allowed_professions


def test_severe_rule_holds_even_if_the_data_is_widened() -> None:
    text = """
version: x
professions: [physiotherapist, occupational_therapist, psychomotor_therapist, apa_teacher, sport_educator, federal_certified]
levels:
  none: {allowed: [apa_teacher], status: to_verify, source: s}
  minimal: {allowed: [apa_teacher], status: to_verify, source: s}
  moderate: {allowed: [apa_teacher], status: to_verify, source: s}
  severe: {allowed: [sport_educator, physiotherapist], status: verified, source: s}
"""
    answer = allowed_professions("severe", load_supervision_matrix(text))
    assert "sport_educator" not in answer.allowed_professions


def test_moderate_flags_sport_educators_as_conditional(matrix) -> None:
    answer = allowed_professions("moderate", matrix)
    assert "sport_educator" in answer.conditional_professions
    assert "federal_certified" not in answer.allowed_professions
    assert answer.status == "to_verify"


@pytest.mark.parametrize("level", ["none", "minimal"])
def test_low_levels_allow_every_category(matrix, level: str) -> None:
    assert len(allowed_professions(level, matrix).allowed_professions) == 6


def test_unknown_level_is_refused(matrix) -> None:
    with pytest.raises(ValueError, match="unknown limitation level"):
        allowed_professions("extreme", matrix)


def test_malformed_reference_data_names_the_problem() -> None:
    with pytest.raises(CatalogueError, match="unknown professions"):
        load_supervision_matrix("""
version: x
professions: [physiotherapist, occupational_therapist, psychomotor_therapist, apa_teacher, sport_educator, federal_certified]
levels:
  none: {allowed: [coach], status: to_verify, source: s}
  minimal: {allowed: [], status: to_verify, source: s}
  moderate: {allowed: [], status: to_verify, source: s}
  severe: {allowed: [], status: verified, source: s}
""")
