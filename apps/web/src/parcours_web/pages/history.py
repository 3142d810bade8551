"""Treatment history and resistance staging pages: the current episode, the treatment trials and the
medication list of a patient, beside the computed staging and medication review with their reasons.

Psychiatrists edit; operators read the page. Each handler makes one service call (plus a re-render
of the form when the input is refused)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response
from litestar.params import FromPath

from parcours_web.auth.roles import CLINICAL, PSYCHIATRIST
from parcours_web.context import app_context, current_actor
from parcours_web.forms import Form
from parcours_web.history_labels import LABELS
from parcours_web.pages._routing import call, page_get, page_post, see_other
from parcours_web.rendering import render
from rtms_pathway import history_service as histories
from shared_core.errors import Conflict, FieldError, ValidationFailed

PARIS = ZoneInfo("Europe/Paris")
EDITORS = frozenset({PSYCHIATRIST})


def local_today() -> dt.date:
    return dt.datetime.now(PARIS).date()


def _history_path(patient_id: str) -> str:
    return f"/patients/{patient_id}/history"


def _choices() -> dict[str, Any]:
    return {"modalities": histories.MODALITIES, "pharm_classes": histories.PHARM_CLASSES,
            "adherences": histories.ADHERENCES, "outcomes": histories.OUTCOMES,
            "stop_reasons": histories.STOP_REASONS, "lateralities": histories.LATERALITIES,
            "sources": histories.SOURCES, "diagnoses": histories.DIAGNOSES, "severities": histories.SEVERITIES,
            "change_kinds": histories.CHANGE_KINDS, "history_labels": LABELS}


async def _render_history(request: Request[Any, Any, Any], patient_id: str, *, status: int = 200,
                          episode_values: dict[str, str | None] | None = None,
                          episode_errors: list[FieldError] | None = None, conflict: str | None = None,
                          saved: bool = False) -> Response[Any]:
    view = await call(histories.history, app_context(request).database, current_actor(request), patient_id,
                      local_today())
    values: dict[str, str | None] = episode_values if episode_values is not None else _episode_values(view)
    return render(request, "rtms/history/page.html", view, status=status, episode_values=values,
                  episode_errors=episode_errors or [], conflict=conflict, saved=saved, **_choices())


def _episode_values(view: histories.HistoryView) -> dict[str, str | None]:
    episode = view.episode
    if episode is None:
        return {}
    values: dict[str, str | None] = {
        "diagnosis": episode.diagnosis, "severity": episode.severity,
        "started_on": episode.started_on.isoformat() if episode.started_on else None,
        "duration_months": None if episode.duration_months is None else str(episode.duration_months),
        "dtd": None if episode.dtd is None else ("yes" if episode.dtd else "no"),
        "version": str(episode.version),
    }
    for code, present in episode.pseudo_resistance.items():
        values[f"pr_{code}"] = "yes" if present else "no"
    return values


@page_get("/patients/{patient_id:str}/history", CLINICAL)
async def history_page(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    return await _render_history(request, patient_id)


@page_post("/patients/{patient_id:str}/history/episode", EDITORS)
async def episode_save(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    form = await Form.read(request)
    try:
        await call(histories.save_episode, app_context(request).database, current_actor(request), patient_id,
                   form.as_dict(), local_today())
    except ValidationFailed as failure:
        return await _render_history(request, patient_id, status=422, episode_values=form.as_dict(),
                                     episode_errors=failure.errors)
    except Conflict as conflict:
        return await _render_history(request, patient_id, status=409, conflict=conflict.message)
    return see_other(_history_path(patient_id) + "#episode-title")


# --- trials --------------------------------------------------------------------------------------------


async def _trial_form(request: Request[Any, Any, Any], patient_id: str, trial_id: str | None, *,
                      status: int = 200, values: dict[str, str | None] | None = None,
                      errors: list[FieldError] | None = None, conflict: str | None = None) -> Response[Any]:
    name, defaults = await call(histories.trial_defaults, app_context(request).database, current_actor(request),
                                patient_id, trial_id)
    shown: dict[str, str | None] = dict(defaults)
    if values is not None:
        shown = values
    return render(request, "rtms/history/trial_form.html", None, status=status, patient_id=patient_id,
                  patient_name=name, trial_id=trial_id, values=shown, errors=errors or [], conflict=conflict,
                  version=defaults.get("version"), **_choices())


@page_get("/patients/{patient_id:str}/history/trials/new", EDITORS)
async def trial_new(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    return await _trial_form(request, patient_id, None)


@page_get("/patients/{patient_id:str}/history/trials/{trial_id:str}", EDITORS)
async def trial_edit(request: Request[Any, Any, Any], patient_id: FromPath[str],
                     trial_id: FromPath[str]) -> Response[Any]:
    return await _trial_form(request, patient_id, trial_id)


async def _save_trial(request: Request[Any, Any, Any], patient_id: str, trial_id: str | None) -> Response[Any]:
    form = await Form.read(request)
    try:
        await call(histories.save_trial, app_context(request).database, current_actor(request), patient_id,
                   form.as_dict(), trial_id)
    except ValidationFailed as failure:
        return await _trial_form(request, patient_id, trial_id, status=422, values=form.as_dict(),
                                 errors=failure.errors)
    except Conflict as conflict:
        return await _trial_form(request, patient_id, trial_id, status=409, values=form.as_dict(),
                                 conflict=conflict.message)
    return see_other(_history_path(patient_id) + "#trials-title")


@page_post("/patients/{patient_id:str}/history/trials", EDITORS)
async def trial_create(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    return await _save_trial(request, patient_id, None)


@page_post("/patients/{patient_id:str}/history/trials/{trial_id:str}", EDITORS)
async def trial_update(request: Request[Any, Any, Any], patient_id: FromPath[str],
                       trial_id: FromPath[str]) -> Response[Any]:
    return await _save_trial(request, patient_id, trial_id)


@page_post("/patients/{patient_id:str}/history/trials/{trial_id:str}/delete", EDITORS)
async def trial_delete(request: Request[Any, Any, Any], patient_id: FromPath[str],
                       trial_id: FromPath[str]) -> Response[Any]:
    form = await Form.read(request)
    try:
        await call(histories.delete_trial, app_context(request).database, current_actor(request), patient_id,
                   trial_id, form.as_dict())
    except Conflict as conflict:
        return await _render_history(request, patient_id, status=409, conflict=conflict.message)
    return see_other(_history_path(patient_id) + "#trials-title")


@page_post("/patients/{patient_id:str}/history/trial-check", EDITORS)
async def trial_check(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    """Live check as the trial form changes (htmx): always 200, the fragment names what is wrong."""
    form = await Form.read(request)
    check = await call(histories.check_trial, app_context(request).database, current_actor(request), patient_id,
                       form.as_dict())
    return render(request, "rtms/history/_trial_check.html", check, history_labels=LABELS)


# --- medications ------------------------------------------------------------------------------------------


async def _medication_form(request: Request[Any, Any, Any], patient_id: str, medication_id: str | None, *,
                           status: int = 200, values: dict[str, str | None] | None = None,
                           errors: list[FieldError] | None = None, conflict: str | None = None) -> Response[Any]:
    name, defaults = await call(histories.medication_defaults, app_context(request).database,
                                current_actor(request), patient_id, medication_id)
    shown: dict[str, str | None] = dict(defaults)
    if values is not None:
        shown = values
    return render(request, "rtms/history/medication_form.html", None, status=status, patient_id=patient_id,
                  patient_name=name, medication_id=medication_id, values=shown, errors=errors or [],
                  conflict=conflict, version=defaults.get("version"), **_choices())


@page_get("/patients/{patient_id:str}/history/medications/new", EDITORS)
async def medication_new(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    return await _medication_form(request, patient_id, None)


@page_get("/patients/{patient_id:str}/history/medications/{medication_id:str}", EDITORS)
async def medication_edit(request: Request[Any, Any, Any], patient_id: FromPath[str],
                          medication_id: FromPath[str]) -> Response[Any]:
    return await _medication_form(request, patient_id, medication_id)


async def _save_medication(request: Request[Any, Any, Any], patient_id: str,
                           medication_id: str | None) -> Response[Any]:
    form = await Form.read(request)
    try:
        await call(histories.save_medication, app_context(request).database, current_actor(request), patient_id,
                   form.as_dict(), medication_id)
    except ValidationFailed as failure:
        return await _medication_form(request, patient_id, medication_id, status=422, values=form.as_dict(),
                                      errors=failure.errors)
    except Conflict as conflict:
        return await _medication_form(request, patient_id, medication_id, status=409, values=form.as_dict(),
                                      conflict=conflict.message)
    return see_other(_history_path(patient_id) + "#medications-title")


@page_post("/patients/{patient_id:str}/history/medications", EDITORS)
async def medication_create(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    return await _save_medication(request, patient_id, None)


@page_post("/patients/{patient_id:str}/history/medications/{medication_id:str}", EDITORS)
async def medication_update(request: Request[Any, Any, Any], patient_id: FromPath[str],
                            medication_id: FromPath[str]) -> Response[Any]:
    return await _save_medication(request, patient_id, medication_id)


@page_post("/patients/{patient_id:str}/history/medications/{medication_id:str}/delete", EDITORS)
async def medication_delete(request: Request[Any, Any, Any], patient_id: FromPath[str],
                            medication_id: FromPath[str]) -> Response[Any]:
    form = await Form.read(request)
    try:
        await call(histories.delete_medication, app_context(request).database, current_actor(request), patient_id,
                   medication_id, form.as_dict())
    except Conflict as conflict:
        return await _render_history(request, patient_id, status=409, conflict=conflict.message)
    return see_other(_history_path(patient_id) + "#medications-title")


ROUTES = [history_page, episode_save, trial_new, trial_edit, trial_create, trial_update, trial_delete, trial_check,
          medication_new, medication_edit, medication_create, medication_update, medication_delete]
