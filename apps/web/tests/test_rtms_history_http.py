"""Treatment history and staging over HTTP: the psychiatrist edits, the operator reads, other centres and
other roles are refused, every bad field is named, a stale edit is a conflict, and the staging shown
follows the trials (domain-rtms §4, §5)."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from parcours_web.context import LANG_COOKIE
from parcours_web.history_labels import LABELS
from parcours_web.i18n import catalogue_files
from rtms_pathway.history_service import MODALITIES, OUTCOMES, PHARM_CLASSES, SEVERITIES
from rtms_pathway.history_tables import MedicationRow, TreatmentTrialRow
from shared_core.db import Database
from shared_core.tables import AuditEvent

pytestmark = pytest.mark.db
Client = Callable[..., tuple[TestClient[Litestar], str]]
TODAY = dt.datetime.now(ZoneInfo("Europe/Paris")).date()


def _patient(client: TestClient[Litestar], token: str) -> str:
    response = client.post("/patients", data={"_csrf_token": token, "family_name": "Histoire", "given_names": "Test",
                                              "birth_date": "1970-01-01", "sex": "F"}, follow_redirects=False)
    return str(response.headers["location"]).rsplit("/", 1)[1]


def _episode(client: TestClient[Litestar], token: str, patient: str) -> None:
    response = client.post(f"/patients/{patient}/history/episode", data={
        "_csrf_token": token, "diagnosis": "unipolar", "severity": "severe_without_psychosis",
        "started_on": (TODAY - dt.timedelta(days=540)).isoformat()}, follow_redirects=False)
    assert response.status_code == 303, response.text


def _trial(token: str, **changes: str) -> dict[str, str]:
    return {"_csrf_token": token, "modality": "antidepressant", "agent": "escitalopram", "max_daily_dose": "20",
            "unit": "mg", "weeks_at_adequate_dose": "8", "adherence": "good", "outcome": "non_response_lt25"} | changes


def _trial_ids(database: Database, patient: str) -> list[str]:
    with database.read() as session:
        return list(session.scalars(select(TreatmentTrialRow.id).where(TreatmentTrialRow.patient_id == patient)
                                    .order_by(TreatmentTrialRow.recorded_at)))


def test_psychiatrist_records_trials_and_the_staging_follows(client_for: Client, database: Database) -> None:
    client, token = client_for("psychiatrist")
    patient = _patient(client, token)
    page = client.get(f"/patients/{patient}/history")
    assert page.status_code == 200
    assert "Enregistrer l'épisode actuel pour calculer la stadification." in html.unescape(page.text)
    _episode(client, token, patient)

    response = client.post(f"/patients/{patient}/history/trials", data=_trial(token), follow_redirects=False)
    assert response.status_code == 303
    page = html.unescape(client.get(f"/patients/{patient}/history").text)
    assert "Dépression résistante (HAS) : non" in page
    assert 'id="thase-rush"><strong>I</strong>' in page

    # A second failed adequate trial of another class: HAS TRD, Thase-Rush II, Maudsley 2 + 4 + 1 = 7.
    client.post(f"/patients/{patient}/history/trials", data=_trial(token, agent="venlafaxine", max_daily_dose="225",
                                                                   weeks_at_adequate_dose="10"))
    page = html.unescape(client.get(f"/patients/{patient}/history").text)
    assert "Dépression résistante (HAS) : oui" in page
    assert 'id="thase-rush"><strong>II</strong>' in page
    assert re.search(r'id="msm-total"><strong>7</strong>', page)
    assert "[TRD-HAS" in page and "R-STG-01" in page

    # English readers get the English explanations.
    client.cookies.set(LANG_COOKIE, "en")
    english = html.unescape(client.get(f"/patients/{patient}/history").text)
    assert "Treatment-resistant depression (HAS): yes" in english
    assert "Non-response (< 25 %)" in english and "outcome_" not in english and "modality_" not in english


def test_medication_decrease_triggers_the_mt_recheck(client_for: Client, database: Database) -> None:
    client, token = client_for("psychiatrist")
    patient = _patient(client, token)
    response = client.post(f"/patients/{patient}/history/medications", data={
        "_csrf_token": token, "inn": "Lorazepam", "dose": "3", "unit": "mg", "started_on": "2025-01-10",
        "last_change_kind": "decrease", "last_change_on": (TODAY - dt.timedelta(days=3)).isoformat()},
        follow_redirects=False)
    assert response.status_code == 303
    page = html.unescape(client.get(f"/patients/{patient}/history").text)
    assert "R-MED-03" in page and "R-MED-04" in page and "R-MED-05" in page
    assert "recontrôler le seuil moteur (R-MED-03)" in page
    with database.read() as session:
        row = session.scalars(select(MedicationRow).where(MedicationRow.patient_id == patient)).one()
        assert row.inn == "lorazepam"
        actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == patient)))
    assert {"medication_recorded", "read"} <= actions


def test_invalid_trial_names_every_field(client_for: Client, database: Database) -> None:
    client, token = client_for("psychiatrist")
    patient = _patient(client, token)
    _episode(client, token, patient)
    response = client.post(f"/patients/{patient}/history/trials", data=_trial(
        token, modality="pill", agent="", max_daily_dose="beaucoup", start_date="2025-05-01", end_date="2025-04-01",
        improvement_pct="140"))
    assert response.status_code == 422
    for field in ("modality", "agent", "max_daily_dose", "end_date", "improvement_pct"):
        assert f'href="#field-{field}"' in response.text, field
    assert _trial_ids(database, patient) == []

    check = client.post(f"/patients/{patient}/history/trial-check", data=_trial(token, agent=""))
    assert check.status_code == 200 and 'href="#field-agent"' in check.text
    check = client.post(f"/patients/{patient}/history/trial-check", data=_trial(token))
    assert "R-STG-01" in check.text

    medication = client.post(f"/patients/{patient}/history/medications", data={
        "_csrf_token": token, "inn": "", "dose": "2", "last_change_kind": "stop"})
    assert medication.status_code == 422
    for field in ("inn", "unit", "last_change_on"):
        assert f'href="#field-{field}"' in medication.text, field

    episode = client.post(f"/patients/{patient}/history/episode", data={"_csrf_token": token, "version": "1"})
    assert episode.status_code == 422
    for field in ("diagnosis", "severity", "started_on"):
        assert f'href="#field-{field}"' in episode.text, field


def test_stale_edit_is_a_conflict(client_for: Client, database: Database) -> None:
    client, token = client_for("psychiatrist")
    patient = _patient(client, token)
    _episode(client, token, patient)
    client.post(f"/patients/{patient}/history/trials", data=_trial(token))
    (trial,) = _trial_ids(database, patient)
    form = client.get(f"/patients/{patient}/history/trials/{trial}")
    assert form.status_code == 200 and 'name="version" value="1"' in form.text
    saved = client.post(f"/patients/{patient}/history/trials/{trial}", data=_trial(token, version="1", agent="sertraline",
                                                                                   max_daily_dose="100"),
                        follow_redirects=False)
    assert saved.status_code == 303
    stale = client.post(f"/patients/{patient}/history/trials/{trial}", data=_trial(token, version="1"))
    assert stale.status_code == 409
    stale_delete = client.post(f"/patients/{patient}/history/trials/{trial}/delete",
                               data={"_csrf_token": token, "version": "1"})
    assert stale_delete.status_code == 409
    removed = client.post(f"/patients/{patient}/history/trials/{trial}/delete",
                          data={"_csrf_token": token, "version": "2"}, follow_redirects=False)
    assert removed.status_code == 303
    assert _trial_ids(database, patient) == []


def test_operator_reads_but_cannot_edit(client_for: Client, database: Database) -> None:
    doctor, doctor_token = client_for("psychiatrist")
    patient = _patient(doctor, doctor_token)
    _episode(doctor, doctor_token, patient)
    doctor.post(f"/patients/{patient}/history/trials", data=_trial(doctor_token))
    (trial,) = _trial_ids(database, patient)
    operator, token = client_for("operator", email="op-history@test.parcours.fr")
    page = operator.get(f"/patients/{patient}/history")
    assert page.status_code == 200
    assert "escitalopram" in page.text and "Ajouter un essai" not in page.text
    assert operator.get(f"/patients/{patient}/history/trials/new").status_code == 403
    assert operator.post(f"/patients/{patient}/history/trials", data=_trial(token)).status_code == 403
    assert operator.post(f"/patients/{patient}/history/trials/{trial}/delete",
                         data={"_csrf_token": token, "version": "1"}).status_code == 403
    assert _trial_ids(database, patient) == [trial]


def test_other_centre_and_other_roles_are_refused(client_for: Client, database: Database) -> None:
    doctor, doctor_token = client_for("psychiatrist")
    patient = _patient(doctor, doctor_token)
    _episode(doctor, doctor_token, patient)
    doctor.post(f"/patients/{patient}/history/trials", data=_trial(doctor_token))
    (trial,) = _trial_ids(database, patient)
    other, other_token = client_for("psychiatrist", email="b-history@test.parcours.fr",
                                    organisation_id="org-centre-b")
    assert other.get(f"/patients/{patient}/history").status_code == 404
    assert other.get(f"/patients/{patient}/history/trials/{trial}").status_code == 404
    assert other.post(f"/patients/{patient}/history/trials/{trial}",
                      data=_trial(other_token, version="1")).status_code == 404
    for role in ("referrer", "coordinator", "observer"):
        client, _ = client_for(role, email=f"{role}-history@test.parcours.fr")
        assert client.get(f"/patients/{patient}/history").status_code == 403, role
    # A trial id of another patient of the same centre is not found under this patient.
    second = _patient(doctor, doctor_token)
    assert doctor.get(f"/patients/{second}/history/trials/{trial}").status_code == 404


def test_patient_and_triage_pages_link_to_the_history(client_for: Client) -> None:
    client, token = client_for("psychiatrist")
    patient = _patient(client, token)
    assert f'href="/patients/{patient}/history"' in client.get(f"/patients/{patient}").text
    assert f'href="/patients/{patient}/history"' in client.get(f"/patients/{patient}/triage").text


def test_every_history_label_has_french_text() -> None:
    """The codes are shown through ``_(LABELS[...])``: Babel cannot extract them, so they are checked here."""
    french: set[str] = set()
    for path in catalogue_files():
        with path.open("rb") as handle:
            french |= {str(message.id) for message in read_po(handle, locale="fr") if message.id and message.string}
    missing = [phrase for phrase in LABELS.values() if phrase not in french]
    assert missing == []
    assert set(LABELS) >= {f"modality_{code}" for code in MODALITIES} | {f"class_{code}" for code in PHARM_CLASSES}
    assert set(LABELS) >= {f"outcome_{code}" for code in OUTCOMES} | {f"severity_msm_{code}" for code in SEVERITIES}
