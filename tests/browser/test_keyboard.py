"""Keyboard only: the skip link comes first and moves focus to main; login, the list and a patient by Tab/Enter."""

from __future__ import annotations

import re

import pytest
from conftest import DEMO_PASSWORD, PSYCHIATRIST, screenshot
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

MAX_TABS = 60


def _focused(page: Page, script: str) -> bool:
    """Evaluate ``script`` with ``el`` bound to document.activeElement."""
    return bool(page.evaluate(f"() => {{ const el = document.activeElement; return Boolean({script}); }}"))


def _tab_until(page: Page, script: str, description: str) -> None:
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if _focused(page, script):
            return
    raise AssertionError(f"{description} never received focus after {MAX_TABS} Tab presses")


def _assert_skip_link_first(page: Page) -> None:
    """The first Tab on a fresh page lands on the skip link, which is then visible; Enter focuses main."""
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    assert _focused(page, "el.matches(':focus-visible')"), "the focused skip link must show a focus indicator"
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, f"the focused skip link is off screen: {box}"
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


def test_keyboard_only_login_list_and_patient(page: Page) -> None:
    page.goto("/login")
    _assert_skip_link_first(page)

    # From main, the next Tab is the first form field.
    page.keyboard.press("Tab")
    expect(page.locator("#field-email")).to_be_focused()
    page.keyboard.type(PSYCHIATRIST)
    page.keyboard.press("Tab")
    expect(page.locator("#field-password")).to_be_focused()
    page.keyboard.type(DEMO_PASSWORD)
    with page.expect_navigation(url=re.compile(r"/$")):
        page.keyboard.press("Enter")

    _assert_skip_link_first(page)
    _tab_until(page, "el.matches('nav a[href=\"/patients\"]')", "the Patients menu entry")
    with page.expect_navigation(url=re.compile(r"/patients$")):
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_be_visible()

    _assert_skip_link_first(page)
    # From main, Tab reaches the search field before the results.
    _tab_until(page, "el.id === 'patient-search'", "the patient search field")
    _tab_until(page, "el.matches('#patient-results tbody a')", "the first patient in the list")
    target = page.evaluate("() => document.activeElement.getAttribute('href')")
    name = page.evaluate("() => document.activeElement.textContent.trim()")
    assert re.fullmatch(r"/patients/P-[A-Z0-9]+", target), target
    screenshot(page, "keyboard-patients-focus")
    with page.expect_navigation(url=re.compile(re.escape(target) + "$")):
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text(name)

    _assert_skip_link_first(page)
    _tab_until(page, f"el.matches('main a[href=\"{target}/assessments/new\"]')", "the Record a rating scale link")
    screenshot(page, "keyboard-patient-page-focus")
