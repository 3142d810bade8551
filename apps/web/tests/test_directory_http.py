"""Organisations, practitioners and closures administered through the pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from shared_core.rules.identifiers import luhn_valid

pytestmark = pytest.mark.db
Client = Callable[..., tuple[TestClient[Litestar], str]]


def test_admin_creates_an_organisation_and_sees_the_finess_warning(client_for: Client) -> None:
    client, token = client_for("admin")
    bad_key = next(f"67078{n:04d}" for n in range(10000) if not luhn_valid(f"67078{n:04d}"))
    response = client.post("/admin/organisations", data={"_csrf_token": token, "kind": "esms", "name": "IME Test",
                                                         "finess": bad_key})
    assert response.status_code == 200
    assert 'role="status"' in response.text and "IME Test" in response.text
    invalid = client.post("/admin/organisations", data={"_csrf_token": token, "kind": "esms", "name": "",
                                                        "finess": "123"})
    assert invalid.status_code == 422
    assert 'href="#field-name"' in invalid.text and 'href="#field-finess"' in invalid.text


def test_admin_records_a_practitioner_with_rpps(client_for: Client) -> None:
    client, token = client_for("admin")
    ok = client.post("/admin/practitioners", data={"_csrf_token": token, "family_name": "Roux", "given_name": "Anne",
                                                   "profession": "psychiatrist", "rpps": "10101010108"})
    assert ok.status_code == 200 and "10101010108" in ok.text
    bad = client.post("/admin/practitioners", data={"_csrf_token": token, "family_name": "Roux", "given_name": "Anne",
                                                    "profession": "psychiatrist", "rpps": "12"})
    assert bad.status_code == 422 and 'href="#field-rpps"' in bad.text


def test_closures_can_be_added_and_removed(client_for: Client) -> None:
    client, token = client_for("admin")
    base = "/admin/organisations/org-centre-a/closures"
    response = client.post(base, data={"_csrf_token": token, "start_date": "2026-12-24", "end_date": "2027-01-01",
                                       "label": "Fin d'année"}, follow_redirects=False)
    assert response.status_code == 303
    page = client.get(base)
    assert "Fin d&#39;année" in page.text or "Fin d'année" in page.text
    assert client.post(base, data={"_csrf_token": token, "start_date": "2027-01-02", "end_date": "2026-01-01",
                                   "label": "x"}).status_code == 422
    import re

    closure_id = re.search(r"/closures/(\d+)/delete", page.text)
    assert closure_id
    client.post(f"{base}/{closure_id.group(1)}/delete", data={"_csrf_token": token})
    assert "/delete" not in client.get(base).text


def test_clinicians_cannot_administer_the_directory(client_for: Client) -> None:
    client, token = client_for("psychiatrist")
    assert client.get("/admin/organisations").status_code == 403
    assert client.post("/admin/organisations", data={"_csrf_token": token, "kind": "centre",
                                                     "name": "x"}).status_code == 403
