"""rTMS referral journey in the browser: the referrer sends a referral, the centre finds it in its intake
queue, signs the triage, the referrer reads the outcome; the pathway page and the letter; axe on each page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import PSYCHIATRIST, REFERRER, check_axe, login
from playwright.sync_api import BrowserContext, Page, expect

pytestmark = pytest.mark.browser


def test_referral_queue_triage_and_outcome(page: Page, new_context: Callable[..., BrowserContext]) -> None:
    login(page, REFERRER)
    page.goto("/referrals")
    check_axe(page, "intake-referrer-list")
    page.get_by_role("link", name="Nouvelle demande d'avis rTMS").click()
    page.wait_for_url("**/referrals/new")
    with page.expect_navigation():
        page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.locator("#error-summary")).to_be_visible()
    check_axe(page, "intake-referral-form-errors")
    page.select_option("#field-recipient_organisation_id", "org-centre-demo")
    page.fill("#field-family_name", "Navigateur")
    page.fill("#field-given_names", "Lucie")
    page.fill("#field-birth_date", "1975-06-15")
    page.locator("#field-sex").check()
    page.fill("#field-episode_start", "2026-01")
    page.fill("#field-reason", "Épisode dépressif résistant à deux antidépresseurs.")
    page.fill("#field-clinical_summary", "Anhédonie, insomnie, pas d'antécédent de crise.")
    page.fill("#field-current_treatment", "Venlafaxine 225 mg")
    page.fill("#field-question", "Indication de rTMS ?")
    page.select_option("#field-urgency", "soon")
    with page.expect_navigation():
        page.get_by_role("button", name="Envoyer la demande").click()
    referral_url = page.url
    assert "/referrals/R-" in referral_url
    expect(page.locator(".notice")).to_contain_text("Reçue")
    check_axe(page, "intake-referrer-page")

    centre = new_context().new_page()
    login(centre, PSYCHIATRIST)
    centre.goto("/intake")
    check_axe(centre, "intake-queue")
    with centre.expect_response(lambda r: "/intake?" in r.url):
        centre.fill("#intake-search", "navigat")
    expect(centre.locator("#intake-results")).to_contain_text("Navigateur Lucie")
    centre.get_by_role("link", name="Navigateur Lucie").click()
    centre.wait_for_url("**/intake/R-*")
    check_axe(centre, "intake-centre-page")
    intake_url = centre.url
    centre.get_by_role("link", name="Orientation rTMS").first.click()
    centre.wait_for_url("**/triage")
    centre.select_option("#field-diagnosis", "unipolar")
    for name in ("psychotic_features", "catatonia", "anxiety_comorbidity", "mood_stabilizer"):
        centre.locator(f"#{name}-no").check()
    centre.select_option("#field-suicide_risk", "none")
    centre.fill("#field-failed_adequate_trials", "2")
    centre.fill("#field-episode_months", "8")
    with centre.expect_response(lambda r: r.url.endswith("/triage/preview")):
        centre.select_option("#field-patient_preference", "none")
    with centre.expect_navigation():
        centre.get_by_role("button", name="Signer la décision").click()
    centre.goto(intake_url)
    expect(centre.locator(".notice")).to_contain_text("Acceptée")

    page.goto(referral_url)
    expect(page.locator("#outcome-title + .orientation")).to_contain_text("rTMS indiquée")
    check_axe(page, "intake-referrer-outcome")


def test_pathway_page_and_letter(page: Page, new_context: Callable[..., BrowserContext]) -> None:
    login(page, PSYCHIATRIST)
    page.goto("/patients/P-DEMO00020/pathway")
    expect(page.locator("h1")).to_contain_text("Parcours rTMS")
    expect(page.locator(".checkpoint-line").first).to_be_attached()
    check_axe(page, "pathway-closed-course")
    page.get_by_role("link", name="Courrier au médecin adresseur").first.click()
    page.wait_for_url("**/letter")
    expect(page.locator("h1")).to_contain_text("Courrier de fin de cure")
    check_axe(page, "pathway-letter")
    # P-DEMO00006: an active course no other browser test changes (the keyboard journeys close P-DEMO00004's).
    page.goto("/patients/P-DEMO00006/pathway")
    expect(page.locator("article.course").first).to_be_visible()
    check_axe(page, "pathway-active-course")

    referrer = new_context().new_page()
    login(referrer, REFERRER)
    referrer.goto("/referrals")
    referrer.get_by_role("link", name="Lire le courrier").first.click()
    referrer.wait_for_url("**/letter")
    check_axe(referrer, "intake-referrer-letter")
