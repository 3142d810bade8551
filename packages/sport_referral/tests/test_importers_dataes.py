"""Data ES import (domain-sport §6.1-6.2, D-1..D-5) on real-format samples."""

from pathlib import Path

import msgspec
import pytest

from sport_referral.geo import get_gazetteer
from sport_referral.importers.dataes import import_dataes, parse_dataes_bool, parse_dataes_coordinates
from sport_referral.model.imports import to_structure
from sport_referral.model.structures import Structure

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def result():
    return import_dataes((DATA / "dataes_sample.csv").read_bytes(), get_gazetteer())


def _by_ref(result):
    return {record.source_ref: record for record in result.records}


def test_report_counts_and_every_reason(result) -> None:
    report = result.report
    assert report.variant == "data-es"
    assert report.delimiter == ";"
    assert report.rows_read == 10
    assert report.rows_imported == 6
    skipped = {row.line: [reason.code for reason in row.reasons] for row in report.skipped}
    # Line numbers are physical lines (header = line 1).
    assert skipped == {7: ["commune_insee", "postcode"], 8: ["required"], 10: ["duplicate"]}
    assert report.duplicates[0].first_line == 2
    assert [(row.line, row.code) for row in report.excluded] == [(4, "out_of_service")]
    assert report.excluded_counts == {"out_of_service": 1}


def test_personal_columns_are_dropped_and_logged(result) -> None:
    assert result.report.dropped_columns == ("declarant_mail",)
    assert any(w.code == "personal_columns_dropped" for w in result.report.warnings)
    dumped = msgspec.json.encode(result.records).decode()
    assert "example.org" not in dumped  # never read, never stored


def test_venue_fields_and_name_rule(result) -> None:
    gym = _by_ref(result)["E001I315550012"]
    assert gym.kind == "venue"
    assert gym.structure_id == "dataes-E001I315550012"
    assert gym.name == "Complexe sportif Compans-Caffarelli — Gymnase Compans"
    assert gym.installation_ref == "I315550012"
    assert gym.equip_numeros == ("E001I315550012",)
    assert (gym.commune_insee, gym.postcode, gym.department_code, gym.region_code) == ("31555", "31000", "31", "76")
    assert (gym.latitude, gym.longitude, gym.geo_precision) == (43.6102, 1.4339, "equipment")
    assert gym.accepting_referrals is False
    assert gym.source == "dataes" and gym.source_licence == "Licence Ouverte / Etalab 2.0"
    assert str(gym.source_updated_at) == "2025-06-12" and gym.stale is False
    # D-4: the second equipment of the installation is a separate record sharing installation_ref.
    assert _by_ref(result)["E002I315550012"].installation_ref == "I315550012"


def test_booleans_three_valued_with_file_warning(result) -> None:
    gym = _by_ref(result)["E001I315550012"]
    access = gym.accessibility
    # api-contract: equip_pmr_acc = "true" means step-free access = motor_reception.
    assert access["motor_reception"] is True
    assert access["motor_showers"] is False
    assert "motor_stands" not in access  # empty cell = unknown, never false (D-1)
    assert access["any_disability_access"] is True and access["public_transport_nearby"] is True
    assert gym.public_transport_nearby is True
    muscu = _by_ref(result)["E002I315550012"]
    assert muscu.accessibility["motor_reception"] is True  # "Oui"
    assert muscu.accessibility["motor_paths"] is False  # "Non"
    assert muscu.accessibility["motor_toilets"] is True  # "TRUE"
    assert muscu.accessibility["motor_changing_rooms"] is False  # "0"
    variants = [w for w in result.report.warnings if w.code == "boolean_variants"]
    assert len(variants) == 1  # one warning for the file, not one per cell
    assert "Oui" in variants[0].message
    odd = [w for w in result.report.warnings if w.code == "bad_boolean"]
    assert odd and odd[0].line == 9 and odd[0].field == "inst_trans_bool"


def test_multi_values_split_trimmed_deduplicated(result) -> None:
    assert _by_ref(result)["E001I315550012"].disciplines == ("Basket-Ball", "Handball", "Volley-Ball")
    assert _by_ref(result)["E002I315550012"].disciplines == ("Musculation", "Cardio-training")
    assert _by_ref(result)["E001I2A0040007"].disciplines == ("Basket-Ball", "Handball")
    assert result.report.multi_value_separators == (",", ";")


def test_coordinates_json_swapped_and_xy(result) -> None:
    records = _by_ref(result)
    assert (records["E002I315550012"].latitude, records["E002I315550012"].longitude) == (43.6103, 1.4341)
    pool = records["E001I693870021"]  # "4.8412, 45.7510" given as lat, lon: D-3 swaps it back
    assert (pool.latitude, pool.longitude, pool.geo_precision) == (45.751, 4.8412, "equipment")
    assert any(w.code == "axes_swapped" and w.line == 5 for w in result.report.warnings)
    marseille = records["E003I130550500"]  # no equip_coordonnees: equip_x = lon, equip_y = lat
    assert (marseille.latitude, marseille.longitude) == (43.305, 5.4)
    assert marseille.stale is True  # updated 2019, before cfg:dataes.min_update_date


def test_merged_commune_is_a_warning_with_a_suggestion(result) -> None:
    record = _by_ref(result)["E001I140110001"]
    assert record.commune_insee == "14011"
    warning = next(w for w in result.report.warnings if w.code == "commune_unknown")
    assert "14581" in warning.message and warning.line == 9


def test_corsica_codes(result) -> None:
    ajaccio = _by_ref(result)["E001I2A0040007"]
    assert (ajaccio.commune_insee, ajaccio.department_code, ajaccio.region_code) == ("2A004", "2A", "94")


def test_x_y_variant_and_projected_values() -> None:
    result = import_dataes((DATA / "dataes_xy_sample.csv").read_bytes(), get_gazetteer())
    records = {r.source_ref: r for r in result.records}
    reunion = records["E001I974110003"]
    assert (reunion.latitude, reunion.longitude, reunion.department_code, reunion.region_code) == (
        -20.879, 55.47, "974", "04")
    strasbourg = records["E001I674820001"]  # Lambert-93 metres in equip_x/equip_y
    assert strasbourg.latitude == pytest.approx(48.591, abs=0.001)
    assert strasbourg.longitude == pytest.approx(7.692, abs=0.001)
    assert strasbourg.accessibility == {"motor_reception": False}


def test_far_point_falls_back_to_commune_point() -> None:
    text = ("equip_numero;equip_nom;new_code;inst_cp;equip_coordonnees\n"
            "E001I315550099;Gymnase;31555;31000;48.85, 2.35\n")
    result = import_dataes(text.encode(), get_gazetteer())
    record = result.records[0]
    assert record.geo_precision == "commune"
    assert (record.latitude, record.longitude) == get_gazetteer().point("31555")
    assert any(w.code == "coordinates_far" for w in result.report.warnings)


def test_equipement_variant() -> None:
    result = import_dataes((DATA / "dataes_equipement_sample.csv").read_bytes(), get_gazetteer())
    report = result.report
    assert report.variant == "data-es-equipement"
    assert set(report.dropped_columns) == {"declarant_nom", "declarant_prenom", "declarant_mail", "declarant_telephone"}
    records = {r.source_ref: r for r in result.records}
    gym = records["E001I315550012"]
    assert gym.accessibility == {
        "motor_reception": True, "motor_paths": True, "motor_toilets": True, "motor_changing_rooms": True,
        "sensory_signage": True, "any_disability_access": True,
    }
    assert gym.installation_ref == "I315550012" and gym.name == "Gymnase Compans"
    assert records["E001I693870021"].accessibility == {}  # empty lists: every feature unknown
    assert any(w.code == "unknown_access_value" and "Piste de danse" in w.message for w in report.warnings)
    assert "Dupont" not in msgspec.json.encode(result.records).decode()


def test_records_convert_to_the_matching_structure(result) -> None:
    for record in result.records:
        structure = to_structure(record)
        assert isinstance(structure, Structure)
        assert structure.structure_id == record.structure_id


def test_reimport_is_idempotent(result) -> None:
    again = import_dataes((DATA / "dataes_sample.csv").read_bytes(), get_gazetteer())
    assert again.keys == result.keys
    assert again.records == result.records
    assert len(set(result.keys)) == len(result.keys)
    assert all(key.source == "dataes" for key in result.keys)


def test_missing_required_columns_is_a_file_error() -> None:
    result = import_dataes(b"nom;commune\nX;31555\n", get_gazetteer())
    assert not result.records
    assert result.report.file_errors[0].code == "missing_columns"


@pytest.mark.parametrize(("raw", "expected"), [
    ("true", (True, True)), ("false", (False, True)), ("", (None, True)),
    ("True", (True, False)), ("OUI", (True, False)), ("non", (False, False)), ("1", (True, False)),
    ("0", (False, False)), ("peut-être", (None, False)),
])
def test_parse_bool(raw: str, expected: tuple) -> None:
    assert parse_dataes_bool(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("43.6, 1.44", (43.6, 1.44)), ('{"lon": 1.44, "lat": 43.6}', (43.6, 1.44)), ("[43.6, 1.44]", (43.6, 1.44)),
    ("", None), ("n/a", None), ("1;2;3", None),
])
def test_parse_coordinates(raw: str, expected) -> None:
    assert parse_dataes_coordinates(raw) == expected
