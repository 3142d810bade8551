"""Directory import jobs (domain-sport §6): an uploaded file read and saved in the background,
with its progress and report kept in ``sport_import_job`` (admin_tables).

The importers validate row by row (or all-or-nothing when asked) and ``service.persist_import``
writes every accepted record in **one** transaction. So a job either wrote all the rows its
report lists as imported, or nothing: a crash or a killed server leaves no half-applied import.
A running job beats a heartbeat; one whose heartbeat is older than :data:`STALE_AFTER` is shown
as failed (interrupted), and a new import may start.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal, get_args

import msgspec
from sqlalchemy import select, update

from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.errors import Conflict, FieldError, NotFound, ValidationFailed
from shared_core.ids import new_id
from shared_core.services import audit
from sport_referral.admin_tables import SportImportJob
from sport_referral.geo.gazetteer import Gazetteer, get_gazetteer
from sport_referral.importers import ImportFormat, import_structures
from sport_referral.importers.report import ImportReport
from sport_referral.service import PersistReport, persist_import

__all__ = [
    "ACTIVE_STATUSES",
    "ENCODINGS",
    "IMPORT_FORMATS",
    "STALE_AFTER",
    "JobReport",
    "JobStatus",
    "JobView",
    "create_job",
    "estimate_rows",
    "get_job",
    "job_report",
    "list_jobs",
    "run_job",
]

_LOG = logging.getLogger(__name__)

JobStatus = Literal["queued", "reading", "saving", "done", "rejected", "failed"]
ACTIVE_STATUSES: frozenset[str] = frozenset({"queued", "reading", "saving"})
IMPORT_FORMATS: tuple[str, ...] = get_args(ImportFormat)
# Text encodings an admin may force (None: UTF-8 for Data ES and Parcours, UTF-8 else ISO-8859-15 for FINESS).
ENCODINGS: tuple[str, ...] = ("utf-8", "iso-8859-15", "cp1252")
STALE_AFTER = dt.timedelta(seconds=120)
HEARTBEAT_SECONDS = 5.0
MAX_FILE_BYTES = 20 * 1024 * 1024  # the web server's request limit; bigger files go through the CLI
# The report keeps this many items of each list (the counts stay exact).
MAX_REPORT_ITEMS = 5_000
INTERRUPTED = "The import was interrupted (the server stopped or the job crashed). Nothing was written."
CRASHED = "The import stopped on an unexpected error. Nothing was written."
# Share of the progress bar given to reading the file; saving takes the rest.
READ_SHARE = 90


class JobView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    file_name: str
    file_format: str
    all_or_nothing: bool
    file_bytes: int
    status: JobStatus
    rows_done: int
    rows_total: int | None
    percent: int
    created_by: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    summary: dict[str, Any]
    error: str | None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class SkippedView(msgspec.Struct, frozen=True):
    line: int
    source_ref: str | None
    reasons: list[tuple[str | None, str]]  # (field, message)


class JobReport(msgspec.Struct, frozen=True, kw_only=True):
    job: JobView
    skipped: list[SkippedView]
    skipped_total: int
    warnings: list[tuple[int, str]]
    warnings_total: int
    file_errors: list[tuple[int, str]]
    conflicts: list[str]
    excluded_counts: dict[str, int]
    duplicates: int


def _is_stale(row: SportImportJob, now: dt.datetime) -> bool:
    last_sign = row.heartbeat_at or row.started_at or row.created_at
    return row.status in ACTIVE_STATUSES and now - last_sign > STALE_AFTER


def _percent(row: SportImportJob, status: str) -> int:
    if status in ("done", "rejected"):
        return 100
    if status == "saving":
        return READ_SHARE
    if status == "reading" and row.rows_total:
        return min(READ_SHARE - 1, row.rows_done * READ_SHARE // max(row.rows_total, 1))
    return 0


def _view(row: SportImportJob, now: dt.datetime) -> JobView:
    status: JobStatus = row.status  # type: ignore[assignment]
    error = row.error
    if _is_stale(row, now):
        status, error = "failed", INTERRUPTED
    return JobView(id=row.id, file_name=row.file_name, file_format=row.file_format, all_or_nothing=row.all_or_nothing,
                   file_bytes=row.file_bytes, status=status, rows_done=row.rows_done, rows_total=row.rows_total,
                   percent=_percent(row, status), created_by=row.created_by, created_at=row.created_at,
                   finished_at=row.finished_at, summary=dict(row.summary or {}), error=error)


def estimate_rows(content: bytes, file_format: str) -> int | None:
    """Rows expected, for the progress bar only (None when it cannot be guessed cheaply)."""
    if file_format == "parcours" and content.lstrip()[:1] in (b"{", b"["):
        return content.count(b'"structure_id"') or None
    lines = content.count(b"\n") + (0 if content.endswith(b"\n") else 1)
    if file_format == "finess":
        return max(lines, 1)  # one establishment line and one geolocation line each: the reader counts both
    return max(lines - 1, 1)


def create_job(database: Database, actor: Actor, *, file_name: str, file_format: str, all_or_nothing: bool,
               content: bytes, encoding: str | None = None) -> JobView:
    """Check the upload and record a queued job (the caller then runs :func:`run_job` in the background).

    Only one import runs at a time: directory imports are large single transactions, and two of
    them on the same records would only make one of them wait.
    """
    errors: list[FieldError] = []
    if file_format not in IMPORT_FORMATS:
        errors.append(FieldError("file_format", "Choose the file format."))
    if encoding is not None and encoding not in ENCODINGS:
        errors.append(FieldError("encoding", "Choose a text encoding from the list."))
    elif file_format == "parcours" and encoding not in (None, "utf-8"):
        errors.append(FieldError("encoding", "The Parcours format is always UTF-8."))
    if not content:
        errors.append(FieldError("file", "Choose a non-empty file to import."))
    elif len(content) > MAX_FILE_BYTES:
        errors.append(FieldError("file", "The file is larger than 20 MB: import it with the command line."))
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    name = (file_name or "upload").replace("\\", "/").rsplit("/", 1)[-1][:255] or "upload"
    with database.write() as session:
        for running in session.scalars(select(SportImportJob).where(SportImportJob.status.in_(ACTIVE_STATUSES))):
            if _is_stale(running, now):
                running.status, running.error, running.finished_at = "failed", INTERRUPTED, now
            else:
                raise Conflict("Another import is running. Wait for it to finish, then start this one.")
        row = SportImportJob(id=new_id("IMP"), file_name=name, file_format=file_format,
                             all_or_nothing=all_or_nothing, encoding=encoding, file_bytes=len(content),
                             status="queued", rows_done=0,
                             rows_total=estimate_rows(content, file_format), created_by=actor.id, created_at=now,
                             heartbeat_at=now)
        session.add(row)
        mode = ", all-or-nothing" if all_or_nothing else ""
        audit.record(session, actor, "create", "sport_import_job", row.id,
                     detail=f"{name} ({file_format}{mode}, {len(content)} bytes)")
        session.flush()
        return _view(row, now)


def _set(database: Database, job_id: str, **values: Any) -> None:
    with database.write() as session:
        session.execute(update(SportImportJob).where(SportImportJob.id == job_id).values(**values))


@contextmanager
def _heartbeat(database: Database, job_id: str) -> Iterator[None]:
    """Beat every few seconds while the job runs, so a dead job can be told from a slow one."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                _set(database, job_id, heartbeat_at=utcnow())
            except Exception:  # a busy database only delays the beat  # noqa: S112
                continue

    thread = threading.Thread(target=beat, name=f"import-heartbeat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=HEARTBEAT_SECONDS * 2)


def _report_json(report: ImportReport, saved: PersistReport | None) -> dict[str, Any]:
    return {
        "skipped": [{"line": row.line, "source_ref": row.source_ref,
                     "reasons": [[reason.field, reason.message] for reason in row.reasons]}
                    for row in report.skipped[:MAX_REPORT_ITEMS]],
        "skipped_total": len(report.skipped),
        "warnings": [[issue.line, issue.message] for issue in report.warnings[:MAX_REPORT_ITEMS]],
        "warnings_total": len(report.warnings),
        "file_errors": [[issue.line, issue.message] for issue in report.file_errors],
        "conflicts": list(saved.conflicts[:MAX_REPORT_ITEMS]) if saved else [],
        "excluded_counts": dict(report.excluded_counts),
        "duplicates": len(report.duplicates),
    }


def _summary_json(report: ImportReport, saved: PersistReport | None) -> dict[str, Any]:
    return {
        "rows_read": report.rows_read, "rows_imported": report.rows_imported, "skipped": len(report.skipped),
        "excluded": sum(report.excluded_counts.values()), "warnings": len(report.warnings),
        "created": saved.created if saved else 0, "updated": saved.updated if saved else 0,
        "unchanged": saved.unchanged if saved else 0, "conflicts": len(saved.conflicts) if saved else 0,
        "aborted": report.aborted, "file_error": bool(report.file_errors), "encoding": report.encoding,
        "variant": report.variant, "delimiter": report.delimiter,
    }


def run_job(database: Database, actor: Actor, job_id: str, content: bytes, *,
            gazetteer: Gazetteer | None = None) -> JobView:
    """Read, validate and save one queued job; always leaves the job in a final status."""
    with database.read() as session:
        row = session.get(SportImportJob, job_id)
        if row is None:
            raise NotFound("Import job not found.")
        file_format, all_or_nothing, total = row.file_format, row.all_or_nothing, row.rows_total
        encoding = row.encoding
    try:
        with _heartbeat(database, job_id):
            _set(database, job_id, status="reading", started_at=utcnow(), heartbeat_at=utcnow())

            def progress(done: int, _total: int | None) -> None:
                _set(database, job_id, rows_done=done, heartbeat_at=utcnow())

            result = import_structures(content, file_format, gazetteer or get_gazetteer(),  # type: ignore[arg-type]
                                       encoding=encoding, all_or_nothing=all_or_nothing, progress=progress,
                                       total=total)
            report = result.report
            if report.file_errors or report.aborted:
                _set(database, job_id, status="rejected", rows_done=report.rows_read, finished_at=utcnow(),
                     summary=_summary_json(report, None), report=_report_json(report, None))
            else:
                _set(database, job_id, status="saving", rows_done=report.rows_read, heartbeat_at=utcnow())
                saved = persist_import(database, actor, result, f"import job {job_id}")
                _set(database, job_id, status="done", finished_at=utcnow(), summary=_summary_json(report, saved),
                     report=_report_json(report, saved))
    except Exception:
        _LOG.exception("directory import job %s failed", job_id)
        _set(database, job_id, status="failed", error=CRASHED, finished_at=utcnow())
    return get_job(database, job_id)


def get_job(database: Database, job_id: str) -> JobView:
    with database.read() as session:
        row = session.get(SportImportJob, job_id)
        if row is None:
            raise NotFound("Import job not found.")
        return _view(row, utcnow())


def list_jobs(database: Database, limit: int = 20) -> list[JobView]:
    now = utcnow()
    with database.read() as session:
        rows = session.scalars(select(SportImportJob).order_by(SportImportJob.created_at.desc(),
                                                               SportImportJob.id).limit(limit))
        return [_view(row, now) for row in rows]


def job_report(database: Database, job_id: str, limit: int = MAX_REPORT_ITEMS) -> JobReport:
    """The job and its report; at most ``limit`` skipped rows and warnings (the totals stay exact)."""
    with database.read() as session:
        row = session.get(SportImportJob, job_id)
        if row is None:
            raise NotFound("Import job not found.")
        job = _view(row, utcnow())
        raw = dict(row.report or {})
    return JobReport(
        job=job,
        skipped=[SkippedView(item["line"], item.get("source_ref"), [(field, message) for field, message in
                                                                      item.get("reasons", [])])
                 for item in raw.get("skipped", [])[:limit]],
        skipped_total=int(raw.get("skipped_total", 0)),
        warnings=[(int(line), str(message)) for line, message in raw.get("warnings", [])[:limit]],
        warnings_total=int(raw.get("warnings_total", 0)),
        file_errors=[(int(line), str(message)) for line, message in raw.get("file_errors", [])],
        conflicts=[str(item) for item in raw.get("conflicts", [])],
        excluded_counts={str(key): int(value) for key, value in raw.get("excluded_counts", {}).items()},
        duplicates=int(raw.get("duplicates", 0)),
    )
