"""rTMS course planner in the browser: the psychiatrist plans a course and sees its month calendar; axe-clean."""

from __future__ import annotations

import pytest
from conftest import PSYCHIATRIST, check_axe, login
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_a_course_is_planned_and_shown_as_month_tables(page: Page) -> None:
    login(page, PSYCHIATRIST)
    page.goto("/patients/P-DEMO00003/courses")
    check_axe(page, "courses-empty")
    page.select_option("#field-protocol", "hf_left_10hz")
    page.fill("#field-start", "2026-04-27")
    page.fill("#field-induction_sessions", "30")
    with page.expect_navigation():
        page.get_by_role("button", name="Planifier la cure").click()
    assert page.url.endswith("/patients/P-DEMO00003/courses")
    june = page.locator("table.course-month", has=page.locator("caption", has_text="Juin 2026"))
    expect(june).to_be_visible()
    expect(june).to_contain_text("S30")
    expect(page.get_by_role("columnheader", name="Lundi").first).to_be_visible()
    check_axe(page, "courses-planned")
