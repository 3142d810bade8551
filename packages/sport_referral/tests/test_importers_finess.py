"""FINESS extraction import (domain-sport §6.3, D-6..D-8) on an ISO-8859-15 sample."""

from pathlib import Path

import pytest

from sport_referral.geo import get_gazetteer
from sport_referral.importers.finess import import_finess, projection_from_source
from sport_referral.model.imports import to_structure

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "finess_sample_iso8859-15.csv"


@pytest.fixture(scope="module")
def result():
    return import_finess(SAMPLE.read_bytes(), get_gazetteer())


def _by_et(result):
    return {record.finess_et: record for record in result.records}


def test_encoding_detected_and_accents_read(result) -> None:
    assert result.report.encoding == "iso8859_15"
    records = _by_et(result)
    assert records["310780010"].name == "INSTITUT MÉDICO-ÉDUCATIF LES CHÊNES"
    assert records["490000080"].name == "FOYER D'ACCUEIL MÉDICALISÉ L'ŒUVRE"  # Œ exists in 8859-15 only
    assert "€UROPE" in records["750000093"].name


def test_d6_categories_kept_and_kinds(result) -> None:
    report = result.report
    assert report.rows_read == 10
    assert report.excluded_counts == {"category_not_kept": 1}  # the CHU (101)
    assert report.excluded == ()  # counted, not itemised
    records = _by_et(result)
    assert records["670000058"].kind == "mss"
    assert records["310780010"].kind == "esms" and records["310780010"].esms_category_code == "183"
    assert all(record.accepting_referrals is False for record in result.records)  # D-8
    assert any(w.code == "mss_habilitation" for w in report.warnings)


def test_invalid_rows_report_every_reason(result) -> None:
    skipped = {row.line: sorted(reason.code for reason in row.reasons) for row in result.report.skipped}
    assert skipped == {8: ["finess_et", "siret"], 10: ["duplicate"]}


def test_d7_commune_codes(result) -> None:
    records = _by_et(result)
    assert records["310780010"].commune_insee == "31555"
    assert records["690780028"].commune_insee == "69387"  # arrondissement kept
    assert records["2A0000030"].commune_insee == "2A004"
    assert records["970400065"].commune_insee == "97411"  # FINESS department 9D → 974
    assert records["750000093"].commune_insee == "75111"
    # 49270 is a delegated commune: resolved through ligneacheminement to Orée d'Anjou.
    assert records["490000080"].commune_insee == "49126"
    assert any(w.code == "commune_resolved" for w in result.report.warnings)
    assert records["970400065"].region_code == "04" and records["970400065"].department_code == "974"


def test_reprojection(result) -> None:
    records = _by_et(result)
    toulouse = records["310780010"]  # Lambert-93
    assert toulouse.latitude == pytest.approx(43.5795, abs=1e-5)
    assert toulouse.longitude == pytest.approx(1.4512, abs=1e-5)
    assert toulouse.geo_precision == "address"
    reunion = records["970400065"]  # UTM 40S named in sourcecoordet
    assert reunion.latitude == pytest.approx(-20.883145, abs=1e-5)
    assert reunion.longitude == pytest.approx(55.442594, abs=1e-5)
    paris = records["750000093"]  # degrees despite the LAMBERT_93 label
    assert (paris.latitude, paris.longitude) == (48.859, 2.38)


def test_fields(result) -> None:
    record = _by_et(result)["690780028"]
    assert record.phone == "0472000002"
    assert record.postcode == "69007"
    assert record.address_line == "8 QU CLAUDE BERNARD"
    assert record.source == "finess" and record.source_ref == "690780028"
    assert record.structure_id == "finess-690780028"
    assert str(record.source_updated_at) == "2025-03-02"
    assert _by_et(result)["310780010"].finess_ej == "310000997"
    for record in result.records:
        to_structure(record)


def test_utf8_file_is_accepted_with_auto() -> None:
    text = SAMPLE.read_bytes().decode("iso-8859-15")
    result = import_finess(text.encode("utf-8"), get_gazetteer())
    assert result.report.encoding == "utf_8"
    assert len(result.records) == 7


def test_utf8_file_declared_latin9_is_refused_naming_the_line() -> None:
    data = SAMPLE.read_bytes().decode("iso-8859-15").encode("utf-8")
    result = import_finess(data, get_gazetteer(), encoding="iso-8859-15")
    assert result.records == ()
    error = result.report.file_errors[0]
    assert error.code == "encoding" and error.line == 2
    assert "UTF-8" in error.message


def test_latin9_file_declared_utf8_is_refused_naming_the_line() -> None:
    result = import_finess(SAMPLE.read_bytes(), get_gazetteer(), encoding="utf-8")
    assert result.records == ()
    error = result.report.file_errors[0]
    assert error.line == 2 and "cannot be decoded as utf_8" in error.message


@pytest.mark.parametrize(("source", "expected"), [
    ("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93", "lambert93"),
    ("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,UTM_N20", "utm20n"),
    ("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,UTM_S40", "utm40s"),
    ("", None),
])
def test_projection_from_source(source: str, expected) -> None:
    assert projection_from_source(source) == expected
