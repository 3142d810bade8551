"""Validation of French identifiers: NIR/NIA (INS matricule), RPPS, FINESS, SIRET, commune INSEE code.

Pure functions: each returns an :class:`IdentifierCheck` and never raises on bad input, so an
import can report every problem of every row at once. ``errors`` block (the caller must refuse
the value); ``warnings`` are reported only. The split follows domain-sport §5.6: a hard check is
a format fact; a checksum that no official text states (Luhn on RPPS, FINESS, SIRET) is only a
warning, because refusing a real identifier on a guessed rule would be worse than keeping it.
The NIR key is different: it is the published control key of the INS, so a bad key is an error.
"""

from __future__ import annotations

import re

import msgspec

__all__ = [
    "IdentifierCheck",
    "check_commune_insee",
    "check_finess",
    "check_nir",
    "check_rpps",
    "check_siret",
    "luhn_valid",
    "nir_key",
]


class IdentifierCheck(msgspec.Struct, frozen=True):
    """Outcome of one identifier check.

    ``value`` is the normalised input (upper-case, every whitespace removed): store that, not
    what was typed. ``valid`` is true when ``errors`` is empty (warnings do not invalidate).
    """

    value: str
    valid: bool
    errors: list[str]
    warnings: list[str]


_WHITESPACE = re.compile(r"\s+")


def _normalise(value: str) -> str:
    # Identifiers are typed with spaces (NIR on the carte Vitale is printed in groups) and
    # sometimes in lower case ("2a"); the stored form must be canonical to compare and index.
    return _WHITESPACE.sub("", value).upper()


def _result(value: str, errors: list[str], warnings: list[str]) -> IdentifierCheck:
    return IdentifierCheck(value=value, valid=not errors, errors=errors, warnings=warnings)


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check over a string of digits, rightmost digit being the check digit."""
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


# --------------------------------------------------------------------------------------------
# NIR / NIA (matricule INS)
# --------------------------------------------------------------------------------------------

# 1/2: NIR of a person born or registered in France; 3/4: special registrations; 7/8: NIA,
# the temporary number given while the NIR is being assigned. The INS may be built on any.
_NIR_SEX_DIGITS = frozenset("123478")
_NIR_TEMPORARY_SEX_DIGITS = frozenset("3478")
# Corsica has been coded 2A/2B since 1976; the key is computed as if the department were a
# number, 2A counting as 19 and 2B as 18 (i.e. 20 minus 1 and 20 minus 2 million).
_CORSICA_KEY_DIGITS = {"2A": "19", "2B": "18"}


def _nir_number(first13: str) -> int:
    department = first13[5:7]
    digits = first13[:5] + _CORSICA_KEY_DIGITS.get(department, department) + first13[7:]
    return int(digits)


def _nir_structure_errors(first13: str) -> list[str]:
    errors: list[str] = []
    if first13[0] not in _NIR_SEX_DIGITS:
        errors.append(f"character 1 (sex) must be 1, 2, 3, 4, 7 or 8, not {first13[0]!r}")
    bad_positions = [
        str(position)
        for position, char in enumerate(first13, start=1)
        if position not in (1, 6, 7) and not (char.isascii() and char.isdigit())
    ]
    if bad_positions:
        errors.append(f"character(s) {', '.join(bad_positions)} must be digits")
    department = first13[5:7]
    if department not in _CORSICA_KEY_DIGITS and not (department.isascii() and department.isdigit()):
        errors.append(f"characters 6-7 (department) must be two digits, 2A or 2B, not {department!r}")
    return errors


def nir_key(first13: str) -> str:
    """The 2-digit control key of a NIR/NIA: ``97 - (number mod 97)``, 2A read as 19, 2B as 18.

    Raises ValueError when ``first13`` (spaces allowed) is not 13 well-formed characters. Used
    by tests and demo data to build valid INS numbers.
    """
    normalised = _normalise(first13)
    if len(normalised) != 13:
        raise ValueError(f"a NIR without its key has 13 characters, got {len(normalised)}")
    errors = _nir_structure_errors(normalised)
    if errors:
        raise ValueError("; ".join(errors))
    return f"{97 - _nir_number(normalised) % 97:02d}"


def _nir_month_is_plausible(month: str) -> bool:
    # 01-12 normally; 20-42 and 50-99 appear when the civil-status document gives no month.
    number = int(month)
    return 1 <= number <= 12 or 20 <= number <= 42 or number >= 50


def check_nir(value: str) -> IdentifierCheck:
    """Check a NIR or NIA (the INS matricule): 13 characters + a 2-digit control key.

    A bad key is an error: the INS must be exact (referential identity). An unusual month is only
    a warning, since INSEE uses codes outside 01-12 for people whose birth month is unknown.
    """
    normalised = _normalise(value)
    if not normalised:
        return _result(normalised, ["the NIR is empty"], [])
    if len(normalised) != 15:
        return _result(
            normalised,
            [f"the NIR must have 15 characters (13 + a 2-digit key), got {len(normalised)}"],
            [],
        )
    first13, key = normalised[:13], normalised[13:]
    errors = _nir_structure_errors(first13)
    warnings: list[str] = []
    if not (key.isascii() and key.isdigit()):
        errors.append(f"the control key (characters 14-15) must be two digits, not {key!r}")
    if errors:
        return _result(normalised, errors, warnings)

    expected = f"{97 - _nir_number(first13) % 97:02d}"
    if key != expected:
        errors.append(f"the control key should be {expected}, not {key}")
    if not _nir_month_is_plausible(first13[3:5]):
        warnings.append(
            f"month {first13[3:5]} (characters 4-5) is unusual: expected 01-12, or 20-42 / 50-99 "
            "when the birth month is unknown"
        )
    if first13[0] in _NIR_TEMPORARY_SEX_DIGITS:
        warnings.append(
            f"character 1 is {first13[0]}: this is a temporary or special registration number (NIA); "
            "the INS will change when the definitive NIR is assigned"
        )
    return _result(normalised, errors, warnings)


# --------------------------------------------------------------------------------------------
# RPPS, FINESS, SIRET, commune (domain-sport §5.6)
# --------------------------------------------------------------------------------------------

_RPPS = re.compile(r"\d{11}")
_FINESS = re.compile(r"(?:\d{2}|2[AB])\d{7}")
_SIRET = re.compile(r"\d{14}")
_COMMUNE_INSEE = re.compile(r"(?:\d{2}|2A|2B)\d{3}")
# La Poste's establishments share SIREN 356000000; their SIRETs follow "sum of digits is a
# multiple of 5" instead of Luhn (INSEE note), so Luhn would warn on every post office.
_LA_POSTE_SIREN = "356000000"
_FINESS_CORSICA_LUHN_DIGITS = {"2A": "21", "2B": "22"}


def _ascii_fullmatch(pattern: re.Pattern[str], value: str) -> bool:
    # \d also matches non-ASCII digits (e.g. Arabic-Indic); identifiers are ASCII only.
    return value.isascii() and pattern.fullmatch(value) is not None


def check_rpps(value: str) -> IdentifierCheck:
    """RPPS: exactly 11 digits (error); Luhn failure is a warning only (§5.6, Luhn [to verify])."""
    normalised = _normalise(value)
    if not _ascii_fullmatch(_RPPS, normalised):
        return _result(normalised, [f"an RPPS number has exactly 11 digits, got {normalised!r}"], [])
    warnings = [] if luhn_valid(normalised) else ["the RPPS number fails the Luhn check (possible typo)"]
    return _result(normalised, [], warnings)


def check_finess(value: str) -> IdentifierCheck:
    """FINESS (ET or EJ): ``^(?:\\d{2}|2[AB])\\d{7}$`` (error); Luhn is a warning only (§5.6).

    Luhn runs on the 9 characters after replacing 2A by 21 and 2B by 22, as the open-source
    validator cited by §5.6 does; no official ANS text states it, hence a warning.
    """
    normalised = _normalise(value)
    if not _ascii_fullmatch(_FINESS, normalised):
        return _result(
            normalised,
            [f"a FINESS number has 9 characters: 2 digits (or 2A/2B) then 7 digits, got {normalised!r}"],
            [],
        )
    digits = _FINESS_CORSICA_LUHN_DIGITS.get(normalised[:2], normalised[:2]) + normalised[2:]
    warnings = [] if luhn_valid(digits) else ["the FINESS number fails the Luhn check (possible typo)"]
    return _result(normalised, [], warnings)


def check_siret(value: str) -> IdentifierCheck:
    """SIRET: 14 digits (error); Luhn over the 14 digits is a warning only (§5.6, [to verify])."""
    normalised = _normalise(value)
    if not _ascii_fullmatch(_SIRET, normalised):
        return _result(normalised, [f"a SIRET number has exactly 14 digits, got {normalised!r}"], [])
    if normalised.startswith(_LA_POSTE_SIREN):
        checksum_ok = sum(int(char) for char in normalised) % 5 == 0
    else:
        checksum_ok = luhn_valid(normalised)
    warnings = [] if checksum_ok else ["the SIRET number fails the Luhn check (possible typo)"]
    return _result(normalised, [], warnings)


def check_commune_insee(value: str) -> IdentifierCheck:
    """Commune INSEE code: ``^(?:\\d{2}|2A|2B)\\d{3}$`` (§5.6). Existence in the gazetteer is G-2."""
    normalised = _normalise(value)
    if not _ascii_fullmatch(_COMMUNE_INSEE, normalised):
        return _result(
            normalised,
            [f"a commune INSEE code has 5 characters: 2 digits (or 2A/2B) then 3 digits, got {normalised!r}"],
            [],
        )
    return _result(normalised, [], [])
