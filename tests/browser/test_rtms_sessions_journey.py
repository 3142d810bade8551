"""Session day in the browser: a psychiatrist triages and plans a course, the operator measures the motor
threshold and records the sessions, a checkpoint scale is entered, and the 10-session review prompt appears."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from conftest import OPERATOR, PSYCHIATRIST, check_axe, login
from playwright.sync_api import BrowserContext, Page, expect

pytestmark = pytest.mark.browser
PATIENT = "P-DEMO00010"  # the demo gives this patient a baseline about three weeks ago, and no course


def test_sessions_are_recorded_and_the_checkpoint_prompt_appears(page: Page, new_context: Callable[..., BrowserContext]) -> None:
    today = dt.datetime.now(ZoneInfo("Europe/Paris")).date()
    login(page, PSYCHIATRIST)
    page.goto(f"/patients/{PATIENT}/triage")
    page.select_option("#field-diagnosis", "unipolar")
    for name in ("psychotic_features", "catatonia", "anxiety_comorbidity", "mood_stabilizer"):
        page.locator(f"#{name}-no").check()
    page.select_option("#field-suicide_risk", "none")
    page.fill("#field-failed_adequate_trials", "1")
    page.fill("#field-episode_months", "8")
    page.select_option("#field-patient_preference", "none")
    with page.expect_navigation():
        page.get_by_role("button", name="Signer la décision").click()
    page.goto(f"/patients/{PATIENT}/courses")
    page.select_option("#field-protocol", "hf_left_10hz")
    page.fill("#field-start", (today - dt.timedelta(days=18)).isoformat())
    page.fill("#field-induction_sessions", "30")
    with page.expect_navigation():
        page.get_by_role("button", name="Planifier la cure").click()
    links = page.locator("table.sessions-table a[href*='/sessions/']")
    paths = [links.nth(i).get_attribute("href") for i in range(10)]
    course_path = paths[0].rsplit("/sessions/", 1)[0]  # type: ignore[union-attr]

    operator = new_context().new_page()
    login(operator, OPERATOR)
    operator.goto("/today")
    check_axe(operator, "rtms-today")
    operator.goto(str(paths[0]))
    expect(operator.locator("#field-mt")).to_contain_text("Seuil moteur à mesurer")
    check_axe(operator, "rtms-session-form")
    first_day = operator.locator("#field-performed_on").input_value()
    operator.get_by_role("link", name="Mesurer le seuil moteur").first.click()
    operator.wait_for_load_state("load")
    check_axe(operator, "rtms-mt-form")
    operator.fill("#field-measured_on", first_day)  # the MT of the course's first session day
    operator.fill("#field-measured_time", "07:30")
    operator.fill("#field-value_pct_mso", "60")
    operator.fill("#field-device_id", "MagPro-1")
    operator.fill("#field-coil_id", "Cool-B65")
    with operator.expect_navigation():
        operator.get_by_role("button", name="Enregistrer le seuil moteur").click()
    check_axe(operator, "rtms-mt-result")
    for index, path in enumerate(paths):
        operator.goto(str(path))
        operator.locator("#field-checkin_metal_removed").check()
        if index == 1:
            operator.locator("#field-checkin_alcohol").check()
            with operator.expect_navigation():
                operator.get_by_role("button", name="Enregistrer la séance").click()
            expect(operator.locator(".error-summary")).to_contain_text("médecin")
            check_axe(operator, "rtms-session-hold")
            operator.locator("#field-checkin_metal_removed").check()
            operator.fill("#field-released_by", "Dr Claire Muller")
        with operator.expect_navigation():
            operator.get_by_role("button", name="Enregistrer la séance").click()
        expect(operator.get_by_role("heading", name="Séance délivrée")).to_be_visible()
    check_axe(operator, "rtms-session-delivered")

    page.goto(f"/patients/{PATIENT}/assessments/new?scale=phq9")
    for item in range(9):
        page.locator(f"input[name='item_{item + 1}'][value='{3 if item < 2 else 2 if item < 8 else 0}']").check(force=True)
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer et calculer le score").click()
    page.goto(course_path.replace(f"/courses/{course_path.rsplit('/', 1)[1]}", "/courses"))
    prompt = page.locator(".checkpoint--review_protocol").first
    expect(prompt).to_contain_text("envisager une modification du protocole")
    check_axe(page, "rtms-course-checkpoint")
