"""Directory administration, structure profile and observer dashboard in the browser; axe-clean."""

from __future__ import annotations

import re

import pytest
from conftest import ADMIN, COORDINATOR, OBSERVER, check_axe, login
from playwright.sync_api import FilePayload, Page, expect

pytestmark = pytest.mark.browser
HEADER = ("structure_id,kind,name,postcode,commune_insee,latitude,longitude,accepting_referrals,referral_email,"
          "source,source_licence,updated_at\n")


def _file(rows: int) -> bytes:
    lines = [f"browser-club-{n:05d},club,Club navigateur {n} (démonstration),67000,67482,48.58,7.75,true,"
             f"club{n}@demo.parcours.fr,manual,own,2026-01-10\n" for n in range(rows)]
    lines.append("browser-bad,clubb,Ligne invalide,6700,67482,,,peut-être,,manual,own,2026-01-10\n")
    return (HEADER + "".join(lines)).encode()


def test_admin_imports_a_file_and_follows_its_progress(page: Page) -> None:
    login(page, ADMIN)
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Annuaire").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Annuaire sport-santé")
    check_axe(page, "sport-admin-structures")
    page.fill("#structure-search", "Strasbourg")
    expect(page.locator("#structure-results")).to_contain_text("Maison Sport-Santé de Strasbourg")
    page.get_by_role("link", name=re.compile("Maison Sport-Santé de Strasbourg")).click()
    expect(page.get_by_role("heading", level=2, name="Organisation responsable de cette structure")).to_be_visible()
    check_axe(page, "sport-admin-structure")

    page.goto("/admin/sport/imports")
    expect(page.get_by_role("link", name="annuaire-demo-bas-rhin.csv")).to_be_visible()  # the demo job
    check_axe(page, "sport-admin-imports")
    page.set_input_files("#field-file", files=FilePayload(name="clubs.csv", mimeType="text/csv", buffer=_file(4000)))
    page.get_by_label("Format d'annuaire Parcours (CSV ou JSON)").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Lancer l'import").click()
    assert re.search(r"/admin/sport/imports/IMP-", page.url)
    # The fragment polls itself until the job ends, then shows the report (no reload needed).
    expect(page.locator("#job-status h2")).to_have_text("Import terminé", timeout=90_000)
    expect(page.locator("table.import-skipped")).to_contain_text("4002")  # the bad row's line number
    expect(page.locator("table.import-summary")).to_contain_text("4000")
    check_axe(page, "sport-admin-import-report")


def test_observer_sees_the_indicators_and_exports(page: Page) -> None:
    login(page, OBSERVER)
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Indicateurs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Indicateurs sport-santé")
    expect(page.locator("svg").first).to_be_visible()
    expect(page.get_by_role("link", name="Télécharger les données ouvertes (CSV)")).to_be_visible()
    check_axe(page, "observer-indicators")
    page.select_option("#field-area", "R:44")
    with page.expect_navigation():
        page.get_by_role("button", name="Afficher les indicateurs").click()
    expect(page.get_by_role("heading", level=2, name=re.compile("Grand Est"))).to_be_visible()
    check_axe(page, "observer-indicators-region")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger les données ouvertes (CSV)").click()
    assert download.value.suggested_filename.endswith(".csv")


def test_coordinator_edits_and_confirms_the_structure_profile(page: Page) -> None:
    login(page, COORDINATOR)
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Fiche de la structure").click()
    check_axe(page, "structure-profiles")
    page.get_by_role("link", name=re.compile("Maison Sport-Santé de Strasbourg")).click()
    check_axe(page, "structure-profile-form")
    page.fill("#field-capacity_open_slots", "7")
    page.fill("#field-disciplines", "Marche nordique\nGym douce")
    page.get_by_label("Équilibre").check()
    page.get_by_role("row", name=re.compile("Stationnement accessible")).get_by_label("Oui").check()
    page.get_by_label("Je confirme que cette fiche est exacte et à jour").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer la fiche").click()
    expect(page.get_by_role("status")).to_have_text("La fiche est enregistrée.")
    expect(page.locator("#field-capacity_open_slots")).to_have_value("7")
    expect(page.locator("dl.identity")).not_to_contain_text("Pas encore confirmée")
    check_axe(page, "structure-profile-saved")
    page.fill("#field-website", "pas une adresse")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer la fiche").click()
    expect(page.locator("#error-summary")).to_contain_text("adresse web")
    check_axe(page, "structure-profile-errors")
