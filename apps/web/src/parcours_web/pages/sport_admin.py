"""Directory administration (admins): the structures list, a structure's page with its organisation
link, and the directory import with a progress bar (htmx polling of a progress fragment).

The import runs in a background thread (``sport_referral.import_jobs.run_job``); its progress and
report live in the database, so a reload or another tab shows the same job.
"""

from __future__ import annotations

import csv
import io
import threading
from typing import Any

from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery

from parcours_web import directory_labels
from parcours_web.auth.roles import ADMIN
from parcours_web.context import app_context, current_actor
from parcours_web.forms import Form
from parcours_web.pages._routing import call, page_get, page_post, see_other
from parcours_web.rendering import is_htmx, render
from shared_core.actors import Actor
from shared_core.db import Database
from shared_core.errors import Conflict, ValidationFailed
from shared_core.services import organisations
from sport_referral import directory_admin, import_jobs
from sport_referral.model.structures import ACCESS_FEATURES, STRUCTURE_KINDS

ADMINS = frozenset({ADMIN})
PAGE_REPORT_ROWS = 500
FORMAT_LABELS = {"dataes": "Data ES (national sports equipment, CSV)",
                 "finess": "FINESS extraction (CSV)",
                 "parcours": "Parcours directory format (CSV or JSON)"}


def _render(request: Request[Any, Any, Any], template: str, view: Any, **extra: Any) -> Response[Any]:
    return render(request, template, view, labels=directory_labels, **extra)


def _filters(q: str, kind: str, department: str, accepting: str, linked: str) -> directory_admin.StructureFilter:
    return directory_admin.StructureFilter(query=q[:100], kind=kind, department=department, accepting=accepting,
                                           linked=linked)


@page_get("/admin/sport/structures", ADMINS)
async def structure_list(request: Request[Any, Any, Any], q: FromQuery[str] = "", kind: FromQuery[str] = "",
                         department: FromQuery[str] = "", accepting: FromQuery[str] = "", linked: FromQuery[str] = "",
                         page: FromQuery[int] = 1) -> Response[Any]:
    result = await call(directory_admin.search_structures, app_context(request).database,
                        _filters(q, kind, department, accepting, linked), page)
    if is_htmx(request) and request.headers.get("hx-target") == "structure-results":
        return _render(request, "sport_admin/_structure_results.html", result)
    return _render(request, "sport_admin/structures.html", result, kinds=STRUCTURE_KINDS)


async def _structure_page(request: Request[Any, Any, Any], structure_id: str, *, status: int = 200,
                          errors: list[Any] | None = None, conflict: str | None = None,
                          saved: bool = False) -> Response[Any]:
    database = app_context(request).database
    detail = await call(directory_admin.structure_detail, database, structure_id)
    orgs = await call(organisations.list_organisations, database)
    return _render(request, "sport_admin/structure.html", detail, status=status, organisations=orgs,
                  errors=errors or [], conflict=conflict, saved=saved, access_features=ACCESS_FEATURES)


@page_get("/admin/sport/structures/{structure_id:str}", ADMINS)
async def structure_page(request: Request[Any, Any, Any], structure_id: FromPath[str],
                         saved: FromQuery[int] = 0) -> Response[Any]:
    return await _structure_page(request, structure_id, saved=bool(saved))


@page_post("/admin/sport/structures/{structure_id:str}/organisation", ADMINS)
async def structure_link(request: Request[Any, Any, Any], structure_id: FromPath[str]) -> Response[Any]:
    form = await Form.read(request)
    version_text = form.get("version") or ""
    version = int(version_text) if version_text.isdigit() else -1
    try:
        await call(directory_admin.link_structure, app_context(request).database, current_actor(request),
                   structure_id, form.get("organisation_id"), version)
    except ValidationFailed as failure:
        return await _structure_page(request, structure_id, status=422, errors=failure.errors)
    except Conflict as conflict:
        return await _structure_page(request, structure_id, status=409, conflict=conflict.message)
    return see_other(f"/admin/sport/structures/{structure_id}?saved=1")


async def _imports_page(request: Request[Any, Any, Any], *, status: int = 200, errors: list[Any] | None = None,
                        conflict: str | None = None, values: dict[str, Any] | None = None) -> Response[Any]:
    jobs = await call(import_jobs.list_jobs, app_context(request).database)
    return _render(request, "sport_admin/imports.html", jobs, status=status, errors=errors or [], conflict=conflict,
                   values=values or {"file_format": "parcours"}, formats=FORMAT_LABELS,
                   encodings=import_jobs.ENCODINGS)


@page_get("/admin/sport/imports", ADMINS)
async def imports_page(request: Request[Any, Any, Any]) -> Response[Any]:
    return await _imports_page(request)


def _run_in_background(database: Database, actor: Actor, job_id: str, content: bytes) -> None:
    """The job owns its status from here on; the request returns at once."""
    thread = threading.Thread(target=import_jobs.run_job, args=(database, actor, job_id, content),
                              name=f"import-{job_id}", daemon=True)
    thread.start()


@page_post("/admin/sport/imports", ADMINS)
async def import_start(request: Request[Any, Any, Any]) -> Response[Any]:
    form = await request.form()
    upload = form.get("file")
    file_format = form.get("file_format")
    file_format = file_format if isinstance(file_format, str) else ""
    all_or_nothing = form.get("all_or_nothing") in ("on", "true", "1")
    encoding_choice = form.get("encoding")
    encoding = encoding_choice if isinstance(encoding_choice, str) and encoding_choice else None
    content, file_name = b"", ""
    if isinstance(upload, UploadFile):
        content = await upload.read(import_jobs.MAX_FILE_BYTES + 1)
        file_name = upload.filename or ""
    values = {"file_format": file_format, "all_or_nothing": all_or_nothing, "encoding": encoding or ""}
    database, actor = app_context(request).database, current_actor(request)
    try:
        job = await call(import_jobs.create_job, database, actor, file_name=file_name, file_format=file_format,
                         all_or_nothing=all_or_nothing, content=content, encoding=encoding)
    except ValidationFailed as failure:
        return await _imports_page(request, status=422, errors=failure.errors, values=values)
    except Conflict as conflict:
        return await _imports_page(request, status=409, conflict=conflict.message, values=values)
    _run_in_background(database, actor, job.id, content)
    return see_other(f"/admin/sport/imports/{job.id}")


@page_get("/admin/sport/imports/{job_id:str}", ADMINS)
async def import_page(request: Request[Any, Any, Any], job_id: FromPath[str]) -> Response[Any]:
    report = await call(import_jobs.job_report, app_context(request).database, job_id,
                        PAGE_REPORT_ROWS)
    return _render(request, "sport_admin/import_job.html", report, formats=FORMAT_LABELS)


@page_get("/admin/sport/imports/{job_id:str}/progress", ADMINS)
async def import_progress(request: Request[Any, Any, Any], job_id: FromPath[str]) -> Response[Any]:
    """The polled fragment: a progress bar while the job runs, then its outcome and report."""
    report = await call(import_jobs.job_report, app_context(request).database, job_id,
                        PAGE_REPORT_ROWS)
    return _render(request, "sport_admin/_job_status.html", report)


@page_get("/admin/sport/imports/{job_id:str}/report.csv", ADMINS)
async def import_report_csv(request: Request[Any, Any, Any], job_id: FromPath[str]) -> Response[Any]:
    """Every kept line of the report (skipped rows with each reason, warnings, file errors) as CSV."""
    report = await call(import_jobs.job_report, app_context(request).database, job_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["line", "kind", "source_ref", "field", "message"])
    for line, message in report.file_errors:
        writer.writerow([line, "file_error", "", "", message])
    for row in report.skipped:
        for field, message in row.reasons or [(None, "")]:
            writer.writerow([row.line, "skipped", row.source_ref or "", field or "", message])
    for conflict in report.conflicts:
        writer.writerow(["", "conflict", "", "", conflict])
    for line, message in report.warnings:
        writer.writerow([line, "warning", "", "", message])
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="rapport-import-{report.job.id}.csv"'})


ROUTES = [structure_list, structure_page, structure_link, imports_page, import_start, import_page, import_progress,
          import_report_csv]
