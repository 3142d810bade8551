"""The sport calculators over HTTP (api-contract.md)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from parcours_web.auth.service import issue_token
from shared_core.db import Database

pytestmark = pytest.mark.db


@pytest.fixture
def headers(database: Database, make_user: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(database, make_user('coordinator'), None)}"}


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("severe", ["physiotherapist", "occupational_therapist", "psychomotor_therapist"]),
        ("none", ["physiotherapist", "occupational_therapist", "psychomotor_therapist", "apa_teacher",
                  "sport_educator", "federal_certified"]),
    ],
)
def test_supervision(app: Litestar, headers: dict[str, str], level: str, expected: list[str]) -> None:
    with TestClient(app) as client:
        response = client.post("/api/v1/sport/supervision", json={"limitation_level": level}, headers=headers)
    assert response.status_code == 200
    assert response.json() == {"allowed_professions": expected}


def test_supervision_rejects_an_unknown_level(app: Litestar, headers: dict[str, str]) -> None:
    with TestClient(app) as client:
        response = client.post("/api/v1/sport/supervision", json={"limitation_level": "extreme"}, headers=headers)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["limitation_level"]


@pytest.mark.parametrize(
    ("birth", "benefits", "eligible"),
    [
        ("2008-03-15", ["aeeh"], True),  # 17
        ("1994-07-01", ["aah"], False),  # 31
        ("1995-10-02", ["aah"], True),  # 29
        ("2019-09-01", ["aeeh"], True),  # 6 on the day
        ("2019-09-02", ["aeeh"], False),  # 5
    ],
)
def test_pass_sport(app: Litestar, headers: dict[str, str], birth: str, benefits: list[str], eligible: bool) -> None:
    with TestClient(app) as client:
        response = client.post("/api/v1/sport/aids/pass-sport", headers=headers,
                               json={"birth_date": birth, "on_date": "2025-09-01", "benefits": benefits})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["eligible"] is eligible
    assert body["amount_eur"] == (70 if eligible else 0)
    assert isinstance(body["reason"], str) and body["reason"]


def test_pass_sport_names_every_bad_field(app: Litestar, headers: dict[str, str]) -> None:
    with TestClient(app) as client:
        response = client.post("/api/v1/sport/aids/pass-sport", headers=headers,
                               json={"birth_date": "2008-02-30", "on_date": "soon", "benefits": ["lottery"]})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} >= {"birth_date", "on_date"}
