"""The foundation journey of a psychiatrist, in a real browser, with axe-core on every page."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import PSYCHIATRIST, check_axe, login, screenshot
from playwright.sync_api import Page, Response, expect

pytestmark = pytest.mark.browser

PATIENT_PAGE = re.compile(r"/patients/(P-[A-Z0-9]+)$")
RESULT_PAGE = re.compile(r"/patients/P-[A-Z0-9]+/assessments/[^/?#]+$")


def _search(page: Page, text: str) -> None:
    """Type in the active search and wait for htmx to swap the results in (no page load)."""
    url_before = page.url

    def is_search(response: Response) -> bool:
        url = urlsplit(response.url)
        return (url.path == "/patients" and parse_qs(url.query).get("q") == [text]
                and response.request.headers.get("hx-request") == "true")

    with page.expect_response(is_search) as response:
        page.locator("#patient-search").fill(text)
    assert response.value.ok
    assert page.url == url_before, "the active search must not reload the page"


def test_psychiatrist_journey(page: Page) -> None:
    # 1. Log in (keyboard: fill, then Enter) and land on the home page.
    login(page, PSYCHIATRIST)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_contain_text("Dr Claire Muller")
    check_axe(page, "journey-01-home")

    # 2. The patient list and its htmx active search.
    page.locator('nav a[href="/patients"]').click()
    expect(page).to_have_url(re.compile(r"/patients$"))
    first_link = page.locator("#patient-results tbody tr a").first
    expect(first_link).to_be_visible()
    family_name = first_link.inner_text().split()[0]
    initial_count = page.locator("#patient-results .result-count").inner_text()
    check_axe(page, "journey-02-patients")

    _search(page, family_name)
    expect(page.locator("#patient-results .result-count")).not_to_have_text(initial_count)
    names = page.locator("#patient-results tbody tr td:first-child")
    assert names.count() >= 1
    for name in names.all_inner_texts():
        assert name.startswith(family_name), name

    _search(page, "P-DEMO00007")
    expect(page.locator("#patient-results tbody tr")).to_have_count(1)
    expect(page.locator("#patient-results tbody tr code")).to_have_text("P-DEMO00007")

    _search(page, "Zzzzyx")
    expect(page.locator("#patient-results table")).to_have_count(0)
    expect(page.locator("#patient-results p:not(.result-count)")).to_be_visible()
    check_axe(page, "journey-03-patients-search-empty")

    # 3. New patient: an empty submission shows the error summary and the field messages.
    page.locator('main a[href="/patients/new"]').click()
    expect(page).to_have_url(re.compile(r"/patients/new$"))
    check_axe(page, "journey-04-patient-form")
    with page.expect_navigation():
        page.locator("main form.form button[type=submit]").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()  # app.js moves focus to the summary
    for field in ("family_name", "given_names", "birth_date", "sex"):
        expect(summary.locator(f'a[href="#field-{field}"]')).to_have_count(1)
        expect(page.locator(f"#errors-{field} .error-message")).to_have_count(1)
    for field in ("family_name", "given_names", "birth_date"):
        expect(page.locator(f"#field-{field}")).to_have_attribute("aria-invalid", "true")
    check_axe(page, "journey-05-patient-form-errors")

    # The summary links take the keyboard user to the field.
    summary.locator('a[href="#field-family_name"]').click()
    page.locator("#field-family_name").fill("Navigateur-Test")
    page.locator("#field-given_names").fill("Alice Marie")
    page.locator("#field-birth_date").fill("1980-05-17")
    page.locator("#sex-F").check()
    page.locator("#field-commune_insee").fill("67482")
    page.locator("#field-address_line").fill("1 place de la Cathédrale, Strasbourg")
    page.locator("#field-phone").fill("0612345678")
    page.locator("#field-email").fill("alice.navigateur@example.org")
    with page.expect_navigation(url=PATIENT_PAGE):
        page.locator("main form.form button[type=submit]").click()
    match = PATIENT_PAGE.search(page.url)
    assert match is not None
    patient_id = match.group(1)
    expect(page.locator("h1")).to_have_text("Navigateur-Test Alice Marie")
    expect(page.locator("dl.identity code")).to_have_text(patient_id)
    expect(page.locator("#alerts [role=alert]")).to_have_count(0)
    check_axe(page, "journey-06-patient-page")

    # 4. Record a PHQ-9: items 1-8 = 2, item 9 = 1 -> total 17, "moderately severe", suicidal-ideation alert.
    page.locator(f'main a[href="/patients/{patient_id}/assessments/new"]').click()
    page.locator("#scale-choice").select_option("phq9")
    with page.expect_navigation(url=re.compile(r"scale=phq9")):
        page.locator("main form.inline-form button[type=submit]").click()
    expect(page.locator("fieldset legend .item-number")).to_have_count(9)
    check_axe(page, "journey-07-phq9-form")
    for number in range(1, 9):
        page.locator(f"#item-{number}-2").check()
    page.locator("#item-9-1").check()
    with page.expect_navigation(url=RESULT_PAGE):
        page.locator("main form.questionnaire button[type=submit]").click()
    expect(page.locator(".result .score")).to_have_text(re.compile(r"^\s*17\s*/\s*27\s*$"))
    expect(page.locator(".result")).to_contain_text("Modérément sévère")
    alert = page.locator("main [role=alert]")
    expect(alert).to_have_count(1)
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Idées suicidaires")
    expect(alert).to_contain_text("3114")
    chart = page.locator("figure.chart svg[role=img]")
    expect(chart).to_be_visible()
    expect(chart.locator("circle.point")).to_have_count(1)
    expect(chart.locator("title")).to_contain_text("PHQ-9")
    check_axe(page, "journey-08-phq9-result")

    # 5. Back on the patient page: the open safety alert, then its acknowledgement.
    page.locator(f'main a[href="/patients/{patient_id}"]').first.click()
    expect(page).to_have_url(PATIENT_PAGE)
    open_alert = page.locator("#alerts [role=alert]")
    expect(open_alert).to_have_count(1)
    expect(open_alert).to_contain_text("Idées suicidaires")
    expect(page.locator("main table").first).to_contain_text("17")
    expect(page.locator("section figure.chart svg[role=img]")).to_be_visible()
    check_axe(page, "journey-09-patient-page-alert")

    page.goto("/")
    home_alert = page.locator(f'main table a[href="/patients/{patient_id}#alerts"]')
    expect(home_alert).to_have_count(1)
    home_alert.click()
    expect(open_alert).to_have_count(1)

    open_alert.locator("input[name=note]").fill("C-SSRS faite le jour même, médecin informé")
    with page.expect_navigation(url=re.compile(rf"/patients/{patient_id}#alerts$")):
        open_alert.locator("button[type=submit]").click()
    expect(page.locator("#alerts [role=alert]")).to_have_count(0)
    expect(page.locator("ol.timeline")).to_contain_text("C-SSRS faite le jour même, médecin informé")
    check_axe(page, "journey-10-patient-page-acknowledged")

    page.goto("/")
    expect(page.locator(f'main a[href="/patients/{patient_id}#alerts"]')).to_have_count(0)
    screenshot(page, "journey-11-home-after")
