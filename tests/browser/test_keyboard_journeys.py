"""Every journey of product.md completed with the keyboard alone (quality.md, accessibility).

The browser is driven only by key presses: Tab / Shift+Tab to move, Enter to follow a link or submit, Space
to tick, arrow keys to choose in a select or a radio group, typing for text. No click, no ``fill``, no
value set by script: DOM reads only check where focus is and what the page shows. Every control reached by
Tab must show its focus (``:focus-visible`` with an outline or a shadow, on screen), and each journey ends
by checking that its outcome was really saved: the record shown by the page loaded after saving, by a
later visit, or by the other person of the journey (the referrer, the coordinator, the prescriber).

The only non-keyboard steps are opening the login page (typing the address), opening the kiosk address on
the patient's tablet, picking the file in the operating system's file dialog (Playwright answers the
dialog that the keyboard opened), and the print dialog, which headless Chromium cannot show: window.print
is replaced by a counter, so the test proves the letter's print button calls it.

The journeys share the session's demo server with the other browser tests: they create their own
patients, users and organisations, and touch only demo records no other test depends on (P-DEMO00013's
referral, P-DEMO00004's active course, a "sent" referral of the Maison Sport-Santé, its profile additively).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote_plus, urlsplit
from zoneinfo import ZoneInfo

import pytest
from conftest import ADMIN, COORDINATOR, DEMO_PASSWORD, OBSERVER, OPERATOR, PSYCHIATRIST, REFERRER, screenshot
from playwright.sync_api import BrowserContext, ElementHandle, FilePayload, Locator, Page, expect

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")
MAX_TABS = 400  # long forms (the APA prescription, the adverse-event form) have well over 100 stops

# Reads where focus is, and whether a person can see it: the focused element matches :focus-visible,
# draws an outline (at least 2 px) or a shadow, and is on screen (the browser scrolls it into view).
_PROBE = """([target, selector]) => {
  if (target !== null && !target.isConnected) { return {hit: false, problem: null, name: '', stale: true}; }
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) {
    return {hit: false, problem: null, name: 'body', stale: false};
  }
  const style = getComputedStyle(el);
  const rect = el.getBoundingClientRect();
  const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) || style.boxShadow !== 'none';
  const onScreen = rect.width > 0 && rect.height > 0 && rect.bottom > 0 && rect.right > 0
    && rect.top < window.innerHeight && rect.left < window.innerWidth;
  const label = (el.getAttribute('aria-label') || el.textContent || el.getAttribute('name') || '').trim().slice(0, 60);
  const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (label ? ' "' + label + '"' : '');
  let problem = null;
  // Inside a date or time field Tab also stops on the picker button of the browser's shadow tree: the
  // field itself is then :focus-within but not :focus, and its own ring is what the person sees.
  const inWidget = el.matches(':focus-within') && !el.matches(':focus');
  if (!el.matches(':focus-visible') && !inWidget) { problem = 'does not match :focus-visible'; }
  else if (!ring) { problem = 'has no outline or shadow'; }
  else if (!onScreen) { problem = 'is off screen ' + JSON.stringify(rect); }
  const hit = target !== null ? el === target : selector !== null && el.matches(selector);
  return {hit, problem, name, stale: false};
}"""


class Keys:
    """Keyboard-only operation of one page; every Tab stop is checked for a visible focus indicator."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def _probe(self, target: ElementHandle | None = None, selector: str | None = None) -> dict[str, object]:
        result: dict[str, object] = self.page.evaluate(_PROBE, [target, selector])
        return result

    def focus(self, target: str | Locator) -> None:
        """Press Tab until ``target`` has focus (past the end of the page Tab wraps to the top), asserting
        that each stop shows its focus.

        A CSS selector is reached by the first matching element in tab order; a locator by its element."""
        handle = None if isinstance(target, str) else target.first.element_handle()
        selector = target if isinstance(target, str) else None
        if self._probe(handle, selector)["hit"]:
            return
        for _ in range(MAX_TABS):
            self.page.keyboard.press("Tab")
            probe = self._probe(handle, selector)
            if probe["stale"] and not isinstance(target, str):
                # An htmx swap replaced the element (a live search fires "change" as its field is left).
                handle = target.first.element_handle()
                probe = self._probe(handle, selector)
            if probe["problem"] is not None:
                screenshot(self.page, "keyboard-focus-invisible")
                raise AssertionError(f"focus is not visible on {probe['name']} ({self.page.url}): {probe['problem']}")
            if probe["hit"]:
                return
        raise AssertionError(f"{target} never received focus after {MAX_TABS} presses of Tab on {self.page.url}")

    def follow(self, target: str | Locator) -> None:
        """Focus a link or a submit button and press Enter; wait for the page it loads."""
        self.focus(target)
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")
        self.page.wait_for_load_state("load")

    def type(self, target: str | Locator, text: str) -> None:
        """Replace the content of a text field: select all, then type."""
        self.focus(target)
        self.page.keyboard.press("Control+A")
        self.page.keyboard.press("Delete")
        self.page.keyboard.type(text)
        expect(self._locator(target)).to_have_value(text)

    def date(self, target: str | Locator, day: dt.date) -> None:
        """Type a date into the browser's own date field, whose segment order follows the browser locale."""
        self.focus(target)
        orders = (f"{day:%m%d%Y}", f"{day:%d%m%Y}", f"{day:%Y%m%d}")
        for digits in orders:
            self.page.keyboard.type(digits)
            if self._locator(target).input_value() == day.isoformat():
                return
            # Back to the first segment: Shift+Tab moves between the segments of the field.
            self.page.keyboard.press("Shift+Tab")
            self.page.keyboard.press("Shift+Tab")
        raise AssertionError(f"could not type {day} into {target}")

    def time(self, target: str | Locator, hour: int, minute: int) -> None:
        """Type a morning time (hour < 12) in a 24-hour or an AM/PM time field."""
        assert hour < 12
        self.focus(target)
        self.page.keyboard.type(f"{hour:02d}{minute:02d}")
        wanted = f"{hour:02d}:{minute:02d}"
        if self._locator(target).input_value() != wanted:
            self.page.keyboard.type("A")  # the AM/PM segment of a 12-hour field
        expect(self._locator(target)).to_have_value(wanted)

    def choose(self, target: str | Locator, value: str) -> None:
        """Pick an option of a closed select with the arrow keys (each step fires change, as in a browser)."""
        self.focus(target)
        locator = self._locator(target)
        current, wanted = locator.evaluate(
            "(el, value) => [el.selectedIndex, Array.from(el.options).findIndex(o => o.value === value)]", value)
        assert wanted >= 0, f"{target} has no option {value!r}"
        key = "ArrowDown" if wanted > current else "ArrowUp"
        for _ in range(abs(wanted - current)):
            self.page.keyboard.press(key)
        expect(locator).to_have_value(value)

    def radio(self, target: str) -> None:
        """Tab into the radio group, then move with the arrow keys to ``target`` (arrows also check it)."""
        locator = self.page.locator(target)
        name = locator.get_attribute("name")
        self.focus(f"input[type=radio][name='{name}']")
        position = "(el, name) => Array.from(document.getElementsByName(name)).indexOf(el)"
        wanted = locator.evaluate(position, name)
        current = self.page.evaluate(f"(name) => ({position})(document.activeElement, name)", name)
        key = "ArrowDown" if wanted > current else "ArrowUp"
        for _ in range(abs(wanted - current)):
            self.page.keyboard.press(key)
        expect(locator).to_be_focused()
        if not locator.is_checked():
            self.page.keyboard.press("Space")
        expect(locator).to_be_checked()

    def tick(self, target: str | Locator, checked: bool = True) -> None:
        """Focus a checkbox and press Space if it is not in the wanted state."""
        self.focus(target)
        locator = self._locator(target)
        if locator.is_checked() != checked:
            self.page.keyboard.press("Space")
        if checked:
            expect(locator).to_be_checked()
        else:
            expect(locator).not_to_be_checked()

    def disclose(self, details: str | Locator) -> None:
        """Open a <details> (if closed) with Enter on its <summary>."""
        element = self._locator(details)
        self.focus(element.locator("summary").first)
        if not element.evaluate("el => el.open"):
            self.page.keyboard.press("Enter")
        expect(element).to_have_attribute("open", "")

    def _locator(self, target: str | Locator) -> Locator:
        return (self.page.locator(target) if isinstance(target, str) else target).first


def _skip_link_then_main(page: Page) -> Keys:
    """A fresh page: the first Tab reaches the visible skip link, Enter moves focus into main."""
    keys = Keys(page)
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    assert keys._probe()["problem"] is None, "the focused skip link must show its focus"
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, f"the focused skip link is off screen: {box}"
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    return keys


def _submit_login(page: Page, email: str, password: str) -> Keys:
    """Open the login page (the only typed address) and submit it with the keyboard."""
    page.goto("/login")
    keys = _skip_link_then_main(page)
    keys.type("#field-email", email)
    keys.focus("#field-password")
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    return Keys(page)


def _login(page: Page, email: str, password: str = DEMO_PASSWORD) -> Keys:
    keys = _submit_login(page, email, password)
    expect(page).to_have_url(re.compile(r"/$"))
    return keys


def _menu(keys: Keys, path: str) -> None:
    """Follow an entry of the main menu (reached from the top of the page)."""
    keys.follow(f'nav a[href="{path}"]')
    expect(keys.page).to_have_url(re.compile(re.escape(path) + r"(\?.*)?$"))


@contextmanager
def _response(page: Page, fragment: str) -> Iterator[None]:
    """Wait for the htmx request whose (decoded) URL contains ``fragment`` that the keys inside the block cause."""
    with page.expect_response(lambda r: fragment in unquote_plus(r.url)
                              and r.request.headers.get("hx-request") == "true") as info:
        yield
    assert info.value.ok, f"{info.value.url}: HTTP {info.value.status}"


def _open_patient(keys: Keys, patient_id: str) -> None:
    """Patients menu, live search by identifier, then the result link."""
    _menu(keys, "/patients")
    keys.focus("#patient-search")
    with _response(keys.page, f"q={patient_id}"):
        keys.page.keyboard.type(patient_id)
    keys.follow(f'#patient-results a[href="/patients/{patient_id}"]')
    expect(keys.page).to_have_url(re.compile(rf"/patients/{patient_id}$"))


def _create_patient(keys: Keys, family: str, given: str, *, commune: str | None = None) -> str:
    """Patients menu, New patient, the identity form by keyboard; returns the new patient's id."""
    page = keys.page
    _menu(keys, "/patients")
    keys.follow('main a[href="/patients/new"]')
    keys.type("#field-family_name", family)
    keys.type("#field-given_names", given)
    keys.date("#field-birth_date", dt.date(1979, 3, 14))
    keys.radio("#sex-F")
    if commune:
        keys.type("#field-commune_insee", commune)
    keys.follow("main form.form button[type=submit]")
    match = re.search(r"/patients/(P-[A-Z0-9]+)$", page.url)
    assert match, f"the new patient was not saved: {page.url}"
    expect(page.locator("h1")).to_have_text(f"{family} {given}")
    return match.group(1)


def _paris_today() -> dt.date:
    return dt.datetime.now(PARIS).date()


# --- 1. Referral in ---------------------------------------------------------------------------------------


def test_referral_in_by_keyboard(page: Page, new_context: Callable[..., BrowserContext]) -> None:
    keys = _login(page, REFERRER)
    _menu(keys, "/referrals")
    keys.follow('main a[href="/referrals/new"]')
    keys.choose("#field-recipient_organisation_id", "org-centre-demo")
    keys.type("#field-family_name", "Clavier-Adressage")
    keys.type("#field-given_names", "Inès")
    keys.date("#field-birth_date", dt.date(1971, 11, 2))
    keys.radio("#field-sex")
    keys.type("#field-episode_start", "2026-01")
    keys.type("#field-reason", "Épisode dépressif résistant à deux antidépresseurs.")
    keys.type("#field-clinical_summary", "Anhédonie, insomnie ; pas d'antécédent de crise convulsive.")
    keys.type("#field-current_treatment", "Escitalopram 20 mg")
    keys.type("#field-past_trials", "Sertraline 150 mg 8 semaines, non-réponse.")
    keys.type("#field-question", "Une cure de rTMS est-elle indiquée ?")
    keys.choose("#field-urgency", "soon")
    keys.follow("main form.form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/referrals/R-[A-Z0-9]+$"))
    referral_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("h1")).to_contain_text("Clavier-Adressage Inès")
    screenshot(page, "keyboard-journey-01-referral-sent")

    # The referral lands in the centre's intake queue: the psychiatrist finds it by live search.
    centre = new_context().new_page()
    centre_keys = _login(centre, PSYCHIATRIST)
    _menu(centre_keys, "/intake")
    centre_keys.focus("#intake-search")
    with _response(centre, "q=clavier"):
        centre.keyboard.type("clavier")
    centre_keys.follow(f'#intake-results a[href="/intake/{referral_id}"]')
    expect(centre.locator("h1")).to_contain_text("Clavier-Adressage Inès")
    expect(centre.locator("main")).to_contain_text("Escitalopram 20 mg")


# --- 2. Triage consultation -------------------------------------------------------------------------------

TRIAGE_PATIENT = "P-DEMO00013"  # the demo's urgent referral from Dr Meyer (REFERRER), still "received"
OVERRIDE_REASON = "Bilan cardiologique récent à obtenir avant de décider de la cure."


def test_triage_consultation_with_an_override_by_keyboard(page: Page, new_context: Callable[..., BrowserContext]) -> None:
    keys = _login(page, PSYCHIATRIST)
    _menu(keys, "/intake")
    keys.focus("#intake-search")
    with _response(page, f"q={TRIAGE_PATIENT}"):
        page.keyboard.type(TRIAGE_PATIENT)
    keys.follow("#intake-results tbody a")
    referral_id = page.url.rsplit("/", 1)[1]
    keys.follow(f'main a[href="/patients/{TRIAGE_PATIENT}/triage"]')

    keys.choose("#field-diagnosis", "unipolar")
    for name in ("psychotic_features", "catatonia", "anxiety_comorbidity", "mood_stabilizer"):
        keys.radio(f"#{name}-no")
    keys.choose("#field-suicide_risk", "none")
    keys.type("#field-failed_adequate_trials", "2")
    keys.type("#field-episode_months", "9")
    keys.choose("#field-patient_preference", "none")
    keys.type("#field-medications", "sertraline")
    # The proposal follows the answers (htmx, on change, here as the field is left) without moving focus.
    with _response(page, "/triage/preview"):
        keys.focus("#field-override_orientation")
    expect(page.locator("#triage-result .orientation")).to_contain_text("rTMS avec précautions")
    expect(page.locator("#triage-result .reasons")).not_to_be_empty()
    expect(page.locator("#field-override_orientation")).to_be_focused()

    # An override without its written reason is refused; the error summary takes focus and its link leads
    # to the field.
    keys.choose("#field-override_orientation", "needs_more_information")
    keys.follow("main form.questionnaire button[type=submit]")
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    keys.focus('#error-summary a[href="#field-override_reason"]')
    page.keyboard.press("Enter")
    expect(page.locator("#field-override_reason")).to_be_focused()
    page.keyboard.type(OVERRIDE_REASON)
    expect(page.locator("#field-override_orientation")).to_have_value("needs_more_information")
    keys.follow("main form.questionnaire button[type=submit]")
    history = page.locator("main table").last
    expect(history).to_contain_text("Informations complémentaires nécessaires")
    expect(history).to_contain_text("dérogation")
    expect(history).to_contain_text(OVERRIDE_REASON)
    screenshot(page, "keyboard-journey-02-triage-signed")

    # The referrer reads the decision and its reason from their own list.
    referrer = new_context().new_page()
    referrer_keys = _login(referrer, REFERRER)
    _menu(referrer_keys, "/referrals")
    referrer_keys.follow(f'main a[href="/referrals/{referral_id}"]')
    outcome = referrer.locator("section[aria-labelledby=outcome-title]")
    expect(outcome.locator(".orientation")).to_contain_text("Informations complémentaires nécessaires")
    expect(outcome).to_contain_text(OVERRIDE_REASON)


# --- 3. Course plan ---------------------------------------------------------------------------------------


def _next_monday(after: dt.date, weeks: int) -> dt.date:
    return after + dt.timedelta(days=7 * weeks - after.weekday())


def test_course_plan_skip_undo_extend_and_calendar_by_keyboard(page: Page) -> None:
    keys = _login(page, PSYCHIATRIST)
    patient_id = _create_patient(keys, "Clavier-Cure", "Paul")
    keys.follow(f'main a[href="/patients/{patient_id}/courses"]')
    keys.choose("#field-protocol", "hf_left_10hz")
    keys.date("#field-start", _next_monday(_paris_today(), 3))
    keys.type("#field-induction_sessions", "20")
    keys.follow("main form.form button[type=submit]")
    rows = page.locator("table.sessions-table tbody tr")
    expect(rows).to_have_count(20)
    expect(page.locator("table.course-month").first).to_contain_text("S1")

    # Skip session 2 (patient ill) and postpone it: a replacement session is added at the end.
    second = rows.nth(1)
    keys.choose(second.locator("select[name=reason]"), "patient_ill")
    keys.choose(second.locator("select[name=action]"), "postpone")
    reason_label = second.locator("select[name=reason]").evaluate("el => el.options[el.selectedIndex].text")
    keys.follow(second.locator("form[action$='/edit/skip'] button"))
    expect(page.locator("#edit-done")).to_be_visible()
    expect(rows.nth(1)).to_contain_text(reason_label)
    expect(rows).to_have_count(21)

    # Undo the skip: session 2 is planned again and the replacement disappears.
    keys.follow(rows.nth(1).locator("form[action$='/edit/undo'] button"))
    expect(page.locator("#edit-done")).to_be_visible()
    expect(rows).to_have_count(20)
    expect(rows.nth(1).locator("form[action$='/edit/skip']")).to_have_count(1)

    # Extend by five sessions, from the "change the plan" disclosure (closed on a fresh page) opened with Enter.
    keys.follow(f'main a[href="/patients/{patient_id}"]')
    keys.follow(f'main a[href="/patients/{patient_id}/courses"]')
    expect(page.locator("details.course-edits")).not_to_have_attribute("open", "")
    keys.disclose("details.course-edits")
    keys.type("input[id$='-extend-count']", "5")
    keys.type("input[id$='-extend-reason']", "Réponse partielle à S20")
    keys.follow("form[action$='/edit/extend'] button")
    expect(page.locator("#edit-done")).to_be_visible()
    expect(rows).to_have_count(25)

    # The plan is stored: a fresh load shows it, and the calendar for the patient has every session.
    keys.follow(f'main a[href="/patients/{patient_id}"]')
    keys.follow(f'main a[href="/patients/{patient_id}/courses"]')
    expect(rows).to_have_count(25)
    screenshot(page, "keyboard-journey-03-course-plan")
    keys.focus('main a[href$="/calendar.ics"]')
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    path = download.value.path()
    calendar = Path(path).read_text(encoding="utf-8")
    assert calendar.startswith("BEGIN:VCALENDAR"), calendar[:80]
    assert calendar.count("BEGIN:VEVENT") == 25


# --- 4. Session day ---------------------------------------------------------------------------------------


def _plan_course_from_today(page: Page, family: str, given: str) -> str:
    """The psychiatrist creates the patient and plans a course whose first session is today (or the next
    working day); returns the patient id."""
    keys = _login(page, PSYCHIATRIST)
    patient_id = _create_patient(keys, family, given)
    keys.follow(f'main a[href="/patients/{patient_id}/courses"]')
    keys.choose("#field-protocol", "hf_left_10hz")
    keys.date("#field-start", _paris_today())
    keys.type("#field-induction_sessions", "30")
    keys.follow("main form.form button[type=submit]")
    expect(page.locator("table.sessions-table tbody tr")).to_have_count(30)
    return patient_id


def test_session_day_by_keyboard(page: Page, new_context: Callable[..., BrowserContext]) -> None:
    _plan_course_from_today(page, "Clavier-Séance", "Marc")

    operator = new_context().new_page()
    keys = _login(operator, OPERATOR)
    _menu(keys, "/today")
    card = operator.locator("li.today-card", has_text="Clavier-Séance Marc")
    for _ in range(7):  # a weekend or a holiday today: the first session is on a following working day
        if card.count():
            break
        keys.follow("nav.day-nav a:last-child")
    expect(card).to_have_count(1)
    expect(card.locator(".tag--warn")).to_be_visible()  # motor threshold due before the first session

    # The motor threshold, measured above what the device can deliver for this prescription.
    keys.follow(card.locator("a[href*='/mt/new?next=']"))
    keys.time("#field-measured_time", 0, 0)
    keys.type("#field-value_pct_mso", "90")
    keys.type("#field-device_id", "MagPro-1")
    keys.type("#field-coil_id", "Cool-B65")
    keys.follow("main form.session-form button[type=submit]")
    expect(operator.locator("main .alert--danger")).to_contain_text("DEVICE_MAX_EXCEEDED")
    keys.follow("main a.button-large")

    # The session: the device-maximum alert, the check-in that holds the session, then its release.
    expect(operator.locator("#device-max-alert")).to_be_visible()
    keys.tick("#field-checkin_alcohol")
    keys.tick("#field-checkin_metal_removed")
    keys.time("#field-start_time", 0, 5)
    keys.follow("main form.session-form button[type=submit]")
    summary = operator.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator('a[href="#field-released_by"]')).to_have_count(1)
    screenshot(operator, "keyboard-journey-04-session-hold")
    keys.type("#field-released_by", "Dr Claire Muller")
    keys.tick("#field-device_max_acknowledged")
    keys.type("#field-mso_override_reason", "Maximum de l'appareil : 100 % MSO délivrés sur décision du médecin.")
    keys.follow("main form.session-form button[type=submit]")
    delivered = operator.locator("section[aria-labelledby=record-title]")
    expect(delivered).to_be_visible()
    expect(delivered.locator("table")).to_contain_text("100")
    screenshot(operator, "keyboard-journey-04-session-delivered")

    # A syncope during the session: the adverse-event checklist and the seizure/syncope form.
    keys.follow(delivered.locator("a[href$='/adverse-events/new']"))
    keys.choose("#field-type", "syncope")
    keys.choose("#field-onset", "during_session")
    keys.choose("#field-severity", "moderate")
    keys.choose("#field-action", "session_stopped")
    keys.choose("#field-relatedness", "possible")
    session_record = operator.locator("#field-session_record_id option").nth(1).get_attribute("value")
    assert session_record
    keys.choose("#field-session_record_id", session_record)
    keys.radio("#field-loss_of_consciousness-yes")
    keys.type("#field-outcome", "Récupération complète en moins d'une minute")
    keys.choose("#field-form_semiology", "focal")
    keys.type("#field-form_duration_seconds", "15")
    keys.radio("#field-form_pallor-yes")
    keys.follow("main form.session-form button[type=submit]")
    expect(operator).to_have_url(re.compile(r"/adverse-events/AE-[A-Z0-9]+$"))
    expect(operator.locator("#event-title")).to_contain_text(re.compile("syncope", re.IGNORECASE))
    expect(operator.locator(".event-summary .notice--warn")).to_be_visible()  # the form still to complete
    keys.follow('main a[href$="/courses"]')
    events = operator.locator("table", has=operator.locator("a[href*='/adverse-events/AE-']"))
    expect(events).to_contain_text(re.compile("syncope", re.IGNORECASE))
    expect(events).to_contain_text("S1")


# --- 5. Measurement-based care ----------------------------------------------------------------------------

CHECKPOINT_PATIENT = "P-DEMO00005"  # demo non-responder: the 10-session checkpoint prompt is on its course


def _answer_phq9(keys: Keys, answers: list[int]) -> None:
    """Each PHQ-9 item is a radio group: Tab into it, arrows to the answer."""
    for number, value in enumerate(answers, start=1):
        keys.radio(f"#item-{number}-{value}")


def test_measurement_based_care_by_keyboard(page: Page, new_context: Callable[..., BrowserContext]) -> None:
    keys = _login(page, PSYCHIATRIST)
    patient_id = _create_patient(keys, "Clavier-Échelle", "Léa")

    # A PHQ-9 by the clinician: 17 / 27 with a suicidal-ideation answer raises the safety alert.
    keys.follow(f'main a[href="/patients/{patient_id}/assessments/new"]')
    keys.choose("#scale-choice", "phq9")
    keys.follow("main form.inline-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"scale=phq9"))
    _answer_phq9(keys, [2, 2, 2, 2, 2, 2, 2, 2, 1])
    keys.follow("main form.questionnaire button[type=submit]")
    expect(page.locator(".result .score")).to_have_text(re.compile(r"^\s*17\s*/\s*27\s*$"))
    expect(page.locator(".result")).to_contain_text("Modérément sévère")
    expect(page.locator("main [role=alert]")).to_contain_text("3114")

    # The alert is acknowledged from the patient page, with the action taken.
    keys.follow(f'main a[href="/patients/{patient_id}"]')
    alert = page.locator("#alerts [role=alert]")
    expect(alert).to_have_count(1)
    keys.type(alert.locator("input[name=note]"), "C-SSRS faite, médecin prévenu")
    keys.follow(alert.locator("button[type=submit]"))
    expect(page.locator("#alerts [role=alert]")).to_have_count(0)
    expect(page.locator("ol.timeline")).to_contain_text("C-SSRS faite, médecin prévenu")

    # The kiosk: the clinician opens a pass for the PHQ-9, the patient answers on the tablet.
    keys.follow(f'main a[href="/patients/{patient_id}/kiosk"]')
    keys.tick("#scale-phq9")
    keys.follow("main form.form button[type=submit]")
    kiosk_path = page.locator(".kiosk-link a").get_attribute("href")
    assert kiosk_path and kiosk_path.startswith("/kiosk/")
    tablet = new_context().new_page()
    tablet.goto(kiosk_path)  # the address is opened on the tablet
    tablet_keys = _skip_link_then_main(tablet)
    _answer_phq9(tablet_keys, [1, 1, 1, 1, 0, 0, 0, 0, 0])
    tablet_keys.follow("main form.questionnaire button[type=submit]")
    expect(tablet.locator("main form")).to_have_count(0)
    expect(tablet.locator("h1")).to_contain_text("Merci")
    screenshot(tablet, "keyboard-journey-05-kiosk-done")

    # Back on the patient page: the kiosk answers are the latest PHQ-9, with the change from baseline.
    keys.follow(f'main a[href="/patients/{patient_id}"]')
    latest = page.locator("section[aria-labelledby=scales-title] tbody tr", has_text="PHQ-9")
    expect(latest.locator("td").nth(1)).to_have_text("4")
    expect(latest).to_contain_text("-13")
    expect(latest).to_contain_text("rémission")  # 17 -> 4: the response / remission classification

    # The 10-session checkpoint prompt of a demo course that did not respond.
    _open_patient(keys, CHECKPOINT_PATIENT)
    keys.follow(f'main a[href="/patients/{CHECKPOINT_PATIENT}/courses"]')
    expect(page.locator(".checkpoint--review_protocol").first).to_contain_text("envisager une modification du protocole")


# --- 6. End of course and after ---------------------------------------------------------------------------

CLOSING_PATIENT = "P-DEMO00004"  # demo responder: an active course, 14 sessions delivered
# window.print() opens the system dialog, which headless Chromium cannot show: count the calls instead.
PRINT_PROBE = "window.print = () => { window.__printed = (window.__printed || 0) + 1; };"


def test_end_of_course_follow_up_letter_and_course_two_by_keyboard(
        page: Page, new_context: Callable[..., BrowserContext]) -> None:
    page.context.add_init_script(PRINT_PROBE)
    keys = _login(page, PSYCHIATRIST)
    _open_patient(keys, CLOSING_PATIENT)
    keys.follow(f'main a[href="/patients/{CLOSING_PATIENT}/pathway"]')

    close = page.locator("form.close-form").first
    keys.radio(f"#{close.locator('input[name=course_status]').first.get_attribute('id')}")
    keys.choose(close.locator("select[name=maintenance_plan]"), "classic")
    keys.choose(close.locator("select[name=maintenance_template]"), "M-OREARDON")
    keys.type(close.locator("textarea[name=clinician_comment]"), "Réponse nette ; entretien mensuel proposé.")
    keys.follow(close.locator("button[type=submit]"))
    expect(page).to_have_url(re.compile(rf"/patients/{CLOSING_PATIENT}/pathway#course-"))
    outcome = page.locator("article.course").first
    expect(outcome.locator(".orientation")).to_be_visible()
    expect(outcome).to_contain_text("M-OREARDON")
    expect(outcome).to_contain_text("Réponse nette ; entretien mensuel proposé.")
    follow_ups = outcome.locator("tr[id^=follow-up-]")
    expect(follow_ups).to_have_count(4)  # 1, 3, 6 and 12 months after the end

    # The 1-month follow-up, done, with the scale administered and a note.
    first = follow_ups.first
    keys.choose(first.locator("select[name=status]"), "done")
    assessment = first.locator("select[name=assessment_id] option").nth(1).get_attribute("value")
    assert assessment
    keys.choose(first.locator("select[name=assessment_id]"), assessment)
    keys.type(first.locator("input[name=note]"), "Stable à un mois")
    keys.follow(first.locator("button[type=submit]"))
    first = page.locator("article.course").first.locator("tr[id^=follow-up-]").first
    expect(first).to_contain_text("Stable à un mois")
    expect(first.locator("form")).to_have_count(0)

    # The letter to the referrer, printed from its button.
    keys.follow(page.locator("article.course").first.locator("a[href$='/letter']"))
    expect(page.locator("h1")).to_contain_text("Courrier de fin de cure")
    expect(page.locator("article.letter")).to_contain_text("Réponse nette ; entretien mensuel proposé.")
    keys.focus("button[data-print]")
    page.keyboard.press("Enter")
    assert page.evaluate("() => window.__printed") == 1
    screenshot(page, "keyboard-journey-06-letter")

    # Course 2 (a switch of protocol) is planned from the course page.
    keys.follow(f'main a[href="/patients/{CLOSING_PATIENT}/pathway"]')
    keys.follow(f'main a[href="/patients/{CLOSING_PATIENT}/courses"]')
    keys.choose("#field-protocol", "itbs_left")
    keys.date("#field-start", _next_monday(_paris_today(), 2))
    keys.type("#field-induction_sessions", "20")
    keys.follow("main form.form button[type=submit]")
    expect(page.locator("article.course h3", has_text="itbs_left")).to_contain_text("2")

    # The referrer reads an end-of-course letter from their list.
    referrer = new_context().new_page()
    referrer_keys = _login(referrer, REFERRER)
    _menu(referrer_keys, "/referrals")
    referrer_keys.follow("main a[href$='/letter']")
    expect(referrer.locator("h1")).to_contain_text("Courrier de fin de cure")


# --- 7 and 8. The sport bridge and the coordinator inbox --------------------------------------------------

ELIGIBILITY_YES = ("prescriber_is_physician", "prescriber_involved_in_care", "below_who_recommendations",
                   "cannot_progress_alone", "chronic_disease", "patient_agrees")
MSS = "Maison Sport-Santé"  # the Strasbourg structure of the demo COORDINATOR account


def test_sport_bridge_and_coordinator_loop_by_keyboard(page: Page, new_context: Callable[..., BrowserContext]) -> None:
    keys = _login(page, PSYCHIATRIST)
    patient_id = _create_patient(keys, "Clavier-Sport", "Nina", commune="67482")

    # 7. Eligibility, limitation level, prescription: the live check follows the answers.
    keys.follow(f'main a[href="/patients/{patient_id}/sport"]')
    keys.follow(f'main a[href="/patients/{patient_id}/sport/prescribe"]')
    for name in ELIGIBILITY_YES:
        keys.radio(f"#{name}-yes")
    keys.radio("#ald-no")
    keys.tick("#risk_factors-sedentary")
    keys.tick("#severe_criteria-loco_walking")
    expect(page.locator("#live-level")).to_contain_text(re.compile("sévère", re.IGNORECASE))
    keys.tick("#severe_criteria-loco_walking", checked=False)
    keys.choose("#field-limitation_level", "minimal")
    expect(page.locator("#live-level")).to_contain_text(re.compile("minim", re.IGNORECASE))
    expect(page.locator("#live-eligibility")).to_contain_text("Éligible")
    keys.tick("#activity_types-endurance")
    keys.type("#field-goals", "Marcher 30 minutes sans pause")
    keys.follow("main form.form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Prescription d'APA")
    prescription_url = page.url

    # The structures that fit, looked up by name (a city lists only its nearest), then a referral
    # prepared to the Maison Sport-Santé of Strasbourg.
    keys.type("#field-structure-name", MSS)
    keys.follow("form.search-form button[type=submit]")
    result = page.locator("#search-results > li", has=page.locator("h3", has_text=MSS))
    expect(result.first.locator("h3")).to_contain_text("Strasbourg")
    keys.disclose(result.first.locator("details"))
    expect(result.first.locator("details .reasons")).to_be_visible()
    keys.follow(result.first.locator("button[type=submit]"))
    expect(page.locator("#referral-status")).to_contain_text("Brouillon")

    # The patient's consent to share, then the referral sent.
    keys.tick("#scopes-share_referral")
    keys.tick("#scopes-share_reports_with_prescriber")
    keys.choose("#field-granted_by", "patient")
    keys.choose("#field-collection_mode", "oral_recorded")
    keys.follow("form[action$='/consent'] button[type=submit]")
    expect(page.locator("section[aria-labelledby=consent-title] table")).to_be_visible()
    keys.follow("form[action$='/send'] button[type=submit]")
    expect(page.locator("#referral-status")).to_contain_text("Orientation envoyée")
    referral_id = page.url.rsplit("/", 1)[1]

    # 8. The coordinator finds it in the inbox, accepts, books, records attendance and an assessment.
    coordinator = new_context().new_page()
    coordinator_keys = _login(coordinator, COORDINATOR)
    _menu(coordinator_keys, "/sport/inbox")
    coordinator_keys.focus("#field-q")
    with _response(coordinator, f"q={referral_id}"):
        coordinator.keyboard.type(referral_id)
    expect(coordinator.locator("#inbox-results tbody tr")).to_have_count(1)
    coordinator_keys.follow(f"#inbox-results a[href='/sport/inbox/{referral_id}']")
    status = coordinator.locator("#referral-status")
    expect(status).to_contain_text("Reçue par la structure")
    coordinator_keys.follow("form[action$='/accept'] button[type=submit]")
    expect(status).to_contain_text("Acceptée")
    today = _paris_today()
    coordinator_keys.date("#field-planned_on", today + dt.timedelta(days=7))
    coordinator_keys.follow("form[action$='/book'] button[type=submit]")
    booked = (today + dt.timedelta(days=7)).day
    expect(coordinator.locator("main dl.identity").first).to_contain_text(re.compile(rf"Première séance prévue le\s*{booked}\b"))
    coordinator_keys.date("#field-session_on", today)
    coordinator_keys.radio("#attended-yes")
    coordinator_keys.follow("form[action$='/attendance'] button[type=submit]")
    expect(status).to_contain_text("Programme en cours")
    coordinator_keys.choose("#field-report_type", "initial_assessment")
    coordinator_keys.date("#field-performed_on", today)
    coordinator_keys.choose("#field-performer_profession", "apa_teacher")
    coordinator_keys.type("#field-six_minute_walk_m", "417")
    coordinator_keys.type("#field-chair_stand_30s", "12")
    coordinator_keys.type("#field-ricci_gagnon_score", "21")
    coordinator_keys.follow("#report-form button[type=submit]")
    expect(coordinator.locator("section[aria-labelledby=coord-reports-title]")).to_contain_text("417")
    screenshot(coordinator, "keyboard-journey-08-inbox-report")

    # The loop closes: the prescriber sees the status and the report, from the patient's pages.
    prescription_path = urlsplit(prescription_url).path
    keys.follow(f'main a[href="{prescription_path}"]')
    keys.follow(f'main a[href="/sport/referrals/{referral_id}"]')
    expect(page.locator("#referral-status")).to_contain_text("Programme en cours")
    expect(page.locator("section[aria-labelledby=reports-title]")).to_contain_text("417")


def test_coordinator_declines_with_a_reason_by_keyboard(page: Page) -> None:
    keys = _login(page, COORDINATOR)
    _menu(keys, "/sport/inbox")
    with _response(page, "status=sent"):
        keys.choose("#field-status", "sent")
    rows = page.locator("#inbox-results tbody tr")
    expect(rows.first).to_be_visible()
    keys.follow("#inbox-results tbody a")
    status = page.locator("#referral-status")
    expect(status).to_contain_text("Reçue par la structure")

    # Declining needs a reason: refused without one, the error summary takes focus.
    keys.follow("form[action$='/decline'] button[type=submit]")
    expect(page.locator("#error-summary")).to_be_focused()
    expect(status).to_contain_text("Reçue par la structure")
    keys.choose("#field-reason_code", "no_capacity")
    keys.type("#field-reason_text", "Groupes complets jusqu'en septembre")
    keys.follow("form[action$='/decline'] button[type=submit]")
    expect(status).to_contain_text("Refusée par la structure")
    expect(page.locator("section[aria-labelledby=coord-events-title]")).to_contain_text("Pas de place disponible")


# --- 9. Directory -----------------------------------------------------------------------------------------

DIRECTORY_HEADER = ("structure_id,kind,name,postcode,commune_insee,latitude,longitude,accepting_referrals,"
                    "referral_email,source,source_licence,updated_at\n")


def _directory_file() -> bytes:
    """Three clubs of Lyon in Parcours' own format, and one invalid row (line 5)."""
    rows = [f"keyboard-club-{n},club,Club clavier {n} (démonstration),69001,69123,45.76,4.83,true,"
            f"clavier{n}@demo.parcours.fr,manual,own,2026-01-10\n" for n in range(3)]
    rows.append("keyboard-bad,clubb,Ligne invalide,6900,69123,,,peut-être,,manual,own,2026-01-10\n")
    return (DIRECTORY_HEADER + "".join(rows)).encode()


def test_directory_profile_and_import_by_keyboard(page: Page, new_context: Callable[..., BrowserContext]) -> None:
    # The coordinator keeps the structure's profile.
    keys = _login(page, COORDINATOR)
    _menu(keys, "/structure-profile")
    keys.follow(page.locator("main a[href^='/structure-profile/']", has_text=MSS))
    keys.type("#field-capacity_open_slots", "9")
    keys.type("#field-waiting_weeks", "2")
    keys.type("#field-phone", "0388123456")
    keys.type("#field-disciplines", "Marche nordique\nGym douce\nAquagym")
    feature = page.locator("table.accessibility tbody tr").first.locator("input[value=true]").get_attribute("id")
    keys.radio(f"#{feature}")
    keys.tick("#field-confirm")
    keys.follow("main form.form button[type=submit]")
    expect(page.locator("main [role=status]")).to_have_text("La fiche est enregistrée.")
    expect(page.locator("#field-capacity_open_slots")).to_have_value("9")
    expect(page.locator("#field-disciplines")).to_have_value("Marche nordique\nGym douce\nAquagym")
    expect(page.locator(f"#{feature}")).to_be_checked()

    # The administrator finds the structure in the directory (live search) and sees the new profile.
    admin = new_context().new_page()
    # The operating system's file dialog answers with the file. The listener is registered before any key
    # press: Playwright intercepts the dialog only once it listens (expect_file_chooser races the key).
    admin.on("filechooser", lambda chooser: chooser.set_files(
        FilePayload(name="clubs-clavier.csv", mimeType="text/csv", buffer=_directory_file())))
    admin_keys = _login(admin, ADMIN)
    _menu(admin_keys, "/admin/sport/structures")
    admin_keys.focus("#structure-search")
    with _response(admin, "q=Maison"):
        admin.keyboard.type("Maison Sport-Santé de Strasbourg")
    expect(admin.locator("#structure-results")).to_contain_text("Maison Sport-Santé de Strasbourg")
    admin_keys.follow(admin.locator("#structure-results tbody a", has_text="Maison Sport-Santé de Strasbourg"))
    facts = admin.locator("main dl.identity").last
    expect(facts).to_contain_text("Aquagym")
    expect(facts).to_contain_text("0388123456")

    # A directory import: the file input opens the system file dialog from the keyboard.
    admin_keys.follow('main a[href="/admin/sport/structures"]')
    admin_keys.follow('main a[href="/admin/sport/imports"]')
    admin_keys.focus("#field-file")
    admin.keyboard.press("Space")
    expect(admin.locator("#field-file")).to_have_value(re.compile(r"clubs-clavier\.csv$"))
    admin_keys.radio("#format-parcours")
    admin_keys.follow("main form.form button[type=submit]")
    expect(admin).to_have_url(re.compile(r"/admin/sport/imports/IMP-"))
    expect(admin.locator("#job-status h2")).to_have_text("Import terminé", timeout=60_000)
    expect(admin.locator("table.import-summary")).to_contain_text("3")
    expect(admin.locator("table.import-skipped th[scope=row]")).to_have_text("5")
    screenshot(admin, "keyboard-journey-09-import-report")
    admin_keys.follow('#job-status a[href="/admin/sport/structures"]')
    admin_keys.focus("#structure-search")
    with _response(admin, "q=Club clavier"):
        admin.keyboard.type("Club clavier")
    expect(admin.locator("#structure-results tbody tr")).to_have_count(3)


# --- 10. Observation --------------------------------------------------------------------------------------

GRAND_EST_DEPARTMENTS = {"08", "10", "51", "52", "54", "55", "57", "67", "68", "88"}


def test_observer_indicators_and_open_data_by_keyboard(page: Page) -> None:
    keys = _login(page, OBSERVER)
    _menu(keys, "/observer/indicators")
    expect(page.locator("main svg").first).to_be_visible()
    keys.choose("#field-area", "R:44")
    keys.choose("#field-basis", "structure_location")
    keys.follow("main form.filters button[type=submit]")
    expect(page.locator("main h2").first).to_contain_text("Grand Est")
    expect(page.locator("#table-months")).to_be_visible()
    screenshot(page, "keyboard-journey-10-indicators")

    keys.focus('main a[href^="/observer/indicators.csv"]')
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert rows, "the CSV export is empty"
    assert {row["geo_basis"] for row in rows} == {"structure_location"}
    for row in rows:
        assert row["geo_level"] != "department" or row["geo_code"] in GRAND_EST_DEPARTMENTS, row
        if row["unit"] == "count" and row["suppressed"] == "false":
            assert not 1 <= float(row["value"]) <= 10, f"a count from 1 to 10 was published: {row}"

    keys.focus('main a[href^="/observer/indicators.json"]')
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert Path(download.value.path()).read_text(encoding="utf-8").lstrip().startswith("{")


# --- 11. Administration -----------------------------------------------------------------------------------

NEW_USER_EMAIL = "claire.clavier@demo.parcours.fr"
NEW_USER_PASSWORD = "clavier-mot-de-passe-2026"


def test_administration_users_closures_and_audit_by_keyboard(
        page: Page, new_context: Callable[..., BrowserContext]) -> None:
    keys = _login(page, ADMIN)

    # A new operator account, which can log in; then deactivated, it no longer can.
    _menu(keys, "/admin/users")
    keys.follow('main a[href="/admin/users/new"]')
    keys.type("#field-display_name", "Claire Clavier")
    keys.type("#field-email", NEW_USER_EMAIL)
    keys.choose("#field-role", "operator")
    keys.choose("#field-organisation_id", "org-centre-demo")
    keys.type("#field-password", NEW_USER_PASSWORD)
    keys.follow("main form.form button[type=submit]")
    row = page.locator("main tbody tr", has_text=NEW_USER_EMAIL)
    expect(row).to_contain_text("actif")
    nurse = new_context().new_page()
    _login(nurse, NEW_USER_EMAIL, NEW_USER_PASSWORD)
    expect(nurse.locator("h1")).to_contain_text("Claire Clavier")

    keys.follow(row.locator("a"))
    keys.tick("#field-active", checked=False)
    keys.follow("main form.form button[type=submit]")
    expect(page.locator("main tbody tr", has_text=NEW_USER_EMAIL)).to_contain_text("désactivé")
    refused = new_context().new_page()
    _submit_login(refused, NEW_USER_EMAIL, NEW_USER_PASSWORD)
    expect(refused).to_have_url(re.compile(r"/login"))

    # A new organisation and one of its closures, then the closure removed.
    _menu(keys, "/admin/organisations")
    keys.type("#field-name", "Centre Clavier")
    zone = page.locator("#field-holiday_zone option").nth(1).get_attribute("value")
    assert zone
    keys.choose("#field-holiday_zone", zone)
    keys.follow("form[action='/admin/organisations'] button[type=submit]")
    organisation = page.locator("section[aria-labelledby=organisations-title] tbody tr", has_text="Centre Clavier")
    expect(organisation).to_have_count(1)
    keys.follow(organisation.locator("a[href$='/closures']"))
    start = _next_monday(_paris_today(), 6)
    keys.date("#field-start_date", start)
    keys.date("#field-end_date", start + dt.timedelta(days=4))
    keys.type("#field-label", "Travaux de la salle")
    keys.follow("main form.form button[type=submit]")
    closure = page.locator("main tbody tr", has_text="Travaux de la salle")
    expect(closure).to_have_count(1)
    keys.follow(closure.locator("button[type=submit]"))
    expect(page.locator("main tbody tr", has_text="Travaux de la salle")).to_have_count(0)

    # The audit trail: who opened a given patient's record.
    _menu(keys, "/admin/audit")
    keys.type("#field-patient", "P-DEMO00001")
    keys.follow("main form.filters button[type=submit]")
    audit_rows = page.locator("table.audit tbody tr")
    expect(audit_rows.first).to_be_visible()
    patients = set(audit_rows.locator("td:nth-child(6)").all_inner_texts())
    assert patients == {"P-DEMO00001"}, patients
    screenshot(page, "keyboard-journey-11-audit")
