"""The sport bridge in the browser (product journeys 7-8): the physician prescribes, searches, records
consent and sends; the structure's coordinator accepts and records a report; the physician sees it.
Every page passes axe (WCAG 2.1 A/AA)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from conftest import PSYCHIATRIST, check_axe, login
from playwright.sync_api import BrowserContext, Page, expect

pytestmark = pytest.mark.browser

PATIENT = "P-DEMO00024"
# Demo structures of Strasbourg and the coordinator account of each (demo_sport_referrals.py).
COORDINATOR_OF = {
    "Maison Sport-Santé": "coordinateur@demo.parcours.fr",
    "IME": "referent.esms@demo.parcours.fr",
    "Cabinet de kinésithérapie": "coordinateur.kine@demo.parcours.fr",
}
ELIGIBILITY_YES = ("prescriber_is_physician", "prescriber_involved_in_care", "below_who_recommendations",
                   "cannot_progress_alone", "chronic_disease", "patient_agrees")


def _place_patient_in_strasbourg(page: Page) -> None:
    page.goto(f"/patients/{PATIENT}/edit")
    page.fill("#field-commune_insee", "67482")
    with page.expect_navigation():
        page.locator("main form.form button[type=submit]").click()


def test_prescribe_send_accept_report_and_see_it(page: Page, new_context: Callable[..., BrowserContext]) -> None:
    login(page, PSYCHIATRIST)
    _place_patient_in_strasbourg(page)
    page.goto(f"/patients/{PATIENT}")
    page.get_by_role("link", name="Activité physique adaptée").click()
    check_axe(page, "sport-overview")
    page.get_by_role("link", name="Nouvelle prescription d'APA").click()
    check_axe(page, "sport-prescribe-empty")
    for name in ELIGIBILITY_YES:
        page.locator(f"#{name}-yes").check()
    page.locator("#ald-no").check()
    page.locator("#risk_factors-sedentary").check()
    with page.expect_response(lambda r: r.url.endswith("/sport/prescribe/preview")):
        page.select_option("#field-limitation_level", "minimal")
    expect(page.locator("#live-level")).to_contain_text(re.compile("minim", re.IGNORECASE))
    expect(page.locator("#live-eligibility")).to_contain_text("Éligible")
    # Ticking a severe criterion makes the level severe at once (L-1), unticking restores it.
    with page.expect_response(lambda r: r.url.endswith("/sport/prescribe/preview")):
        page.locator("#severe_criteria-loco_walking").check()
    expect(page.locator("#live-level")).to_contain_text(re.compile("sévère|severe", re.IGNORECASE))
    with page.expect_response(lambda r: r.url.endswith("/sport/prescribe/preview")):
        page.locator("#severe_criteria-loco_walking").uncheck()
    page.fill("#field-goals", "Marcher 30 minutes sans pause")
    check_axe(page, "sport-prescribe-filled")
    with page.expect_navigation():
        page.get_by_role("button", name="Signer la prescription").click()
    expect(page.locator("h1")).to_contain_text("Prescription d'APA")
    check_axe(page, "sport-prescription-search")
    # A city lists only its nearest structures: look the demo ones up by name.
    page.fill("#field-structure-name", "Strasbourg")
    with page.expect_navigation():
        page.get_by_role("button", name="Relancer la recherche").click()

    results = page.locator("#search-results > li")
    chosen = None
    for index in range(results.count()):
        item = results.nth(index)
        title = item.locator("h3").inner_text()
        if "Strasbourg" in title and item.get_by_role("button").count():
            chosen = next((k for k in COORDINATOR_OF if title.startswith(k)), None)
            if chosen:
                with page.expect_navigation():
                    item.get_by_role("button").click()
                break
    assert chosen, "no Strasbourg structure with a coordinator account in the results"
    check_axe(page, "sport-referral-draft")
    page.locator("#scopes-share_referral").check()
    page.locator("#scopes-share_reports_with_prescriber").check()
    page.select_option("#field-granted_by", "patient")
    page.select_option("#field-collection_mode", "oral_recorded")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer le consentement").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Envoyer l'orientation à la structure").click()
    expect(page.locator("#referral-status")).to_contain_text("Orientation envoyée")
    referral_url = page.url
    referral_id = referral_url.rsplit("/", 1)[1]

    coordinator = new_context().new_page()
    login(coordinator, COORDINATOR_OF[chosen])
    coordinator.get_by_role("link", name="Orientations reçues").first.click()
    check_axe(coordinator, "sport-inbox")
    with coordinator.expect_response(lambda r: "/sport/inbox?" in r.url):
        coordinator.fill("#field-q", referral_id)
    expect(coordinator.locator("#inbox-results")).to_contain_text("1 orientation")
    coordinator.locator(f"a[href='/sport/inbox/{referral_id}']").click()
    expect(coordinator.locator("#referral-status")).to_contain_text("Reçue par la structure")
    check_axe(coordinator, "sport-inbox-referral-received")
    with coordinator.expect_navigation():
        coordinator.get_by_role("button", name="Accepter l'orientation").click()
    expect(coordinator.locator("#referral-status")).to_contain_text("Acceptée")
    today = dt.date.today().isoformat()
    coordinator.fill("#field-session_on", today)
    coordinator.locator("#attended-yes").check()
    with coordinator.expect_navigation():
        coordinator.get_by_role("button", name="Enregistrer la saisie").click()
    expect(coordinator.locator("#referral-status")).to_contain_text("Programme en cours")
    coordinator.select_option("#field-report_type", "initial_assessment")
    coordinator.fill("#field-performed_on", today)
    coordinator.select_option("#field-performer_profession", "apa_teacher")
    coordinator.fill("#field-six_minute_walk_m", "417")
    coordinator.fill("#field-ricci_gagnon_score", "21")
    with coordinator.expect_navigation():
        coordinator.get_by_role("button", name="Enregistrer le bilan").click()
    expect(coordinator.locator("main")).to_contain_text("417")
    check_axe(coordinator, "sport-inbox-referral-report")
    coordinator.get_by_role("link", name=re.compile("Bilan imprimable")).first.click()
    check_axe(coordinator, "sport-report-print")

    page.goto(referral_url)
    expect(page.locator("#referral-status")).to_contain_text("Programme en cours")
    expect(page.locator("main")).to_contain_text("417")
    check_axe(page, "sport-referral-prescriber-report")
    page.get_by_role("link", name="Retour à la prescription").click()
    page.get_by_role("link", name="Prescription imprimable").click()
    expect(page.locator("h1")).to_contain_text("Prescription d'activité physique adaptée")
    check_axe(page, "sport-prescription-print")
