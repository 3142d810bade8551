"""rTMS referrals: the referrer's own referrals (/referrals) and the centre's intake queue (/intake).

A referrer reads only the referrals they sent (the service answers 404 for any other); the centre's
clinicians read the referrals addressed to their centre. Every read is audited by the service.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath, FromQuery

from parcours_web.auth.roles import CLINICAL, REFERRER
from parcours_web.context import app_context, current_actor, require_principal
from parcours_web.forms import Form
from parcours_web.pages._routing import call, page_get, page_post, see_other
from parcours_web.pages.pathway import signer_name
from parcours_web.rendering import is_htmx, render
from rtms_pathway import intake_service as intake
from rtms_pathway import outcome_service as outcomes
from rtms_pathway.catalogue.loader_clinical import load_clinical_catalogues
from shared_core.errors import FieldError, ValidationFailed

REFERRERS = frozenset({REFERRER})
FORM_FIELDS = ("recipient_organisation_id", "patient_id", "referrer_name", "family_name", "given_names", "birth_date",
               "sex", "ins", "episode_start", "reason", "clinical_summary", "current_treatment", "past_trials",
               "question", "urgency")


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _labels() -> dict[str, Any]:
    """What every intake template needs to name statuses, urgencies and precautions."""
    return {"states": {state.code: state for state in intake.WORKFLOW.states}, "urgencies": intake.URGENCIES,
            "precaution_definitions": load_clinical_catalogues().settings.precautions}


def _version(form: Form) -> int:
    text = form.get("version") or ""
    return int(text) if text.isdigit() else -1


# -- referrer --------------------------------------------------------------------------------


@page_get("/referrals", REFERRERS)
async def referral_list(request: Request[Any, Any, Any]) -> Response[Any]:
    rows = await call(intake.referrer_referrals, app_context(request).database, current_actor(request))
    return render(request, "rtms/intake/referrer_list.html", rows, **_labels())


@page_get("/referrals/new", REFERRERS)
async def referral_new(request: Request[Any, Any, Any]) -> Response[Any]:
    centres = await call(intake.recipient_centres, app_context(request).database)
    values: dict[str, str | None] = {"urgency": "routine"}
    if len(centres) == 1:
        values["recipient_organisation_id"] = centres[0].id
    return render(request, "rtms/intake/form.html", None, values=values, errors=[], centres=centres, by_centre=False,
                  action="/referrals", **_labels())


async def _create(request: Request[Any, Any, Any], *, by_centre: bool) -> Response[Any]:
    database, actor = app_context(request).database, current_actor(request)
    form = await Form.read(request)
    values = {name: form.get(name) for name in FORM_FIELDS}
    if not by_centre:
        values["referrer_name"] = require_principal(request).display_name
    try:
        data = intake.parse_referral_input(values, _today(), by_centre=by_centre)
        referral_id = await call(intake.create_referral, database, actor, data)
    except ValidationFailed as failure:
        centres = [] if by_centre else await call(intake.recipient_centres, database)
        errors: list[FieldError] = failure.errors
        return render(request, "rtms/intake/form.html", None, status=422, values=values, errors=errors,
                      centres=centres, by_centre=by_centre, action="/intake" if by_centre else "/referrals",
                      **_labels())
    return see_other(f"/intake/{referral_id}" if by_centre else f"/referrals/{referral_id}")


@page_post("/referrals", REFERRERS)
async def referral_create(request: Request[Any, Any, Any]) -> Response[Any]:
    return await _create(request, by_centre=False)


@page_get("/referrals/{referral_id:str}", REFERRERS)
async def referral_page(request: Request[Any, Any, Any], referral_id: FromPath[str]) -> Response[Any]:
    view = await call(intake.referrer_referral, app_context(request).database, current_actor(request), referral_id)
    return render(request, "rtms/intake/referrer_page.html", view, errors=[], values={},
                  cancel_reasons=intake.WORKFLOW.transition(view.status, "cancelled").reason_codes  # type: ignore[union-attr]
                  if view.can_cancel else (), **_labels())


@page_post("/referrals/{referral_id:str}/transition", REFERRERS)
async def referral_transition(request: Request[Any, Any, Any], referral_id: FromPath[str]) -> Response[Any]:
    database, actor = app_context(request).database, current_actor(request)
    form = await Form.read(request)
    try:
        await call(intake.referrer_transition, database, actor, referral_id, target=form.get("target") or "",
                   expected_version=_version(form), reason_code=form.get("reason_code"),
                   reason_text=form.get("reason_text"))
    except ValidationFailed as failure:
        view = await call(intake.referrer_referral, database, actor, referral_id)
        return render(request, "rtms/intake/referrer_page.html", view, status=422, errors=failure.errors,
                      values=form.as_dict(),
                      cancel_reasons=intake.WORKFLOW.transition(view.status, "cancelled").reason_codes  # type: ignore[union-attr]
                      if view.can_cancel else (), **_labels())
    return see_other(f"/referrals/{referral_id}")


@page_get("/referrals/{referral_id:str}/letter", REFERRERS)
async def referral_letter(request: Request[Any, Any, Any], referral_id: FromPath[str]) -> Response[Any]:
    database = app_context(request).database
    letter = await call(outcomes.referrer_letter, database, current_actor(request), referral_id)
    return render(request, "rtms/pathway/letter.html", letter, back=f"/referrals/{referral_id}",
                  signer=await call(signer_name, database, letter.outcome.decided_by))


# -- centre ----------------------------------------------------------------------------------


@page_get("/intake", CLINICAL)
async def intake_queue(request: Request[Any, Any, Any], q: FromQuery[str] = "", status: FromQuery[str] = "open",
                       page: FromQuery[int] = 1) -> Response[Any]:
    result = await call(intake.intake_queue, app_context(request).database, current_actor(request), status[:40],
                        q[:100], page)
    if is_htmx(request) and request.headers.get("hx-target") == "intake-results":
        return render(request, "rtms/intake/_queue_results.html", result, **_labels())
    return render(request, "rtms/intake/queue.html", result, **_labels())


@page_get("/intake/new", CLINICAL)
async def intake_new(request: Request[Any, Any, Any], patient: FromQuery[str] = "") -> Response[Any]:
    return render(request, "rtms/intake/form.html", None, values={"urgency": "routine", "patient_id": patient[:32]},
                  errors=[], centres=[], by_centre=True, action="/intake", **_labels())


@page_post("/intake", CLINICAL)
async def intake_create(request: Request[Any, Any, Any]) -> Response[Any]:
    return await _create(request, by_centre=True)


@page_get("/intake/{referral_id:str}", CLINICAL)
async def intake_page(request: Request[Any, Any, Any], referral_id: FromPath[str]) -> Response[Any]:
    view = await call(intake.centre_referral, app_context(request).database, current_actor(request), referral_id)
    return render(request, "rtms/intake/centre_page.html", view, errors=[], values={}, **_labels())


@page_post("/intake/{referral_id:str}/transition", CLINICAL)
async def intake_transition(request: Request[Any, Any, Any], referral_id: FromPath[str]) -> Response[Any]:
    database, actor = app_context(request).database, current_actor(request)
    form = await Form.read(request)
    try:
        await call(intake.centre_transition, database, actor, referral_id, target=form.get("target") or "",
                   expected_version=_version(form), reason_code=form.get("reason_code"),
                   reason_text=form.get("reason_text"))
    except ValidationFailed as failure:
        view = await call(intake.centre_referral, database, actor, referral_id)
        return render(request, "rtms/intake/centre_page.html", view, status=422, errors=failure.errors,
                      values=form.as_dict(), **_labels())
    return see_other(f"/intake/{referral_id}")


ROUTES = [referral_list, referral_new, referral_create, referral_page, referral_transition, referral_letter,
          intake_queue, intake_new, intake_create, intake_page, intake_transition]
