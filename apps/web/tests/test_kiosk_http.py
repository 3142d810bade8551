"""Kiosk mode: a tablet without any session answers one patient's questionnaires through a one-time link."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from markupsafe import escape
from sqlalchemy import select

from parcours_web import kiosk
from parcours_web.i18n import load_translators
from shared_core.actors import Actor
from shared_core.db import Database
from shared_core.scales import load_catalogue
from shared_core.tables import Assessment, SafetyAlert

pytestmark = pytest.mark.db

Client = TestClient[Litestar]
ClientFor = Callable[..., tuple[Client, str]]
FR = load_translators()["fr"]
CATALOGUE = load_catalogue()
KIOSK_LINK = re.compile(r'href="/kiosk/([A-Za-z0-9_-]+)"')
CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


def fr(message: str) -> str:
    return str(escape(FR.gettext(message)))


def wording(code: str, number: int) -> str:
    text = CATALOGUE.get(code).items[number - 1].text_fr
    assert text
    return str(escape(text))


@pytest.fixture
def operator(client_for: ClientFor) -> tuple[Client, str]:
    return client_for("operator")


def new_patient(client: Client, token: str, family_name: str, given_names: str) -> str:
    response = client.post("/patients", data={"family_name": family_name, "given_names": given_names,
                                              "birth_date": "1970-06-30", "sex": "M", "_csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303
    return str(response.headers["location"].rsplit("/", 1)[1])


@pytest.fixture
def patient_id(operator: tuple[Client, str]) -> str:
    client, token = operator
    new_patient(client, token, "Voisin", "Bernard")  # another patient of the same centre
    return new_patient(client, token, "Kioskfamily", "Olivier")


def open_pass(operator: tuple[Client, str], patient_id: str, scales: list[str]) -> str:
    client, token = operator
    response = client.post(f"/patients/{patient_id}/kiosk", data={"scales": scales, "_csrf_token": token})
    assert response.status_code == 200, response.text
    links = KIOSK_LINK.findall(response.text)
    assert len(links) == 1
    return str(links[0])


@pytest.fixture
def kiosk_token(operator: tuple[Client, str], patient_id: str) -> str:
    return open_pass(operator, patient_id, ["phq9", "who5"])


@pytest.fixture
def tablet(app: Litestar) -> Iterator[Client]:
    """A browser with no session at all."""
    with TestClient(app) as client:
        yield client


def answer(tablet: Client, token: str, scale: str, items: list[int]) -> httpx.Response:
    # A finished pass shows no form: the anonymous token (tied to the tablet's cookie) comes from /login then.
    csrf = CSRF_INPUT.search(tablet.get(f"/kiosk/{token}").text) or CSRF_INPUT.search(tablet.get("/login").text)
    assert csrf
    form = {"scale": scale, "_csrf_token": csrf.group(1)}
    form.update({f"item_{n}": str(value) for n, value in enumerate(items, start=1)})
    return tablet.post(f"/kiosk/{token}", data=form, follow_redirects=False)


def kiosk_assessments(database: Database, patient_id: str) -> list[tuple[str, str, int | None]]:
    with database.read() as session:
        rows = session.execute(select(Assessment.scale_code, Assessment.source, Assessment.total)
                               .where(Assessment.patient_id == patient_id).order_by(Assessment.created_at)).all()
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_the_operator_gets_a_kiosk_link(kiosk_token: str) -> None:
    assert len(kiosk_token) >= 24


def test_the_tablet_opens_the_link_without_a_session(tablet: Client, kiosk_token: str) -> None:
    assert "parcours_session" not in tablet.cookies
    response = tablet.get(f"/kiosk/{kiosk_token}")
    assert response.status_code == 200
    assert wording("phq9", 1) in response.text
    assert wording("phq9", 9) in response.text
    assert CSRF_INPUT.search(response.text), "the form carries an anonymous CSRF token"


def test_the_tablet_shows_no_identity(tablet: Client, kiosk_token: str, patient_id: str) -> None:
    page = tablet.get(f"/kiosk/{kiosk_token}").text
    for secret in ("Kioskfamily", "Olivier", "Voisin", "Bernard", patient_id):
        assert secret not in page
    assert 'href="/patients' not in page


def test_the_kiosk_token_opens_no_patient_record(tablet: Client, kiosk_token: str, patient_id: str) -> None:
    tablet.get(f"/kiosk/{kiosk_token}")
    response = tablet.get(f"/patients/{patient_id}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_answers_lead_to_the_next_questionnaire_then_thanks(tablet: Client, kiosk_token: str) -> None:
    first = answer(tablet, kiosk_token, "phq9", [1, 1, 1, 1, 1, 1, 1, 1, 0])
    assert first.status_code == 303
    second_page = tablet.get(f"/kiosk/{kiosk_token}").text
    assert wording("who5", 1) in second_page
    assert wording("phq9", 1) not in second_page
    last = answer(tablet, kiosk_token, "who5", [3, 3, 3, 3, 3])
    assert last.status_code == 303
    thanks = tablet.get(f"/kiosk/{kiosk_token}")
    assert thanks.status_code == 200
    assert fr("Thank you, you have finished.") in thanks.text
    assert "<form method=\"post\" action=\"/kiosk/" not in thanks.text


def test_kiosk_answers_are_stored_with_source_kiosk(tablet: Client, kiosk_token: str, patient_id: str,
                                                    database: Database) -> None:
    answer(tablet, kiosk_token, "phq9", [1, 1, 1, 1, 1, 1, 1, 1, 0])
    answer(tablet, kiosk_token, "who5", [3, 3, 3, 3, 3])
    stored = kiosk_assessments(database, patient_id)
    assert [(code, source) for code, source, _ in stored] == [("phq9", "kiosk"), ("who5", "kiosk")]
    assert stored[0][2] == 8


def test_a_post_without_the_csrf_token_is_refused(tablet: Client, kiosk_token: str, patient_id: str,
                                                  database: Database) -> None:
    tablet.get(f"/kiosk/{kiosk_token}")
    form = {"scale": "phq9", **{f"item_{n}": "0" for n in range(1, 10)}}
    response = tablet.post(f"/kiosk/{kiosk_token}", data=form, follow_redirects=False)
    assert response.status_code == 403
    assert kiosk_assessments(database, patient_id) == []


def test_a_completed_pass_stores_nothing_more(tablet: Client, kiosk_token: str, patient_id: str,
                                              database: Database) -> None:
    answer(tablet, kiosk_token, "phq9", [0] * 9)
    answer(tablet, kiosk_token, "who5", [3] * 5)
    again = answer(tablet, kiosk_token, "who5", [5] * 5)
    assert again.status_code in (303, 404)
    assert len(kiosk_assessments(database, patient_id)) == 2


def test_a_completed_pass_refuses_a_submission_with_404(tablet: Client, kiosk_token: str) -> None:
    answer(tablet, kiosk_token, "phq9", [0] * 9)
    answer(tablet, kiosk_token, "who5", [3] * 5)
    again = answer(tablet, kiosk_token, "who5", [5] * 5)
    assert again.status_code == 404


def test_a_questionnaire_already_answered_cannot_be_sent_twice(tablet: Client, kiosk_token: str, patient_id: str,
                                                               database: Database) -> None:
    answer(tablet, kiosk_token, "phq9", [0] * 9)
    answer(tablet, kiosk_token, "phq9", [3] * 9)
    assert [code for code, _, _ in kiosk_assessments(database, patient_id)] == ["phq9"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_token_is_404(tablet: Client, method: str) -> None:
    csrf = CSRF_INPUT.search(tablet.get("/login").text)
    assert csrf
    response = tablet.request(method, "/kiosk/not-a-real-token-at-all",
                              data={"scale": "phq9", "_csrf_token": csrf.group(1)} if method == "POST" else None,
                              follow_redirects=False)
    assert response.status_code == 404


def test_an_expired_link_is_404(tablet: Client, patient_id: str, database: Database) -> None:
    actor = Actor(id="U-TEST", role="operator", organisation_id="org-centre-a")
    link = kiosk.open_pass(database, actor, CATALOGUE, patient_id, ["phq9"], minutes=0, locale="fr")
    assert tablet.get(f"/kiosk/{link.token}").status_code == 404


def test_a_licensed_scale_without_local_text_is_refused(operator: tuple[Client, str], patient_id: str) -> None:
    client, token = operator
    response = client.post(f"/patients/{patient_id}/kiosk", data={"scales": ["phq9", "madrs"], "_csrf_token": token})
    assert response.status_code == 422
    assert 'href="#field-scales"' in response.text
    assert KIOSK_LINK.findall(response.text) == []


def test_no_scale_chosen_is_refused(operator: tuple[Client, str], patient_id: str) -> None:
    client, token = operator
    response = client.post(f"/patients/{patient_id}/kiosk", data={"_csrf_token": token})
    assert response.status_code == 422
    assert KIOSK_LINK.findall(response.text) == []


def test_item_9_on_the_kiosk_shows_the_crisis_message(tablet: Client, kiosk_token: str, patient_id: str,
                                                      database: Database) -> None:
    response = answer(tablet, kiosk_token, "phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert response.status_code == 200
    text = response.text
    assert 'role="alert"' in text
    assert "3114" in text
    with database.read() as session:
        assert session.scalars(select(SafetyAlert.code).where(SafetyAlert.patient_id == patient_id)).all() == [
            "suicidal_ideation"]
