"""The directory pipeline: `parcours import structures` into the database, then the structure search API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select

from parcours_web.auth.service import issue_token
from parcours_web.cli import main
from shared_core.db import Database
from sport_referral.tables import SportStructure

pytestmark = pytest.mark.db
SAMPLES = Path(__file__).resolve().parents[3] / "packages" / "sport_referral" / "tests" / "data"


def _import(database: Database, monkeypatch: pytest.MonkeyPatch, file: str, fmt: str, *extra: str) -> str:
    monkeypatch.setenv("PARCOURS_DATABASE_URL", database.url.render_as_string(hide_password=False))
    result = CliRunner().invoke(main, ["import", "structures", str(SAMPLES / file), "--format", fmt, *extra])
    assert result.exit_code == 0, result.output
    return result.output


def _count(database: Database) -> int:
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(SportStructure)) or 0


def test_dataes_import_is_idempotent(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _import(database, monkeypatch, "dataes_sample.csv", "dataes")
    created = _count(database)
    assert created > 0 and f"{created} created" in first
    second = _import(database, monkeypatch, "dataes_sample.csv", "dataes")
    assert _count(database) == created
    assert "0 created, 0 updated" in second


def test_parcours_import_reports_bad_rows_and_keeps_good_ones(database: Database,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    output = _import(database, monkeypatch, "parcours_comma.csv", "parcours")
    assert "line 4: skipped" in output  # the malformed row is named with its line
    with database.read() as session:
        ids = set(session.scalars(select(SportStructure.id)))
    assert "mss-31-001" in ids and "bad-row" not in ids


def test_all_or_nothing_writes_nothing(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARCOURS_DATABASE_URL", database.url.render_as_string(hide_password=False))
    result = CliRunner().invoke(main, ["import", "structures", str(SAMPLES / "parcours_comma.csv"),
                                       "--format", "parcours", "--all-or-nothing"])
    assert result.exit_code != 0
    assert _count(database) == 0


def test_structure_search_after_import(app: Litestar, database: Database, make_user: Callable[..., str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _import(database, monkeypatch, "parcours_comma.csv", "parcours")
    _import(database, monkeypatch, "dataes_sample.csv", "dataes")
    headers = {"Authorization": f"Bearer {issue_token(database, make_user('referrer'), None)}"}
    with TestClient(app) as client:
        near = client.get("/api/v1/sport/structures", params={"commune": "31555", "radius_km": "30"}, headers=headers)
        severe = client.get("/api/v1/sport/structures", params={"lat": "43.6047", "lon": "1.4442",
                                                                "limitation_level": "severe"}, headers=headers)
        bad = client.get("/api/v1/sport/structures", params={"lat": "95", "radius_km": "-1"}, headers=headers)
    assert near.status_code == 200, near.text
    items = near.json()["items"]
    assert items and all(set(item) >= {"id", "name", "kind", "commune", "distance_km", "match_reasons"}
                         for item in items)
    distances = [item["distance_km"] for item in items]
    assert distances == sorted(distances) and max(distances) <= 30
    assert all(item["kind"] not in ("club", "venue", "trail") for item in severe.json()["items"])
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} >= {"lat", "radius_km"}
