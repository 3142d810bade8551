"""Treatment history in the browser: the psychiatrist opens it from the patient page, adds a failed
adequate trial (live check by htmx) and sees the staging change; every page is axe-clean."""

from __future__ import annotations

import pytest
from conftest import OPERATOR, PSYCHIATRIST, check_axe, login
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_psychiatrist_adds_a_trial_and_the_staging_updates(page: Page) -> None:
    login(page, PSYCHIATRIST)
    page.goto("/patients/P-DEMO00004")
    with page.expect_navigation():
        page.get_by_role("link", name="Historique thérapeutique et stadification").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Historique thérapeutique")
    expect(page.locator("#staging-headline")).to_contain_text("Dépression résistante (définition retenue par le centre) : Non")
    expect(page.locator("#thase-rush")).to_contain_text("I")
    check_axe(page, "history-page")

    with page.expect_navigation():
        page.get_by_role("link", name="Ajouter un essai").click()
    check_axe(page, "history-trial-form")
    page.select_option("#field-modality", "antidepressant")
    page.fill("#field-agent", "venlafaxine")
    page.fill("#field-max_daily_dose", "225")
    page.fill("#field-unit", "mg")
    page.select_option("#field-adherence", "good")
    with page.expect_response(lambda r: r.url.endswith("/history/trial-check")):
        page.fill("#field-weeks_at_adequate_dose", "10")
        page.locator("#field-weeks_at_adequate_dose").press("Tab")
    with page.expect_response(lambda r: r.url.endswith("/history/trial-check")):
        page.select_option("#field-outcome", "non_response_lt25")
    expect(page.locator("#trial-check")).to_contain_text("R-STG-01")
    expect(page.locator("#trial-check")).to_contain_text("Échec HAS : Oui")
    check_axe(page, "history-trial-check")

    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer l'essai").click()
    expect(page.locator("table").first).to_contain_text("venlafaxine")
    expect(page.locator("#staging-headline")).to_contain_text("Dépression résistante (définition retenue par le centre) : Oui")
    expect(page.locator("#thase-rush strong")).to_have_text("II")
    check_axe(page, "history-page-after")


def test_invalid_medication_names_each_field_and_the_review_shows_reasons(page: Page) -> None:
    login(page, PSYCHIATRIST)
    page.goto("/patients/P-DEMO00002/history")
    expect(page.locator("#review")).to_contain_text("R-MED-03")
    expect(page.locator("#review [role=alert]")).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("link", name="Ajouter un traitement").click()
    page.fill("#field-dose", "2")
    page.select_option("#field-last_change_kind", "stop")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer le traitement").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    for field in ("inn", "unit", "last_change_on"):
        expect(summary.locator(f'a[href="#field-{field}"]')).to_have_count(1)
    check_axe(page, "history-medication-errors")


def test_operator_reads_the_history_without_edit_controls(page: Page) -> None:
    login(page, OPERATOR)
    page.goto("/patients/P-DEMO00003/history")
    expect(page.locator("#review")).to_contain_text("R-MED-01")
    expect(page.get_by_role("link", name="Ajouter un essai")).to_have_count(0)
    expect(page.locator("form[action$='/history/episode']")).to_have_count(0)
    check_axe(page, "history-operator")
