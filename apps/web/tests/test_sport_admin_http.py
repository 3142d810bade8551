"""Directory administration over HTTP: the structures list, the import with its progress fragment
and report, the organisation link, and the coordinator's structure profile (IDOR, 409 on stale save)."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select

from shared_core.actors import Actor
from shared_core.db import Database
from sport_referral.admin_tables import SportImportJob
from sport_referral.model.structures import Structure
from sport_referral.service import save_structures
from sport_referral.tables import SportStructure

pytestmark = pytest.mark.db
Client = Callable[..., tuple[TestClient[Litestar], str]]
ADMIN = Actor(id="test", role="admin")
GOOD_HEADER = ("structure_id,kind,name,postcode,commune_insee,accepting_referrals,referral_email,mss_habilitated_from,"
               "source,source_licence,updated_at\n")


def _structure(structure_id: str, name: str, kind: str = "club", **extra: object) -> Structure:
    fields: dict[str, object] = {
        "structure_id": structure_id, "kind": kind, "name": name, "postcode": "67000", "commune_insee": "67482",
        "department_code": "67", "region_code": "44", "latitude": 48.58, "longitude": 7.75,
        "accepting_referrals": True, "source": "manual", "source_licence": "own", "source_ref": structure_id,
        "referral_email": f"{structure_id}@example.fr", "disability_families": ["moteur"],
    }
    if kind == "mss":
        fields["mss_habilitated_from"] = "2024-01-15"
    fields.update(extra)
    return msgspec.convert(fields, Structure)


@pytest.fixture
def structures(database: Database) -> Database:
    save_structures(database, ADMIN, [
        _structure("club-a", "Club A de démonstration"),
        _structure("mss-b", "Maison Sport-Santé B", kind="mss"),
        _structure("venue-c", "Gymnase C", kind="venue", accepting_referrals=False, referral_email=None),
    ], "test")
    with database.write() as session:
        structure = session.get(SportStructure, "mss-b")
        assert structure is not None
        structure.organisation_id = "org-mss"
    return database


def _wait_for_job(client: TestClient[Litestar], job_url: str, timeout: float = 60.0) -> str:
    """Poll the progress fragment as htmx would, until it stops asking to be polled."""
    deadline = time.monotonic() + timeout
    while True:
        fragment = client.get(job_url + "/progress", headers={"HX-Request": "true"})
        assert fragment.status_code == 200
        if "hx-trigger" not in fragment.text:
            return html.unescape(fragment.text)
        assert time.monotonic() < deadline, "the import job did not finish"
        time.sleep(0.1)


def _upload(client: TestClient[Litestar], token: str, content: bytes, file_format: str = "parcours",
            name: str = "structures.csv", **extra: str) -> tuple[int, str]:
    response = client.post("/admin/sport/imports", data={"_csrf_token": token, "file_format": file_format, **extra},
                           files={"file": (name, content, "text/csv")}, follow_redirects=False)
    return response.status_code, response.headers.get("location", response.text)


# ---------------------------------------------------------------------------------------------
# Role refusals
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["psychiatrist", "operator", "referrer", "coordinator", "observer"])
def test_only_admins_reach_the_directory_administration(client_for: Client, structures: Database, role: str) -> None:
    client, _ = client_for(role)
    for path in ("/admin/sport/structures", "/admin/sport/imports", "/admin/sport/structures/club-a"):
        assert client.get(path).status_code == 403


@pytest.mark.parametrize("role", ["psychiatrist", "operator", "referrer", "observer", "admin"])
def test_only_coordinators_edit_a_structure_profile(client_for: Client, structures: Database, role: str) -> None:
    client, token = client_for(role)
    assert client.get("/structure-profile/mss-b").status_code == 403
    assert client.post("/structure-profile/mss-b", data={"_csrf_token": token}).status_code == 403


# ---------------------------------------------------------------------------------------------
# Structures list and organisation link
# ---------------------------------------------------------------------------------------------


def test_the_list_filters_searches_and_pages(client_for: Client, structures: Database) -> None:
    client, _ = client_for("admin")
    page = client.get("/admin/sport/structures")
    assert page.status_code == 200
    assert "Club A de démonstration" in page.text and "Gymnase C" in page.text
    fragment = client.get("/admin/sport/structures?q=gymnase", headers={"HX-Request": "true",
                                                                       "HX-Target": "structure-results"})
    assert "Gymnase C" in fragment.text and "Club A" not in fragment.text and "<html" not in fragment.text
    kinds = client.get("/admin/sport/structures?kind=mss").text
    assert "Maison Sport-Santé B" in kinds and "Club A" not in kinds
    linked = client.get("/admin/sport/structures?linked=yes").text
    assert "Maison Sport-Santé B" in linked and "Gymnase C" not in linked
    refusing = client.get("/admin/sport/structures?accepting=no").text
    assert "Gymnase C" in refusing and "Club A" not in refusing
    save_structures(structures, ADMIN, [_structure(f"club-{n:03d}", f"Club numéro {n:03d}") for n in range(60)], "t")
    first = client.get("/admin/sport/structures?q=num%C3%A9ro").text
    assert "Club numéro 000" in first and "Club numéro 030" not in first and "page=2" in first
    second = client.get("/admin/sport/structures?q=num%C3%A9ro&page=2").text
    assert "Club numéro 030" in second


def test_an_admin_links_a_structure_to_an_organisation(client_for: Client, structures: Database) -> None:
    client, token = client_for("admin")
    page = client.get("/admin/sport/structures/club-a")
    assert page.status_code == 200
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    saved = client.post("/admin/sport/structures/club-a/organisation",
                        data={"_csrf_token": token, "organisation_id": "org-mss", "version": version.group(1)},
                        follow_redirects=False)
    assert saved.status_code == 303
    with structures.read() as session:
        assert session.get(SportStructure, "club-a").organisation_id == "org-mss"  # type: ignore[union-attr]
    stale = client.post("/admin/sport/structures/club-a/organisation",
                        data={"_csrf_token": token, "organisation_id": "", "version": version.group(1)})
    assert stale.status_code == 409
    unknown = client.post("/admin/sport/structures/club-a/organisation",
                          data={"_csrf_token": token, "organisation_id": "org-nowhere", "version": "2"})
    assert unknown.status_code == 422
    assert client.get("/admin/sport/structures/no-such-structure").status_code == 404


# ---------------------------------------------------------------------------------------------
# Import with progress and report
# ---------------------------------------------------------------------------------------------


def test_an_import_with_bad_rows_reports_each_row_and_keeps_the_good_ones(client_for: Client,
                                                                          database: Database) -> None:
    client, token = client_for("admin")
    content = (GOOD_HEADER
               + "club-x1,club,Club X1,67000,67482,true,x1@example.fr,,manual,own,2026-01-10\n"
               + "club-x2,clubb,Club X2,6700,67482,peut-être,,,manual,own,2026-01-10\n"
               + "club-x1,club,Doublon,67000,67482,true,x1@example.fr,,manual,own,2026-01-10\n"
               + "mss-x3,mss,MSS X3,67000,67482,true,,,manual,own,2026-01-10\n").encode()
    status, location = _upload(client, token, content)
    assert status == 303 and location.startswith("/admin/sport/imports/")
    report = _wait_for_job(client, location)
    assert "Import finished" in report or "Import terminé" in report
    for line in ("3", "4", "5"):
        assert re.search(rf"<th scope=\"row\" rowspan=\"\d+\">{line}</th>", report), f"line {line} not reported"
    assert "kind" in report and "duplicate of line 2" in report and "referral_email" in report
    page = client.get(location)
    assert page.status_code == 200 and "duplicate of line 2" in page.text  # survives a reload
    full = client.get(location + "/report.csv")
    assert full.status_code == 200 and full.headers["content-type"].startswith("text/csv")
    lines = full.text.splitlines()
    assert lines[0] == "line,kind,source_ref,field,message"
    assert {line.split(",")[0] for line in lines[1:] if ",skipped," in line} == {"3", "4", "5"}
    with database.read() as session:
        ids = set(session.scalars(select(SportStructure.id)))
        job = session.scalars(select(SportImportJob)).one()
    assert ids == {"club-x1"}
    assert job.status == "done" and job.summary is not None and job.summary["skipped"] == 3


def test_an_all_or_nothing_import_with_a_bad_row_writes_nothing(client_for: Client, database: Database) -> None:
    client, token = client_for("admin")
    content = (GOOD_HEADER + "club-y1,club,Club Y1,67000,67482,true,,,manual,own,2026-01-10\n"
               + "club-y2,clubb,Club Y2,67000,67482,true,,,manual,own,2026-01-10\n").encode()
    status, location = _upload(client, token, content, all_or_nothing="on")
    assert status == 303
    report = _wait_for_job(client, location)
    assert "Nothing imported" in report or "Rien n'a été importé" in report
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(SportStructure)) == 0


def test_a_file_in_the_wrong_encoding_is_rejected_with_its_line(client_for: Client, database: Database) -> None:
    client, token = client_for("admin")
    content = (GOOD_HEADER + "club-z1,club,Club Zoé,67000,67482,true,,,manual,own,2026-01-10\n").encode("cp1252")
    status, location = _upload(client, token, content)
    assert status == 303
    report = _wait_for_job(client, location)
    assert "UTF-8" in report or "utf_8" in report
    assert re.search(r"(Line|Ligne) 2", report)
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(SportStructure)) == 0


def test_an_upload_without_file_or_format_is_refused(client_for: Client, database: Database) -> None:
    client, token = client_for("admin")
    missing = client.post("/admin/sport/imports", data={"_csrf_token": token, "file_format": "parcours"},
                          files={"file": ("empty.csv", b"", "text/csv")})
    assert missing.status_code == 422
    bad_format = client.post("/admin/sport/imports", data={"_csrf_token": token, "file_format": "excel"},
                             files={"file": ("x.csv", b"a,b\n", "text/csv")})
    assert bad_format.status_code == 422
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(SportImportJob)) == 0


def test_a_crashed_job_is_shown_as_failed(client_for: Client, database: Database,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from sport_referral import import_jobs

    def explode(*args: object, **kwargs: object) -> object:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(import_jobs, "persist_import", explode)
    client, token = client_for("admin")
    status, location = _upload(client, token, (GOOD_HEADER + "club-w1,club,Club W1,67000,67482,true,,,manual,own,"
                                               "2026-01-10\n").encode())
    assert status == 303
    report = _wait_for_job(client, location)
    assert "Import failed" in report or "Échec de l'import" in report
    assert "disk on fire" not in report
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(SportStructure)) == 0


def test_a_job_without_heartbeat_is_failed_and_a_new_import_may_start(client_for: Client,
                                                                        database: Database) -> None:
    import datetime as dt

    from shared_core.db import utcnow

    long_ago = utcnow() - dt.timedelta(hours=1)
    with database.write() as session:
        session.add(SportImportJob(id="IMP-DEAD", file_name="dead.csv", file_format="parcours", all_or_nothing=False,
                                   file_bytes=10, status="reading", rows_done=1000, rows_total=5000, created_by="x",
                                   created_at=long_ago, started_at=long_ago, heartbeat_at=long_ago))
    client, token = client_for("admin")
    fragment = html.unescape(client.get("/admin/sport/imports/IMP-DEAD/progress").text)
    assert "hx-trigger" not in fragment and ("Import failed" in fragment or "Échec de l'import" in fragment)
    status, location = _upload(client, token, (GOOD_HEADER + "club-v1,club,Club V1,67000,67482,true,,,manual,own,"
                                               "2026-01-10\n").encode())
    assert status == 303
    with database.read() as session:
        assert session.get(SportImportJob, "IMP-DEAD").status == "failed"  # type: ignore[union-attr]
    # The new import runs in a thread of its own: left running, it deadlocked on PostgreSQL with the next
    # test's TRUNCATE.
    _wait_for_job(client, location)


# ---------------------------------------------------------------------------------------------
# Structure profile (coordinator)
# ---------------------------------------------------------------------------------------------


def _profile_form(token: str, version: str, **overrides: object) -> dict[str, object]:
    form: dict[str, object] = {
        "_csrf_token": token, "version": version, "disciplines": "Marche nordique\nNatation",
        "disability_families": ["moteur", "visuel"], "professions": ["apa_teacher"],
        "qualifications": ["cqh"], "activity_types": ["endurance", "balance"], "accepting_referrals": "on",
        "capacity_open_slots": "4", "waiting_weeks": "2", "referral_email": "accueil@mss-b.fr",
        "phone": "0388000000", "website": "https://mss-b.example.fr", "access_motor_reception": "true",
        "access_motor_toilets": "false", "confirm": "on",
    }
    form.update(overrides)
    return form


def test_a_coordinator_edits_and_confirms_their_structure_profile(client_for: Client, structures: Database) -> None:
    client, token = client_for("coordinator")
    listing = client.get("/structure-profile")
    assert "Maison Sport-Santé B" in listing.text and "Club A" not in listing.text
    page = client.get("/structure-profile/mss-b")
    assert page.status_code == 200
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    saved = client.post("/structure-profile/mss-b", data=_profile_form(token, version.group(1)),
                        follow_redirects=False)
    assert saved.status_code == 303, saved.text
    with structures.read() as session:
        row = session.get(SportStructure, "mss-b")
        assert row is not None
        assert row.profile_confirmed_at is not None
        assert row.data["disciplines"] == ["Marche nordique", "Natation"]
        assert row.data["accessibility"] == {"motor_reception": True, "motor_toilets": False}
        assert row.data["capacity_open_slots"] == 4 and row.data["qualifications"] == ["cqh"]
    # A later import of the same record does not overwrite the confirmed profile (§6).
    report = save_structures(structures, ADMIN, [_structure("mss-b", "Renamed by import", kind="mss")], "re-import")
    assert report.conflicts and report.updated == 0
    with structures.read() as session:
        assert session.get(SportStructure, "mss-b").name == "Maison Sport-Santé B"  # type: ignore[union-attr]


def test_a_stale_profile_save_answers_409(client_for: Client, structures: Database) -> None:
    client, token = client_for("coordinator")
    version = re.search(r'name="version" value="(\d+)"', client.get("/structure-profile/mss-b").text)
    assert version
    first = client.post("/structure-profile/mss-b", data=_profile_form(token, version.group(1)), follow_redirects=False)
    assert first.status_code == 303
    second = client.post("/structure-profile/mss-b", data=_profile_form(token, version.group(1), capacity_open_slots="9"))
    assert second.status_code == 409
    with structures.read() as session:
        assert session.get(SportStructure, "mss-b").data["capacity_open_slots"] == 4  # type: ignore[union-attr]


def test_an_invalid_profile_names_each_bad_field(client_for: Client, structures: Database) -> None:
    client, token = client_for("coordinator")
    version = re.search(r'name="version" value="(\d+)"', client.get("/structure-profile/mss-b").text)
    assert version
    response = client.post("/structure-profile/mss-b", data=_profile_form(
        token, version.group(1), capacity_open_slots="-3", phone="12", website="ftp://x", referral_email="",
        disability_families=["martien"]))
    assert response.status_code == 422
    for field in ("capacity_open_slots", "phone", "website", "disability_families", "referral_email"):
        assert f'href="#field-{field}"' in response.text, field


def test_a_coordinator_never_opens_another_structure(client_for: Client, structures: Database) -> None:
    client, token = client_for("coordinator")
    for structure_id in ("club-a", "venue-c", "no-such-structure"):
        assert client.get(f"/structure-profile/{structure_id}").status_code == 404
        response = client.post(f"/structure-profile/{structure_id}", data=_profile_form(token, "1"))
        assert response.status_code == 404
    other, other_token = client_for("coordinator", email="other@test.parcours.fr", organisation_id="org-centre-b")
    assert other.get("/structure-profile/mss-b").status_code == 404
    assert other.post("/structure-profile/mss-b", data=_profile_form(other_token, "1")).status_code == 404
    assert "Maison Sport-Santé B" not in other.get("/structure-profile").text
    orphan, _ = client_for("coordinator", email="orphan@test.parcours.fr", organisation_id=None)
    assert orphan.get("/structure-profile/mss-b").status_code == 404
    with structures.read() as session:
        assert session.get(SportStructure, "club-a").data["disability_families"] == ["moteur"]  # type: ignore[union-attr]


def test_codes_and_messages_shown_through_templates_have_french_text() -> None:
    from babel.messages.pofile import read_po

    from parcours_web import indicator_view
    from parcours_web.directory_labels import all_label_ids
    from parcours_web.i18n import catalogue_files
    from parcours_web.pages.sport_admin import FORMAT_LABELS
    from sport_referral import directory_admin, import_jobs

    known: set[str] = set()
    for path in catalogue_files():
        with path.open("rb") as handle:
            known |= {str(m.id) for m in read_po(handle, locale="fr") if m.id and m.string}
    titles = ["Indicators by area, whole period", "Indicators by month", "Month", "Area", "Limitation level",
              "Indicators by limitation level, whole period", "Indicators by disability family, whole period",
              "Disability family", "Referrals sent by month", "Referrals sent by area"]
    python_text = [*all_label_ids(), *titles, *FORMAT_LABELS.values(), import_jobs.INTERRUPTED, import_jobs.CRASHED,
                   "Choose a text encoding from the list.", "The Parcours format is always UTF-8.",
                   "Choose the file format.", "Choose a non-empty file to import.",
                   "Another import is running. Wait for it to finish, then start this one."]
    assert [text for text in python_text if text not in known] == []
    assert set(indicator_view.INDICATORS) <= set(directory_labels_indicators())
    with pytest.raises(Exception) as failure:
        directory_admin.parse_profile_input({"capacity_open_slots": ["x"], "phone": ["1"], "website": ["x"],
                                             "referral_email": ["x"], "disability_families": ["zz"]})
    messages = [error.message for error in failure.value.errors]  # type: ignore[attr-defined]
    assert messages and [m for m in messages if m not in known] == []


def directory_labels_indicators() -> list[str]:
    from parcours_web.directory_labels import INDICATOR_LABELS

    return list(INDICATOR_LABELS)
