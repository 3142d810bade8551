"""Two people editing the same patient record: one save wins, the other gets 409 and nothing is lost.

quality.md, Reliability: "Concurrent edits of one record — second writer gets 409 with a clear
message; no lost update".
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from shared_core.tables import Patient
from shared_core.testing import HeldRow, row_held_for_writes

if TYPE_CHECKING:  # conftest belongs to pytest: never imported at run time
    from conftest import Deployment, Kit, ServerPool

pytestmark = [pytest.mark.db, pytest.mark.timeout(300)]  # timeout: a safety net, loops are bounded

# What the second writer reads (default locale: French), and the English message id, either accepted.
CONFLICT_HEADINGS = ("Quelqu'un d'autre a enregistré ce dossier avant vous", "Someone else saved this patient first")


def _stored(deployment: Deployment, patient_id: str) -> tuple[str, int]:
    database = deployment.database()
    try:
        with database.read() as session:
            patient = session.get(Patient, patient_id)
            assert patient is not None
            return patient.family_name, patient.version
    finally:
        database.dispose()


def _assert_conflict_page(kit: type[Kit], response: httpx.Response) -> None:
    assert response.status_code == 409, f"{response.status_code}: {response.text[:500]}"
    body = kit.page_text(response)
    assert 'role="alert"' in body
    assert any(heading in body for heading in CONFLICT_HEADINGS), body[:2000]


def _new_patient(kit: type[Kit], client: Any, name: str) -> str:
    patient_id = kit.patient_id_of(client.create_patient(name))
    assert patient_id is not None
    return patient_id


@contextmanager
def _writes_held(deployment: Deployment, patient_id: str) -> Iterator[HeldRow]:
    """The patient row held back from every writer while both saves are sent (shared_core.testing), so
    both are in the server at once when it is released."""
    database = deployment.database()
    try:
        with row_held_for_writes(database, "patient", patient_id) as held:
            yield held
    finally:
        database.dispose()


def test_second_of_two_sequential_saves_gets_409_and_the_first_value_stays(
        kit: type[Kit], deployment: Deployment, servers: ServerPool) -> None:
    """Both load the form at version v; Alice saves, then Bruno saves his stale form."""
    server = servers.start(deployment)
    with kit.WebClient(server.base_url) as alice, kit.WebClient(server.base_url) as bruno:
        alice.login()
        bruno.login()
        patient_id = _new_patient(kit, alice, "Origine")
        form_a = alice.edit_form(patient_id)
        form_b = bruno.edit_form(patient_id)
        assert form_a["version"] == form_b["version"]

        first = alice.submit_edit(patient_id, {**form_a, "family_name": "Premier"})
        second = bruno.submit_edit(patient_id, {**form_b, "family_name": "Second"})

        assert first.status_code == 303, first.text[:500]
        assert first.headers["location"] == f"/patients/{patient_id}"
        _assert_conflict_page(kit, second)
        assert 'value="Second"' in second.text  # Bruno's input is kept on the form so he can re-apply it
        name, version = _stored(deployment, patient_id)
        assert (name, version) == ("Premier", int(form_a["version"]) + 1)
        assert alice.edit_form(patient_id)["family_name"] == "Premier"
        # Reloading gives Bruno the current version, and his save then goes through.
        again = bruno.edit_form(patient_id)
        assert again["version"] == str(version)
        assert bruno.submit_edit(patient_id, {**again, "family_name": "Second"}).status_code == 303


def test_simultaneous_saves_of_one_record_give_one_303_and_one_409(
        kit: type[Kit], deployment: Deployment, servers: ServerPool) -> None:
    """Both saves are in the server at the same moment (queued behind a lock the test holds)."""
    server = servers.start(deployment)
    with kit.WebClient(server.base_url) as alice, kit.WebClient(server.base_url) as bruno:
        alice.login()
        bruno.login()
        clients = {"Alice": alice, "Bruno": bruno}
        patient_id = _new_patient(kit, alice, "Simultane")
        forms = {who: client.edit_form(patient_id) for who, client in clients.items()}
        assert forms["Alice"]["version"] == forms["Bruno"]["version"]
        answers: dict[str, httpx.Response | Exception] = {}

        def save(who: str) -> None:
            try:
                answers[who] = clients[who].submit_edit(patient_id, {**forms[who], "family_name": who})
            except Exception as error:
                answers[who] = error

        threads = [threading.Thread(target=save, args=(who,), daemon=True) for who in clients]
        with _writes_held(deployment, patient_id) as held:
            for thread in threads:
                thread.start()
            held.wait_for_writers()
        for thread in threads:
            thread.join(60)

        statuses = {who: getattr(answer, "status_code", repr(answer)) for who, answer in answers.items()}
        winners = [who for who, status in statuses.items() if status == 303]
        # No lost update whatever the answers: the stored value is one writer's, written exactly once.
        name, version = _stored(deployment, patient_id)
        assert name in clients
        assert version == int(forms[name]["version"]) + 1
        assert sorted(map(str, statuses.values())) == ["303", "409"], f"{statuses}\n{server.log_tail(30)}"
        assert winners == [name], f"stored {name!r}, acknowledged {winners}"
        loser = next(who for who in clients if who != name)
        loser_answer = answers[loser]
        assert isinstance(loser_answer, httpx.Response)
        _assert_conflict_page(kit, loser_answer)
