"""Directory import jobs (domain-sport §6, quality.md "60,000 structures"): progress kept in the
database, a row-by-row report, all-or-nothing, and nothing half-applied when a job dies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

import shared_core.tables
import sport_referral.admin_tables
import sport_referral.tables
from shared_core.actors import Actor
from shared_core.db import Database, metadata, utcnow
from shared_core.errors import Conflict, ValidationFailed
from sport_referral import import_jobs
from sport_referral.admin_tables import SportImportJob
from sport_referral.tables import SportStructure

assert shared_core.tables and sport_referral.tables and sport_referral.admin_tables  # tables on the metadata
ADMIN = Actor(id="admin-1", role="admin")
HEADER = ("structure_id,kind,name,postcode,commune_insee,latitude,longitude,disability_families,accepting_referrals,"
          "referral_email,source,source_licence,updated_at\n")
COMMUNES = (("67482", "67000", 48.58, 7.75), ("31555", "31000", 43.60, 1.44), ("69123", "69001", 45.76, 4.83),
            ("44109", "44000", 47.22, -1.55))


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'jobs.db'}")
    metadata.create_all(db.engine, tables=[metadata.tables[name] for name in (
        "organisation", "audit_event", "sport_structure", "sport_import_job")])
    yield db
    db.dispose()


def _row(number: int) -> str:
    insee, postcode, lat, lon = COMMUNES[number % len(COMMUNES)]
    return (f"club-{number:06d},club,Club numéro {number},{postcode},{insee},{lat},{lon},moteur|visuel,true,"
            f"club{number}@example.fr,manual,own,2026-01-10\n")


def _start(database: Database, content: bytes, *, all_or_nothing: bool = False) -> str:
    job = import_jobs.create_job(database, ADMIN, file_name="c:\\exports\\structures.csv", file_format="parcours",
                                 all_or_nothing=all_or_nothing, content=content)
    assert job.status == "queued" and job.file_name == "structures.csv"
    return job.id


def _count(database: Database) -> int:
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(SportStructure)) or 0


def test_a_60000_row_file_is_imported_with_progress_slow(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Slow (tens of seconds): the national-scale bar of quality.md. Kept in the suite on purpose."""
    rows = 60_000
    content = (HEADER + "".join(_row(n) for n in range(rows))).encode()
    job_id = _start(database, content)
    seen: list[int] = []
    real_set = import_jobs._set

    def spy(db: Database, identifier: str, **values: object) -> None:
        if "rows_done" in values and values.get("status") is None:
            seen.append(int(values["rows_done"]))  # type: ignore[call-overload]
        real_set(db, identifier, **values)

    monkeypatch.setattr(import_jobs, "_set", spy)
    view = import_jobs.run_job(database, ADMIN, job_id, content)
    assert view.status == "done" and view.percent == 100
    assert view.summary["rows_read"] == rows and view.summary["created"] == rows and view.summary["skipped"] == 0
    assert _count(database) == rows
    assert len(seen) >= 50 and seen == sorted(seen) and seen[-1] >= 59_000  # progress every 1,000 rows


def test_progress_is_visible_while_the_job_reads(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    content = (HEADER + "".join(_row(n) for n in range(3_000))).encode()
    job_id = _start(database, content)
    snapshots: list[import_jobs.JobView] = []
    real_set = import_jobs._set

    def spy(db: Database, identifier: str, **values: object) -> None:
        real_set(db, identifier, **values)
        snapshots.append(import_jobs.get_job(db, identifier))

    monkeypatch.setattr(import_jobs, "_set", spy)
    import_jobs.run_job(database, ADMIN, job_id, content)
    reading = [s for s in snapshots if s.status == "reading" and s.rows_done]
    assert reading and all(0 < s.percent < 90 for s in reading)
    assert [s.status for s in snapshots][-2:] == ["saving", "done"]


def test_malformed_rows_duplicates_and_all_or_nothing(database: Database) -> None:
    content = (HEADER + _row(1) + "bad id!,club,X,67000,67482,,,,true,,manual,own,2026-01-10\n"
               + _row(1).replace("Club numéro 1", "Doublon") + "club-9,club,Y,6700,67482,,,,maybe,,manual,own,"
               "2026-01-10\n").encode()
    view = import_jobs.run_job(database, ADMIN, _start(database, content), content)
    report = import_jobs.job_report(database, view.id)
    assert view.status == "done" and view.summary["rows_imported"] == 1 and report.skipped_total == 3
    assert [row.line for row in report.skipped] == [3, 4, 5]
    reasons = {row.line: " ".join(message for _, message in row.reasons) for row in report.skipped}
    assert "duplicate of line 2" in reasons[4]
    assert report.duplicates == 1
    assert {field for row in report.skipped if row.line == 5 for field, _ in row.reasons} >= {"postcode",
                                                                                               "accepting_referrals"}
    strict = import_jobs.run_job(database, ADMIN, _start(database, content, all_or_nothing=True), content)
    assert strict.status == "rejected" and strict.summary["aborted"]
    assert _count(database) == 1  # only the first job's good row


def test_a_wrong_encoding_is_a_file_error(database: Database) -> None:
    content = (HEADER + _row(1).replace("numéro", "numéro")).encode("latin-1")
    view = import_jobs.run_job(database, ADMIN, _start(database, content), content)
    report = import_jobs.job_report(database, view.id)
    assert view.status == "rejected" and view.summary["file_error"]
    assert report.file_errors and report.file_errors[0][0] == 2 and "utf" in report.file_errors[0][1].lower()
    assert _count(database) == 0


def test_a_crash_while_saving_writes_nothing_and_fails_the_job(database: Database,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from shared_core.services import audit

    content = (HEADER + "".join(_row(n) for n in range(50))).encode()
    real_audit = audit.record

    def crash_after_inserts(*args: object, **kwargs: object) -> None:
        raise RuntimeError("power cut")  # raised inside save_structures' transaction, after the inserts

    job_id = _start(database, content)
    monkeypatch.setattr(audit, "record", crash_after_inserts)
    view = import_jobs.run_job(database, ADMIN, job_id, content)
    monkeypatch.setattr(audit, "record", real_audit)
    assert view.status == "failed" and view.error == import_jobs.CRASHED
    assert _count(database) == 0


def test_one_job_at_a_time_and_stale_jobs_are_failed(database: Database) -> None:
    content = (HEADER + _row(1)).encode()
    first = _start(database, content)
    with pytest.raises(Conflict):
        _start(database, content)
    long_ago = utcnow() - import_jobs.STALE_AFTER - dt.timedelta(seconds=5)
    with database.write() as session:
        job = session.get(SportImportJob, first)
        assert job is not None
        job.heartbeat_at = job.created_at = long_ago
    assert import_jobs.get_job(database, first).status == "failed"
    second = _start(database, content)
    assert import_jobs.get_job(database, first).error == import_jobs.INTERRUPTED
    assert import_jobs.get_job(database, second).status == "queued"


def test_an_empty_upload_or_unknown_format_is_refused(database: Database) -> None:
    with pytest.raises(ValidationFailed) as failure:
        import_jobs.create_job(database, ADMIN, file_name="x.csv", file_format="xls", all_or_nothing=False,
                               content=b"")
    assert {error.field for error in failure.value.errors} == {"file", "file_format"}


def test_row_estimates() -> None:
    assert import_jobs.estimate_rows(b"h\na\nb\n", "parcours") == 2
    assert import_jobs.estimate_rows(b'{"structures": [{"structure_id": "a"}, {"structure_id": "b"}]}',
                                     "parcours") == 2


def test_a_forced_encoding_reads_a_latin_file(database: Database) -> None:
    header = ("equip_numero;inst_numero;equip_nom;inst_nom;new_code;new_name;inst_cp;equip_coordonnees;"
              "equip_maj_date\n")
    row = "E067I674820001;I674820001;Salle de gymnastique;Complexe sportif Hautepierre;67482;Strasbourg;67200;" \
          "48.59, 7.70;2025-06-01\n"
    content = (header + row).encode("cp1252")
    job = import_jobs.create_job(database, ADMIN, file_name="dataes.csv", file_format="dataes", all_or_nothing=False,
                                 content=content, encoding="cp1252")
    view = import_jobs.run_job(database, ADMIN, job.id, content)
    assert view.status == "done" and view.summary["created"] == 1 and view.summary["encoding"] == "cp1252"
    with pytest.raises(ValidationFailed) as failure:
        import_jobs.create_job(database, ADMIN, file_name="p.csv", file_format="parcours", all_or_nothing=False,
                               content=b"x", encoding="cp1252")
    assert [error.field for error in failure.value.errors] == ["encoding"]
