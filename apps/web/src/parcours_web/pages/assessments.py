"""Entering a rating scale for a patient, the result page, and acknowledging safety alerts."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath, FromQuery

from parcours_web.auth.roles import CLINICAL
from parcours_web.charts import build_chart
from parcours_web.context import app_context, current_actor
from parcours_web.forms import Form
from parcours_web.pages._routing import call, page_get, page_post, see_other
from parcours_web.rendering import render
from shared_core.errors import FieldError, NotFound, ValidationFailed
from shared_core.scales import ScaleDefinition
from shared_core.services import assessments, patients


def item_values(form: Form, definition: ScaleDefinition) -> tuple[list[int | None], list[FieldError]]:
    """Read ``item_1`` .. ``item_n``; a blank item is None (the scale engine decides if that is allowed)."""
    values: list[int | None] = []
    errors: list[FieldError] = []
    for item in definition.items:
        raw = form.get(f"item_{item.number}")
        if raw is None:
            values.append(None)
            continue
        try:
            values.append(int(raw))
        except ValueError:
            values.append(None)
            errors.append(FieldError(f"items[{item.number - 1}]", f"item {item.number}: not a whole number"))
    return values, errors


def _definition(request: Request[Any, Any, Any], code: FromPath[str] | None) -> ScaleDefinition | None:
    if not code:
        return None
    try:
        return app_context(request).catalogue.get(code)
    except KeyError:
        raise NotFound(f"Unknown scale: {code}") from None


@page_get("/patients/{patient_id:str}/assessments/new", CLINICAL)
async def assessment_new(request: Request[Any, Any, Any], patient_id: FromPath[str],
                         scale: FromQuery[str | None] = None) -> Response[Any]:
    context = app_context(request)
    patient = await call(patients.get_patient, context.database, current_actor(request), patient_id)
    return render(request, "assessments/form.html", patient, definition=_definition(request, scale),
                  catalogue=context.catalogue, values={}, errors=[])


@page_post("/patients/{patient_id:str}/assessments", CLINICAL)
async def assessment_create(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    context = app_context(request)
    form = await Form.read(request)
    definition = _definition(request, form.get("scale"))
    if definition is None:
        raise ValidationFailed([FieldError("scale", "Choose a scale.")])
    values, errors = item_values(form, definition)
    actor = current_actor(request)
    try:
        if errors:
            raise ValidationFailed(errors)
        created = await call(assessments.record_assessment, context.database, actor, context.catalogue,
                             patient_id, definition.code, values, source="clinician")
    except ValidationFailed as failure:
        patient = await call(patients.get_patient, context.database, actor, patient_id)
        return render(request, "assessments/form.html", patient, status=422, definition=definition,
                      catalogue=context.catalogue, values=form.as_dict(), errors=failure.errors)
    return see_other(f"/patients/{patient_id}/assessments/{created.id}")


@page_get("/patients/{patient_id:str}/assessments/{assessment_id:str}", CLINICAL)
async def assessment_page(request: Request[Any, Any, Any], patient_id: FromPath[str],
                          assessment_id: FromPath[str]) -> Response[Any]:
    context = app_context(request)
    detail = await call(assessments.get_assessment, context.database, current_actor(request), context.catalogue,
                        patient_id, assessment_id)
    definition = context.catalogue.get(detail.assessment.scale_code)
    return render(request, "assessments/result.html", detail, definition=definition,
                  chart=build_chart(definition, detail.points))


@page_post("/patients/{patient_id:str}/alerts/{alert_id:str}/acknowledge", CLINICAL)
async def alert_acknowledge(request: Request[Any, Any, Any], patient_id: FromPath[str],
                            alert_id: FromPath[str]) -> Response[Any]:
    form = await Form.read(request)
    await call(assessments.acknowledge_alert, app_context(request).database, current_actor(request), patient_id,
               alert_id, form.get("note") or "")
    return see_other(f"/patients/{patient_id}#alerts")


ROUTES = [assessment_new, assessment_create, assessment_page, alert_acknowledge]
