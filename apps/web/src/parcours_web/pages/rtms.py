"""rTMS triage for a patient: the form, the live proposal (htmx) and the physician's decision."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from parcours_web.auth.roles import CLINICAL, PSYCHIATRIST
from parcours_web.context import app_context, current_actor
from parcours_web.forms import Form
from parcours_web.pages._routing import call, page_get, page_post, see_other
from parcours_web.rendering import render
from rtms_pathway import service as rtms
from rtms_pathway.catalogue.loader_clinical import load_clinical_catalogues
from shared_core.errors import FieldError, ValidationFailed
from shared_core.services import patients

# Only the physician signs a triage decision (domain-rtms §0.3).
SIGNING = frozenset({PSYCHIATRIST})
BOOLEANS = ("psychotic_features", "catatonia", "anxiety_comorbidity", "mood_stabilizer")
CHOICES = ("diagnosis", "suicide_risk", "patient_preference")
NUMBERS = ("failed_adequate_trials", "episode_months")
SUBSTANCES = ("alcohol", "cannabis", "opioids", "stimulants", "other")
DIAGNOSES = ("unipolar", "bipolar_i", "bipolar_ii")
SUICIDE_RISKS = ("none", "low", "moderate", "high_urgent")
PREFERENCES = ("none", "rtms", "ect")


def triage_body(form: Form) -> dict[str, Any]:
    """The contract body from the form; a blank answer is left out so the validator names it."""
    body: dict[str, Any] = {}
    for name in BOOLEANS:
        value = form.get(name)
        if value in ("yes", "no"):
            body[name] = value == "yes"
    for name in CHOICES:
        if (value := form.get(name)) is not None:
            body[name] = value
    for name in NUMBERS:
        if (value := form.get(name)) is not None:
            body[name] = int(value) if value.isdigit() else value
    body["substance_use"] = form.getall("substance_use")
    body["safety_findings"] = form.getall("safety_findings")
    body["medications"] = [m.strip().lower() for m in re.split(r"[,;\n]", form.get("medications") or "") if m.strip()]
    return body


def _page_context() -> dict[str, Any]:
    catalogues = load_clinical_catalogues()
    return {"screening_items": catalogues.screening.items, "precaution_definitions": catalogues.settings.precautions,
            "diagnoses": DIAGNOSES, "suicide_risks": SUICIDE_RISKS, "preferences": PREFERENCES,
            "substances": SUBSTANCES, "booleans": BOOLEANS, "orientations": rtms.ORIENTATIONS}


@page_get("/patients/{patient_id:str}/triage", CLINICAL)
async def triage_page(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    database, actor = app_context(request).database, current_actor(request)
    # One page view, one audit row: the triage history's read records it.
    patient = await call(patients.get_patient, database, actor, patient_id, audited=False)
    history = await call(rtms.triage_history, database, actor, patient_id)
    return render(request, "rtms/triage.html", patient, history=history, values={}, checked={}, errors=[],
                  proposal=None, missing=[], **_page_context())


@page_post("/patients/{patient_id:str}/triage/preview", CLINICAL)
async def triage_preview(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    """Live recomputation as the form changes: always 200 so htmx swaps in what is still missing."""
    database, actor = app_context(request).database, current_actor(request)
    body = triage_body(await Form.read(request))
    try:
        proposal = await call(rtms.propose_triage_for, database, actor, patient_id, body)
    except ValidationFailed as failure:
        return render(request, "rtms/_triage_result.html", None, proposal=None, missing=failure.errors,
                      **_page_context())
    return render(request, "rtms/_triage_result.html", None, proposal=proposal, missing=[], **_page_context())


@page_post("/patients/{patient_id:str}/triage", SIGNING)
async def triage_decide(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    database, actor = app_context(request).database, current_actor(request)
    form = await Form.read(request)
    body = triage_body(form)
    try:
        await call(rtms.record_triage, database, actor, patient_id, body,
                   override_orientation=form.get("override_orientation"), override_reason=form.get("override_reason"))
    except ValidationFailed as failure:
        patient = await call(patients.get_patient, database, actor, patient_id, audited=False)
        history = await call(rtms.triage_history, database, actor, patient_id)
        try:
            proposal = rtms.propose_triage(body)
        except ValidationFailed:
            proposal = None
        checked = {"substance_use": form.getall("substance_use"), "safety_findings": form.getall("safety_findings")}
        errors: list[FieldError] = failure.errors
        return render(request, "rtms/triage.html", patient, status=422, history=history, values=form.as_dict(),
                      checked=checked, errors=errors, proposal=proposal, missing=[], **_page_context())
    return see_other(f"/patients/{patient_id}/triage")


ROUTES = [triage_page, triage_preview, triage_decide]
