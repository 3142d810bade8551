"""Parcours directory format (domain-sport §6.5): CSV with ',' and ';' (BOM), and JSON."""

from datetime import date
from pathlib import Path

import pytest

from sport_referral.geo import get_gazetteer
from sport_referral.importers.parcours_format import PARCOURS_COLUMNS, import_parcours
from sport_referral.model.imports import to_structure

DATA = Path(__file__).parent / "data"
TODAY = date(2026, 1, 31)


def _run(name: str, **kwargs):
    return import_parcours((DATA / name).read_bytes(), get_gazetteer(), today=TODAY, **kwargs)


def test_comma_csv_example_row() -> None:
    result = _run("parcours_comma.csv")
    assert result.report.delimiter == "," and result.report.variant == "csv"
    mss = result.records[0]
    assert mss.structure_id == "mss-31-001" and mss.kind == "mss"
    assert mss.disability_families == frozenset({"moteur", "visuel", "psychique"})
    assert mss.professions == frozenset({"apa_teacher", "physiotherapist"})
    assert mss.accessibility == {"motor_reception": True, "motor_toilets": True}
    assert (mss.latitude, mss.longitude, mss.geo_precision) == (43.5795, 1.4512, "address")
    assert mss.mss_habilitated_until == date(2029, 1, 15)  # from + 5 years
    assert mss.capacity_open_slots == 6 and mss.source_updated_at == date(2026, 1, 20)
    club = result.records[1]
    assert club.name == "Club Handisport Lyon, section basket"  # RFC 4180 quoting
    assert club.geo_precision == "commune" and club.latitude == get_gazetteer().point("69387")[0]
    for record in result.records:
        to_structure(record)


def test_every_reason_of_a_bad_row_is_reported() -> None:
    result = _run("parcours_comma.csv")
    bad = next(row for row in result.report.skipped if row.line == 4)
    fields = {reason.field for reason in bad.reasons}
    assert {"kind", "postcode", "longitude", "disability_families", "accepting_referrals",
            "capacity_open_slots", "updated_at"} <= fields
    duplicate = next(row for row in result.report.skipped if row.line == 5)
    assert [reason.code for reason in duplicate.reasons] == ["duplicate"]
    assert result.report.duplicates[0].first_line == 2


def test_semicolon_csv_with_bom() -> None:
    result = _run("parcours_semicolon_bom.csv")
    assert result.report.delimiter == ";"
    assert len(result.records) == 1
    esat = result.records[0]
    assert esat.finess_et == "2A0000030" and esat.esms_category_code == "246"
    assert esat.accessibility == {"motor_reception": True, "sensory_signage": False}
    assert esat.disciplines == ("Marche nordique", "Boccia")
    assert esat.referent_display_name == "Marie Santoni"
    assert result.keys[0].source == "finess" and result.keys[0].source_ref == "2A0000030"
    bad = result.report.skipped[0]
    assert bad.line == 3
    assert {r.field for r in bad.reasons} == {"finess_et", "esms_category_code", "accessibility_false",
                                              "referral_email", "website"}


def test_json_directory() -> None:
    result = _run("parcours_directory.json")
    assert result.report.variant == "json"
    apa = result.records[0]
    assert apa.accessibility == {"motor_reception": True, "motor_toilets": False}
    assert apa.phone == "+33388000000" and apa.waiting_weeks == 2
    trail = result.records[1]
    assert trail.kind == "trail" and trail.region_code == "04"
    bad = result.report.skipped[0]
    assert bad.line == 3  # position in "structures"
    assert {r.code for r in bad.reasons} == {"type", "unknown_field"}


def test_all_or_nothing_returns_no_record_but_reports_every_row() -> None:
    result = _run("parcours_comma.csv", all_or_nothing=True)
    assert result.records == () and result.keys == ()
    assert result.report.aborted is True
    assert len(result.report.skipped) == 2
    clean = import_parcours((DATA / "parcours_directory.json").read_text().replace('"yes"', "true")
                            .replace('"accessibilty"', '"accessibility"').encode(), get_gazetteer(),
                            today=TODAY, all_or_nothing=True)
    assert len(clean.records) == 3 and not clean.report.aborted


def test_unknown_or_missing_columns_are_refused() -> None:
    text = "structure_id,kind,name,postcode,commune_insee,acepting_referrals,source,source_licence,updated_at\n"
    result = import_parcours(text.encode(), get_gazetteer(), today=TODAY)
    error = result.report.file_errors[0]
    assert "acepting_referrals" in error.message and "accepting_referrals" in error.message


def test_json_top_level_is_checked() -> None:
    result = import_parcours(b'{"format": "other", "version": 2, "structures": {}}', get_gazetteer(), today=TODAY)
    assert result.report.file_errors and not result.records
    broken = import_parcours(b'{"format": "parcours-directory",\n "version": 1,,}', get_gazetteer(), today=TODAY)
    assert broken.report.file_errors[0].line == 2


def test_same_source_ref_twice_is_a_duplicate() -> None:
    header = "structure_id,kind,name,postcode,commune_insee,accepting_referrals,source,source_ref,source_licence,updated_at"
    rows = ["a,club,A,31000,31555,true,manual,ref-1,own,2025-01-01", "b,club,B,31000,31555,true,manual,ref-1,own,2025-01-01"]
    result = import_parcours("\n".join([header, *rows]).encode(), get_gazetteer(), today=TODAY)
    assert len(result.records) == 1
    assert result.report.skipped[0].reasons[0].code == "duplicate_source_ref"


def test_warnings_do_not_block() -> None:
    header = "structure_id,kind,name,siret,rna,postcode,commune_insee,latitude,longitude,accepting_referrals,source,source_licence,updated_at"
    row = "c,club,Club,73282932000075,W12345,31000,14011,-43.6,1.44,true,manual,own,2025-01-01"
    result = import_parcours(f"{header}\n{row}\n".encode(), get_gazetteer(), today=TODAY)
    assert len(result.records) == 1
    codes = {w.code for w in result.report.warnings}
    assert {"siret", "rna", "commune_unknown", "outside_france"} <= codes


def test_columns_cover_section_6_5() -> None:
    assert len(PARCOURS_COLUMNS) == 39
    assert list(PARCOURS_COLUMNS)[:3] == ["structure_id", "kind", "name"]


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_text_input(delimiter: str) -> None:
    header = delimiter.join(["structure_id", "kind", "name", "postcode", "commune_insee", "accepting_referrals",
                             "source", "source_licence", "updated_at"])
    row = delimiter.join(["x", "club", "Club", "75011", "75111", "false", "manual", "own", "2025-01-01"])
    result = import_parcours(f"\ufeff{header}\r\n{row}\r\n", get_gazetteer(), today=TODAY)
    assert result.report.delimiter == delimiter
    assert result.records[0].commune_insee == "75111"
