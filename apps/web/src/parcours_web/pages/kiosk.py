"""Kiosk pages: the clinician opens a pass; the tablet answers with the pass token only."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from parcours_web import kiosk
from parcours_web.auth.roles import CLINICAL, PUBLIC
from parcours_web.context import app_context, current_actor, translator_for
from parcours_web.forms import Form
from parcours_web.pages._routing import call, page_get, page_post, see_other
from parcours_web.pages.assessments import item_values
from parcours_web.rendering import render
from shared_core.errors import NotFound, ValidationFailed
from shared_core.services import patients


@page_get("/patients/{patient_id:str}/kiosk", CLINICAL)
async def kiosk_new(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    context = app_context(request)
    patient = await call(patients.get_patient, context.database, current_actor(request), patient_id)
    scales = kiosk.kiosk_scales(context.catalogue, translator_for(request).locale)
    return render(request, "kiosk/new.html", patient, scales=scales, catalogue=context.catalogue, errors=[],
                  link=None)


@page_post("/patients/{patient_id:str}/kiosk", CLINICAL)
async def kiosk_open(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    context = app_context(request)
    form = await Form.read(request)
    locale = translator_for(request).locale
    actor = current_actor(request)
    patient = await call(patients.get_patient, context.database, actor, patient_id)
    scales = kiosk.kiosk_scales(context.catalogue, locale)
    try:
        link = await call(kiosk.open_pass, context.database, actor, context.catalogue, patient_id,
                          form.getall("scales"), context.settings.kiosk_minutes, locale)
    except ValidationFailed as failure:
        return render(request, "kiosk/new.html", patient, status=422, scales=scales, catalogue=context.catalogue,
                      errors=failure.errors, link=None)
    return render(request, "kiosk/new.html", patient, scales=scales, catalogue=context.catalogue, errors=[],
                  link=link)


@page_get("/kiosk/{token:str}", PUBLIC)
async def kiosk_form(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[Any]:
    context = app_context(request)
    state = await call(kiosk.kiosk_state, context.database, token)
    definition = context.catalogue.get(state.next_scale) if state.next_scale else None
    return render(request, "kiosk/form.html", state, definition=definition, token=token, errors=[], values={},
                  crisis=False)


@page_post("/kiosk/{token:str}", PUBLIC)
async def kiosk_submit(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[Any]:
    context = app_context(request)
    form = await Form.read(request)
    state = await call(kiosk.kiosk_state, context.database, token)
    if state.next_scale is None:
        raise NotFound("This questionnaire link has expired or was already used.")
    if form.get("scale") != state.next_scale:
        return see_other(f"/kiosk/{token}")
    definition = context.catalogue.get(state.next_scale)
    values, errors = item_values(form, definition)
    try:
        if errors:
            raise ValidationFailed(errors)
        alerts = await call(kiosk.submit, context.database, context.catalogue, token, definition.code, values)
    except ValidationFailed as failure:
        return render(request, "kiosk/form.html", state, status=422, definition=definition, token=token,
                      errors=failure.errors, values=form.as_dict(), crisis=False)
    if alerts:
        # R-SCL-06: the patient sees the crisis numbers at once, not after the clinician reads the alert.
        state = await call(kiosk.kiosk_state, context.database, token)
        return render(request, "kiosk/form.html", state, definition=None, token=token, errors=[], values={},
                      crisis=True)
    return see_other(f"/kiosk/{token}")


ROUTES = [kiosk_new, kiosk_open, kiosk_form, kiosk_submit]
