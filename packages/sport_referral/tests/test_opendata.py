"""Open-data export (domain-sport §10.3)."""

import csv
import io
import json
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from sport_referral.model.indicators import IndicatorCell, IndicatorSettings, ReferralFact, load_opendata_columns
from sport_referral.rules.indicators import compute_indicators
from sport_referral.rules.opendata import OPENDATA_COLUMNS, columns_markdown, export_csv, export_json

START, END, AS_OF = date(2025, 1, 1), date(2025, 3, 31), date(2025, 9, 30)


def make_facts(seed: int, n: int) -> list[ReferralFact]:
    rng = random.Random(seed)
    facts = []
    for i in range(n):
        department, region = rng.choices([("31", "76"), ("32", "76"), ("69", "84"), ("2A", "94")],
                                          weights=[10, 2, 8, 1])[0]
        sent = START + timedelta(days=rng.randrange(80))
        decision = rng.choice(["accepted", "accepted", "declined"])
        first = sent + timedelta(days=rng.randrange(3, 9)) if decision == "accepted" else None
        facts.append(ReferralFact(
            referral_id=f"r{i}", department_code=department, region_code=region,
            disability_families=tuple(rng.sample(["moteur", "visuel", "psychique"], rng.randint(0, 2))),
            limitation_level=rng.choice(["none", "minimal", "moderate", "severe"]), sent_at=sent,
            decided_at=sent + timedelta(days=1), decision=decision, first_session_at=first,
        ))
    return facts

GENERATED = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def table():
    return compute_indicators(make_facts(seed=7, n=200), period_start=START, period_end=END, as_of=AS_OF,
                              settings=IndicatorSettings())


def test_documented_columns_match_the_export() -> None:
    columns = load_opendata_columns()
    assert tuple(column.name for column in columns) == OPENDATA_COLUMNS
    assert all(column.description_fr and column.description_en for column in columns)
    text = columns_markdown(columns)
    assert text.startswith("## Colonnes de l'export open data")
    assert all(f"`{name}`" in text for name in OPENDATA_COLUMNS)
    assert "Open-data export columns" in columns_markdown(columns, "en")


def test_csv_export(table) -> None:
    text = export_csv(table.cells, generated_at=GENERATED, software_version="0.1.0", cog_year=2026,
                      geo_names={("region", "76"): "Occitanie"})
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == OPENDATA_COLUMNS
    assert len(rows) == len(table.cells)
    assert {row["suppressed"] for row in rows} == {"true", "false"}
    for row in rows:
        if row["suppressed"] == "true":
            assert row["value"] == row["numerator"] == row["denominator"] == ""
            assert row["suppression"] in ("primary", "secondary")
            assert "<" not in row["value"]
        else:
            assert row["suppression"] == ""
    occitanie = next(row for row in rows if row["geo_code"] == "76")
    assert occitanie["geo_name"] == "Occitanie"
    national = next(row for row in rows if row["geo_level"] == "national" and row["indicator_code"] == "I01_referrals_sent"
                    and row["dimension"] == "all" and row["period_end"] == END.isoformat() and row["period_start"] == START.isoformat())
    assert national["value"] == "200" and national["unit"] == "count" and national["geo_name"] == "France"


def test_json_export(table) -> None:
    text = export_json(table.cells, IndicatorSettings(), organisation="ARS Occitanie", period="2025-T1",
                       generated_at=GENERATED, software_version="0.1.0", cog_year=2026, includes_dataes=True)
    document = json.loads(text)
    meta = document["metadata"]
    assert meta["suppression_rule"] == "k=11 + secondary"
    assert meta["licence"] == "Licence Ouverte / Etalab 2.0"
    assert meta["attribution"].startswith("ARS Occitanie — indicateurs Parcours sport-santé, 2025-T1")
    assert "Data ES" in meta["attribution"]
    assert set(meta) == {"title", "licence", "attribution", "suppression_rule", "generated_at", "cog_year",
                         "definitions_url"}
    record = document["records"][0]
    assert tuple(record) == OPENDATA_COLUMNS
    hidden = [r for r in document["records"] if r["suppressed"]]
    assert hidden and all(r["value"] is None and r["numerator"] is None for r in hidden)


def test_suppressed_values_never_leak_even_from_a_bad_cell() -> None:
    cell = IndicatorCell(indicator_code="I01_referrals_sent", period_start=START, period_end=END,
                         geo_level="department", geo_code="2A", geo_basis="patient_residence", dimension="all",
                         dimension_value="", value=3.0, numerator=3, denominator=4, unit="count", suppressed=True,
                         suppression="primary")
    text = export_csv([cell], generated_at=GENERATED, software_version="0.1.0", cog_year=2026)
    assert ",3," not in text and "3.0" not in text
    assert json.loads(export_json([cell], IndicatorSettings(), organisation="X", period="P", generated_at=GENERATED,
                                  software_version="0.1.0", cog_year=2026))["records"][0]["value"] is None


def test_rates_are_written_as_decimals(table) -> None:
    text = export_csv(table.cells, generated_at=GENERATED, software_version="0.1.0", cog_year=2026)
    rates = [row for row in csv.DictReader(io.StringIO(text))
             if row["unit"] == "ratio" and row["value"] and row["suppressed"] == "false"]
    assert rates
    for row in rates:
        assert 0 <= float(row["value"]) <= 1
        assert round(int(row["numerator"]) / int(row["denominator"]), 4) == float(row["value"])
