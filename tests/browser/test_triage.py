"""rTMS triage in the browser: the proposal follows the answers (htmx), the physician signs; axe-clean."""

from __future__ import annotations

import pytest
from conftest import PSYCHIATRIST, check_axe, login
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_triage_proposal_updates_live_and_the_decision_is_signed(page: Page) -> None:
    login(page, PSYCHIATRIST)
    page.goto("/patients/P-DEMO00002/triage")
    check_axe(page, "triage-empty")
    page.select_option("#field-diagnosis", "unipolar")
    for name in ("psychotic_features", "catatonia", "anxiety_comorbidity", "mood_stabilizer"):
        page.locator(f"#{name}-no").check()
    page.select_option("#field-suicide_risk", "none")
    page.fill("#field-failed_adequate_trials", "1")
    page.fill("#field-episode_months", "8")
    with page.expect_response(lambda r: r.url.endswith("/triage/preview")):
        page.select_option("#field-patient_preference", "none")
    expect(page.locator("#triage-result")).to_contain_text("R-TRI-07")
    with page.expect_response(lambda r: r.url.endswith("/triage/preview")):
        page.locator("#psychotic_features-yes").check()
    expect(page.locator("#triage-result .orientation--ect_first")).to_be_visible()
    check_axe(page, "triage-proposal")
    with page.expect_navigation():
        page.get_by_role("button", name="Signer la décision").click()
    expect(page.locator("table")).to_contain_text("ECT")
    check_axe(page, "triage-history")
