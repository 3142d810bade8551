"""French identifier checks (domain-sport §5.6; NIR/NIA as INS matricule)."""

from __future__ import annotations

import pytest

from shared_core.rules.identifiers import (
    IdentifierCheck,
    check_commune_insee,
    check_finess,
    check_nir,
    check_rpps,
    check_siret,
    luhn_valid,
    nir_key,
)


def _luhn_complete(body: str) -> str:
    """Append the Luhn check digit (independent of the module: brute force over 0-9)."""
    return next(body + str(d) for d in range(10) if luhn_valid(body + str(d)))


# --- NIR -------------------------------------------------------------------------------------


def test_nir_key_matches_the_published_formula() -> None:
    # 97 - (number mod 97), computed here by hand with int().
    assert nir_key("1840376451089") == f"{97 - 1840376451089 % 97:02d}"
    assert nir_key("2 55 08 14 168 025") == f"{97 - 2550814168025 % 97:02d}"


def test_nir_key_corsica_replaces_2a_by_19_and_2b_by_18() -> None:
    assert nir_key("18505 2A 012345") == f"{97 - 1850519012345 % 97:02d}"
    assert nir_key("185052B012345") == f"{97 - 1850518012345 % 97:02d}"
    # Equivalently: 2A is the number minus 1 000 000, 2B minus 2 000 000 (INSEE wording).
    assert nir_key("185052A012345") == f"{97 - (1850520012345 - 1_000_000) % 97:02d}"


def test_nir_key_is_zero_padded() -> None:
    keys = {nir_key(f"1840376451{n:03d}") for n in range(200)}
    assert all(len(k) == 2 and k.isdigit() and 1 <= int(k) <= 97 for k in keys)
    assert any(int(k) < 10 for k in keys)


@pytest.mark.parametrize("bad", ["", "184037645108", "18403764510899", "X840376451089", "18403764510A9"])
def test_nir_key_rejects_malformed_input(bad: str) -> None:
    with pytest.raises(ValueError):
        nir_key(bad)


def test_valid_nir_with_spaces_is_normalised() -> None:
    first13 = "1840376451089"
    result = check_nir(f"1 84 03 76 451 089 {nir_key(first13)}")
    assert result == IdentifierCheck(value=first13 + nir_key(first13), valid=True, errors=[], warnings=[])


def test_valid_corsican_nir_lower_case_input() -> None:
    value = "2900" + "12b" + "033123"
    key = nir_key(value)
    result = check_nir(value + key)
    assert result.valid
    assert result.value == "290012B033123" + key


def test_bad_nir_key_is_an_error_with_the_expected_key() -> None:
    first13 = "1840376451089"
    good = int(nir_key(first13))
    wrong = good - 1 if good > 1 else good + 1
    result = check_nir(f"{first13}{wrong:02d}")
    assert not result.valid
    assert result.errors == [f"the control key should be {good:02d}, not {wrong:02d}"]


def test_nir_length_error() -> None:
    result = check_nir("1 84 03 76 451 089")
    assert not result.valid
    assert result.errors == ["the NIR must have 15 characters (13 + a 2-digit key), got 13"]


def test_empty_nir() -> None:
    assert check_nir("   ").errors == ["the NIR is empty"]


def test_nir_bad_sex_digit() -> None:
    first13 = "5840376451089"
    result = check_nir(first13 + "00")
    assert not result.valid
    assert any("character 1 (sex)" in e and "'5'" in e for e in result.errors)


def test_nir_letters_outside_department_are_errors() -> None:
    result = check_nir("18403764510A912")
    assert not result.valid
    assert result.errors == ["character(s) 12 must be digits"]


def test_nir_department_must_be_digits_or_corsica() -> None:
    result = check_nir("184032C45108912")
    assert result.errors == ["characters 6-7 (department) must be two digits, 2A or 2B, not '2C'"]


def test_nir_non_digit_key() -> None:
    result = check_nir("18403764510891X")
    assert result.errors == ["the control key (characters 14-15) must be two digits, not '1X'"]


@pytest.mark.parametrize("sex", ["3", "4", "7", "8"])
def test_nir_temporary_numbers_are_valid_with_a_warning(sex: str) -> None:
    first13 = sex + "840399123045"
    result = check_nir(first13 + nir_key(first13))
    assert result.valid
    assert len(result.warnings) == 1
    assert "temporary" in result.warnings[0]


@pytest.mark.parametrize(
    ("month", "warned"),
    [
        ("01", False),
        ("12", False),
        ("13", True),
        ("00", True),
        ("20", False),
        ("42", False),
        ("45", True),
        ("62", False),
    ],
)
def test_nir_unusual_month_is_a_warning_only(month: str, warned: bool) -> None:
    first13 = f"184{month}76451089"
    result = check_nir(first13 + nir_key(first13))
    assert result.valid
    assert bool(result.warnings) is warned


def test_nir_rejects_non_ascii_digits() -> None:
    result = check_nir("1840376451089" + "\u0664\u0665")  # Arabic-Indic 4 and 5
    assert not result.valid


# --- RPPS -------------------------------------------------------------------------------------


def test_rpps_valid() -> None:
    value = _luhn_complete("1000000000")
    assert check_rpps(value) == IdentifierCheck(value=value, valid=True, errors=[], warnings=[])


def test_rpps_luhn_failure_is_only_a_warning() -> None:
    value = _luhn_complete("1000000000")
    wrong = value[:-1] + str((int(value[-1]) + 1) % 10)
    result = check_rpps(wrong)
    assert result.valid
    assert result.warnings == ["the RPPS number fails the Luhn check (possible typo)"]


@pytest.mark.parametrize("bad", ["", "1234567890", "123456789012", "1234567890A", "12345-67890"])
def test_rpps_format_errors(bad: str) -> None:
    result = check_rpps(bad)
    assert not result.valid
    assert result.errors and "11 digits" in result.errors[0]


def test_rpps_spaces_removed() -> None:
    value = _luhn_complete("1000000000")
    assert check_rpps(f"{value[:3]} {value[3:]}").value == value


# --- FINESS -----------------------------------------------------------------------------------


def test_finess_valid_and_luhn_warning() -> None:
    value = _luhn_complete("75000000")
    assert check_finess(value).warnings == []
    wrong = value[:-1] + str((int(value[-1]) + 1) % 10)
    result = check_finess(wrong)
    assert result.valid
    assert result.warnings == ["the FINESS number fails the Luhn check (possible typo)"]


@pytest.mark.parametrize(("prefix", "luhn_prefix"), [("2A", "21"), ("2B", "22")])
def test_finess_corsica_luhn_uses_21_and_22(prefix: str, luhn_prefix: str) -> None:
    numeric = _luhn_complete(luhn_prefix + "000012")
    value = prefix + numeric[2:]
    result = check_finess(value.lower())
    assert result.value == value
    assert result.valid
    assert result.warnings == []


@pytest.mark.parametrize("bad", ["", "75000000", "7500000001", "2C0000001", "A75000000", "75 00A 0000"])
def test_finess_format_errors(bad: str) -> None:
    result = check_finess(bad)
    assert not result.valid
    assert "9 characters" in result.errors[0]


# --- SIRET ------------------------------------------------------------------------------------


def test_siret_valid_and_luhn_warning() -> None:
    value = _luhn_complete("7300000000001")
    assert check_siret(value).warnings == []
    wrong = value[:-1] + str((int(value[-1]) + 1) % 10)
    result = check_siret(wrong)
    assert result.valid
    assert result.warnings == ["the SIRET number fails the Luhn check (possible typo)"]


def test_siret_la_poste_uses_sum_of_digits() -> None:
    # SIREN 356000000 (La Poste): the digit sum must be a multiple of 5 instead of Luhn.
    assert check_siret("35600000000001").warnings == []  # sum 15
    assert check_siret("35600000000002").warnings != []  # sum 16


@pytest.mark.parametrize("bad", ["", "7300000000001", "730000000000012", "7300000000000A"])
def test_siret_format_errors(bad: str) -> None:
    result = check_siret(bad)
    assert not result.valid
    assert "14 digits" in result.errors[0]


# --- commune INSEE ----------------------------------------------------------------------------


@pytest.mark.parametrize("good", ["75056", "2A004", "2b033", "97411", "01 001"])
def test_commune_insee_valid(good: str) -> None:
    result = check_commune_insee(good)
    assert result.valid
    assert result.value == good.upper().replace(" ", "")


@pytest.mark.parametrize("bad", ["", "7505", "750561", "2C004", "A7505", "75O56"])
def test_commune_insee_invalid(bad: str) -> None:
    result = check_commune_insee(bad)
    assert not result.valid
    assert "5 characters" in result.errors[0]


def test_luhn_reference_values() -> None:
    assert luhn_valid("79927398713")  # the classic Luhn example
    assert not luhn_valid("79927398710")
    assert not luhn_valid("")
    assert not luhn_valid("12a4")
