"""axe-core (WCAG 2.1 A/AA) on every page each role can open, the kiosk tablet flow, and English."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from conftest import (
    ADMIN,
    COORDINATOR,
    OBSERVER,
    OPERATOR,
    PSYCHIATRIST,
    REFERRER,
    check_axe,
    login,
)
from playwright.sync_api import BrowserContext, Page, expect

pytestmark = pytest.mark.browser

PATIENT = "P-DEMO00001"
KIOSK_PATIENT = "P-DEMO00003"
CLINICIANS = {"psychiatrist": PSYCHIATRIST, "operator": OPERATOR}


def _open(page: Page, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path}: HTTP {response and response.status}"


def test_login_page_logged_out(page: Page) -> None:
    _open(page, "/login")
    expect(page.locator("nav")).to_have_count(0)
    expect(page.locator("#field-email")).to_be_visible()
    check_axe(page, "login")


def test_login_error_state(page: Page) -> None:
    _open(page, "/login")
    page.locator("#field-email").fill("personne@example.org")
    page.locator("#field-password").fill("not-the-password")
    with page.expect_navigation():
        page.locator("#field-password").press("Enter")
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("#error-summary")).to_be_focused()
    check_axe(page, "login-error")


@pytest.mark.parametrize("role", list(CLINICIANS))
def test_clinician_pages(page: Page, role: str) -> None:
    login(page, CLINICIANS[role])

    _open(page, "/")
    expect(page.locator('nav a[href="/patients"]')).to_be_visible()
    check_axe(page, f"{role}-home")

    _open(page, "/patients")
    expect(page.locator("#patient-results tbody tr").first).to_be_visible()
    check_axe(page, f"{role}-patients")

    _open(page, f"/patients/{PATIENT}")
    expect(page.locator("dl.identity code")).to_have_text(PATIENT)
    check_axe(page, f"{role}-patient-page")
    result_link = page.locator(f'main table a[href^="/patients/{PATIENT}/assessments/"]').first
    expect(result_link).to_be_visible()
    result_path = result_link.get_attribute("href")
    assert result_path is not None

    for scale in ("phq9", "madrs", "hads"):
        _open(page, f"/patients/{PATIENT}/assessments/new?scale={scale}")
        expect(page.locator("main form.questionnaire")).to_be_visible()
        check_axe(page, f"{role}-assessment-form-{scale}")

    # The validation state of a questionnaire: submitted with no answer.
    with page.expect_navigation():
        page.locator("main form.questionnaire button[type=submit]").click()
    expect(page.locator("#error-summary")).to_be_visible()
    check_axe(page, f"{role}-assessment-form-hads-errors")

    _open(page, result_path)
    expect(page.locator(".result .score")).to_be_visible()
    check_axe(page, f"{role}-assessment-result")

    _open(page, f"/patients/{PATIENT}/kiosk")
    expect(page.locator('input[name="scales"]').first).to_be_visible()
    check_axe(page, f"{role}-kiosk-open")

    _open(page, f"/patients/{PATIENT}/edit")
    expect(page.locator("#field-family_name")).not_to_have_value("")
    check_axe(page, f"{role}-patient-edit")


def test_admin_pages(page: Page) -> None:
    login(page, ADMIN)

    _open(page, "/")
    check_axe(page, "admin-home")

    _open(page, "/admin/users")
    edit_link = page.locator('main table a[href^="/admin/users/"]').first
    expect(edit_link).to_be_visible()
    check_axe(page, "admin-users")

    _open(page, "/admin/users/new")
    expect(page.locator("#field-role")).to_be_visible()
    check_axe(page, "admin-user-new")
    with page.expect_navigation():
        page.locator("main form.form button[type=submit]").click()
    expect(page.locator("#error-summary")).to_be_visible()
    check_axe(page, "admin-user-new-errors")

    _open(page, "/admin/users")
    edit_link.click()
    expect(page).to_have_url(re.compile(r"/admin/users/[^/]+/edit$"))
    expect(page.locator("#field-email")).not_to_have_value("")
    check_axe(page, "admin-user-edit")

    _open(page, "/admin/audit")
    expect(page.locator("table.audit tbody tr").first).to_be_visible()
    check_axe(page, "admin-audit")

    page.locator("#field-patient").fill(PATIENT)
    page.locator("#field-date_from").fill("2000-01-01")
    with page.expect_navigation(url=re.compile(rf"patient={PATIENT}")):
        page.locator("main form.filters button[type=submit]").click()
    rows = page.locator("table.audit tbody tr")
    expect(rows.first).to_be_visible()
    for text in rows.locator("td:nth-child(6)").all_inner_texts():
        assert text.strip() == PATIENT
    check_axe(page, "admin-audit-filtered")

    response = page.goto("/admin/audit?date_from=not-a-date")
    assert response is not None and response.status == 422
    expect(page.locator("#error-summary")).to_be_visible()
    check_axe(page, "admin-audit-filter-errors")


@pytest.mark.parametrize(("role", "email"), [("referrer", REFERRER), ("coordinator", COORDINATOR),
                                             ("observer", OBSERVER)])
def test_other_roles_home(page: Page, role: str, email: str) -> None:
    login(page, email)
    _open(page, "/")
    expect(page.locator("h1")).to_be_visible()
    check_axe(page, f"{role}-home")


def _answer_all(page: Page, value: int) -> None:
    """Check the given answer value in every item fieldset of the questionnaire."""
    items = page.locator("main form.questionnaire .item")
    count = items.count()
    assert count > 0
    for index in range(count):
        items.nth(index).locator(f'input[type=radio][value="{value}"]').check()


def test_kiosk_tablet_flow(page: Page, new_context: Callable[..., BrowserContext]) -> None:
    login(page, OPERATOR)
    _open(page, f"/patients/{KIOSK_PATIENT}/kiosk")
    page.locator("#scale-phq9").check()
    page.locator("#scale-who5").check()
    with page.expect_navigation():
        page.locator("main form.form button[type=submit]").click()
    link = page.locator("main .kiosk-link a")
    expect(link).to_be_visible()
    check_axe(page, "kiosk-pass-opened")
    kiosk_path = link.get_attribute("href")
    assert kiosk_path is not None and kiosk_path.startswith("/kiosk/")

    tablet = new_context().new_page()  # a separate device: no session cookie
    assert tablet.context.cookies() == []
    _open(tablet, kiosk_path)
    expect(tablet.locator("nav")).to_have_count(0)
    expect(tablet.locator("h1")).to_contain_text("PHQ-9")
    expect(tablet.locator("main fieldset")).to_have_count(9)
    check_axe(tablet, "kiosk-tablet-phq9")

    with tablet.expect_navigation():
        tablet.locator("main form.questionnaire button[type=submit]").click()
    expect(tablet.locator("#error-summary")).to_be_visible()
    check_axe(tablet, "kiosk-tablet-phq9-errors")

    _answer_all(tablet, 1)
    tablet.locator("#item-9-0").check()  # no suicidal ideation: the flow goes on to the next questionnaire
    with tablet.expect_navigation(url=re.compile(re.escape(kiosk_path) + "$")):
        tablet.locator("main form.questionnaire button[type=submit]").click()
    expect(tablet.locator("h1")).to_contain_text("WHO-5")
    expect(tablet.locator("main fieldset")).to_have_count(5)
    check_axe(tablet, "kiosk-tablet-who5")

    _answer_all(tablet, 3)
    with tablet.expect_navigation(url=re.compile(re.escape(kiosk_path) + "$")):
        tablet.locator("main form.questionnaire button[type=submit]").click()
    expect(tablet.locator("main form")).to_have_count(0)
    expect(tablet.locator("main h1")).to_be_visible()
    check_axe(tablet, "kiosk-tablet-thanks")

    # The clinician sees both kiosk administrations on the patient page.
    _open(page, f"/patients/{KIOSK_PATIENT}")
    expect(page.locator("ol.timeline")).to_contain_text("PHQ-9")
    expect(page.locator("ol.timeline")).to_contain_text("WHO-5")


def test_english_version(page: Page) -> None:
    """Switch language with the header form (second psychiatrist, so the others keep French)."""
    login(page, "psychiatre2@demo.parcours.fr")
    _open(page, f"/patients/{PATIENT}")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    try:
        # app.js submits the form on change (the button is there for keyboard users).
        with page.expect_navigation(url=re.compile(rf"/patients/{PATIENT}$")):
            page.locator("#language-choice").select_option("en")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("#language-choice")).to_have_value("en")
        expect(page.locator("#alerts-title")).to_have_text("Safety alerts")
        expect(page.locator("main")).to_contain_text("Patient Health Questionnaire")
        check_axe(page, "english-patient-page")
    finally:
        with page.expect_navigation():
            page.locator("#language-choice").select_option("fr")
        expect(page.locator("html")).to_have_attribute("lang", "fr")


def test_kiosk_crisis_page(page: Page, new_context: Callable[..., BrowserContext]) -> None:
    """PHQ-9 item 9 > 0 on the tablet: the patient sees the crisis numbers at once, in a role=alert box."""
    login(page, OPERATOR)
    _open(page, f"/patients/{KIOSK_PATIENT}/kiosk")
    page.locator("#scale-phq9").check()
    with page.expect_navigation():
        page.locator("main form.form button[type=submit]").click()
    kiosk_path = page.locator("main .kiosk-link a").get_attribute("href")
    assert kiosk_path is not None

    tablet = new_context().new_page()
    _open(tablet, kiosk_path)
    _answer_all(tablet, 0)
    tablet.locator("#item-9-2").check()
    with tablet.expect_navigation():
        tablet.locator("main form.questionnaire button[type=submit]").click()
    crisis = tablet.locator("main [role=alert]")
    expect(crisis).to_be_visible()
    expect(crisis).to_contain_text("3114")
    expect(crisis).to_contain_text("15")
    expect(tablet.locator("main form")).to_have_count(0)
    check_axe(tablet, "kiosk-tablet-crisis")

    # The clinician side now shows the open alert raised from the kiosk.
    _open(page, f"/patients/{KIOSK_PATIENT}")
    expect(page.locator("#alerts [role=alert]").first).to_be_visible()
