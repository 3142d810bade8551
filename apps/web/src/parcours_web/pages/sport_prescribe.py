"""The sport bridge, prescriber side (product journey 7): eligibility, limitation level and APA
prescription, structure search, consent, sending, and the referral's follow-up (status, reports)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath, FromQuery

from parcours_web import sport_labels
from parcours_web.auth.roles import CLINICAL, PSYCHIATRIST
from parcours_web.context import app_context, current_actor, require_principal
from parcours_web.forms import Form
from parcours_web.pages._routing import call, page_get, page_post, see_other
from parcours_web.rendering import render as base_render
from shared_core.errors import FieldError, ValidationFailed
from shared_core.rules.consent import COLLECTION_MODES, GRANTORS
from shared_core.rules.workflow import SPORT_CANCEL_REASONS
from sport_referral import referral_service as sport
from sport_referral.catalogue.loader_sport import load_limitation_catalogue, load_prescription_settings
from sport_referral.model.eligibility import AUTONOMY_CRITERIA, RISK_FACTORS
from sport_referral.model.structures import ACTIVITY_TYPES, DISABILITY_FAMILIES, STRUCTURE_KINDS
from sport_referral.referral_forms import ELIGIBILITY_QUESTIONS, INTENSITIES, NEED_FEATURES
from sport_referral.rules.prescription import prescription_defaults

SIGNING = frozenset({PSYCHIATRIST})



def render(request: Request[Any, Any, Any], template: str, view: Any = None, *, status: int = 200,
           **extra: Any) -> Response[str]:
    return base_render(request, template, view, status=status, labels=sport_labels, **extra)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


async def _values(request: Request[Any, Any, Any]) -> dict[str, list[str]]:
    """The raw multi-valued form: checkboxes repeat a name."""
    form = await request.form()
    values: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            values.setdefault(key, []).append(value)
    return values


def _form_context() -> dict[str, Any]:
    return {
        "questions": ELIGIBILITY_QUESTIONS, "risk_factors": RISK_FACTORS, "autonomy_criteria": AUTONOMY_CRITERIA,
        "criteria": load_limitation_catalogue().criteria, "levels": ("none", "minimal", "moderate"),
        "activity_types": ACTIVITY_TYPES, "intensities": INTENSITIES, "structure_kinds": STRUCTURE_KINDS,
        "families": DISABILITY_FAMILIES, "need_features": NEED_FEATURES,
    }


def _defaults(today: dt.date) -> dict[str, list[str]]:
    """P-7 pre-filled values (editable); eligibility answers are never pre-filled (§2.1)."""
    d = prescription_defaults(load_prescription_settings())
    return {
        "prescribed_on": [today.isoformat()], "sessions_per_week_min": [str(d.sessions_per_week_min)],
        "sessions_per_week_max": [str(d.sessions_per_week_max)], "session_minutes_min": [str(d.session_minutes_min)],
        "session_minutes_max": [str(d.session_minutes_max)], "programme_months": [str(d.programme_months)],
        "activity_types": list(d.activity_types), "intensity": [d.intensity], "renewable": ["on"],
    }


@page_get("/patients/{patient_id:str}/sport", CLINICAL)
async def sport_overview(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    overview = await call(sport.patient_sport_overview, app_context(request).database, current_actor(request),
                          patient_id)
    return render(request, "sport/overview.html", overview)


@page_get("/patients/{patient_id:str}/sport/prescribe", CLINICAL)
async def prescribe_form(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    overview = await call(sport.patient_sport_overview, app_context(request).database, current_actor(request),
                          patient_id)
    values = _defaults(_today())
    return render(request, "sport/prescribe.html", overview, values=values, errors=[],
                  assessment=sport.assess_form(values, today=_today()), **_form_context())


@page_post("/patients/{patient_id:str}/sport/prescribe/preview", CLINICAL)
async def prescribe_preview(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    """Live eligibility, limitation level and C-5 warnings as the form changes (htmx; always 200)."""
    database, actor = app_context(request).database, current_actor(request)
    values = await _values(request)
    assessment = await call(sport.assess_form_for, database, actor, patient_id, values, today=_today())
    return render(request, "sport/_assessment.html", None, assessment=assessment,
                  criteria=load_limitation_catalogue().criteria)


@page_post("/patients/{patient_id:str}/sport/prescribe", SIGNING)
async def prescribe_sign(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    database, actor = app_context(request).database, current_actor(request)
    values = await _values(request)
    try:
        prescription_id = await call(sport.create_prescription, database, actor, patient_id, values,
                                     prescriber_name=require_principal(request).display_name, today=_today())
    except ValidationFailed as failure:
        overview = await call(sport.patient_sport_overview, database, actor, patient_id)
        return render(request, "sport/prescribe.html", overview, status=422, values=values, errors=failure.errors,
                      assessment=sport.assess_form(values, today=_today()), **_form_context())
    return see_other(f"/sport/prescriptions/{prescription_id}")


def _radius(raw: str | None) -> tuple[float | None, list[FieldError]]:
    if not raw:
        return None, []
    try:
        return float(raw), []
    except ValueError:
        return None, [FieldError("radius_km", "Enter a number.")]


@page_get("/sport/prescriptions/{prescription_id:str}", CLINICAL)
async def prescription_view(request: Request[Any, Any, Any], prescription_id: FromPath[str],
                            radius_km: FromQuery[str | None] = None, name: FromQuery[str] = "") -> Response[Any]:
    radius, errors = _radius(radius_km)
    page = await call(sport.prescription_page, app_context(request).database, current_actor(request),
                      prescription_id, today=_today(), radius_km=radius, name=name[:100])
    return render(request, "sport/prescription.html", page, radius_km=radius_km or "", name=name[:100], errors=errors,
                  criteria=load_limitation_catalogue().criteria)


@page_get("/sport/prescriptions/{prescription_id:str}/print", CLINICAL)
async def prescription_print(request: Request[Any, Any, Any], prescription_id: FromPath[str]) -> Response[Any]:
    page = await call(sport.prescription_page, app_context(request).database, current_actor(request),
                      prescription_id, today=_today(), with_search=False)
    return render(request, "sport/prescription_print.html", page)


@page_post("/sport/prescriptions/{prescription_id:str}/referrals", SIGNING)
async def referral_create(request: Request[Any, Any, Any], prescription_id: FromPath[str]) -> Response[Any]:
    form = await Form.read(request)
    referral_id = await call(sport.create_referral_draft, app_context(request).database, current_actor(request),
                             prescription_id, form.get("structure_id") or "")
    return see_other(f"/sport/referrals/{referral_id}")


async def _referral_page(request: Request[Any, Any, Any], referral_id: str, *, status: int = 200,
                         errors: list[FieldError] | None = None, conflict: str | None = None,
                         values: dict[str, Any] | None = None) -> Response[Any]:
    page = await call(sport.prescriber_referral, app_context(request).database, current_actor(request), referral_id)
    return render(request, "sport/referral.html", page, status=status, errors=errors or [], conflict=conflict,
                  values=values or {}, grantors=GRANTORS, collection_modes=COLLECTION_MODES,
                  consent_scopes=sport.REFERRAL_CONSENT_SCOPES, cancel_reasons=SPORT_CANCEL_REASONS)


@page_get("/sport/referrals/{referral_id:str}", CLINICAL)
async def referral_view(request: Request[Any, Any, Any], referral_id: FromPath[str]) -> Response[Any]:
    return await _referral_page(request, referral_id)


def _version(form: Form) -> int:
    raw = form.get("version") or ""
    return int(raw) if raw.isdigit() else -1


@page_post("/sport/referrals/{referral_id:str}/consent", CLINICAL)
async def referral_consent(request: Request[Any, Any, Any], referral_id: FromPath[str]) -> Response[Any]:
    form = await Form.read(request)
    try:
        await call(sport.record_referral_consents, app_context(request).database, current_actor(request),
                   referral_id, scopes=form.getall("scopes"), granted_by=form.get("granted_by"),
                   collection_mode=form.get("collection_mode"))
    except ValidationFailed as failure:
        return await _referral_page(request, referral_id, status=422, errors=failure.errors, values=form.as_dict())
    return see_other(f"/sport/referrals/{referral_id}")


@page_post("/sport/referrals/{referral_id:str}/send", SIGNING)
async def referral_send(request: Request[Any, Any, Any], referral_id: FromPath[str]) -> Response[Any]:
    form = await Form.read(request)
    try:
        await call(sport.send, app_context(request).database, current_actor(request), referral_id, _version(form))
    except ValidationFailed as failure:
        return await _referral_page(request, referral_id, status=422, errors=failure.errors)
    return see_other(f"/sport/referrals/{referral_id}")


@page_post("/sport/referrals/{referral_id:str}/cancel", SIGNING)
async def referral_cancel(request: Request[Any, Any, Any], referral_id: FromPath[str]) -> Response[Any]:
    form = await Form.read(request)
    try:
        await call(sport.cancel_by_prescriber, app_context(request).database, current_actor(request), referral_id,
                   _version(form), reason_code=form.get("reason_code"), reason_text=form.get("reason_text"))
    except ValidationFailed as failure:
        return await _referral_page(request, referral_id, status=422, errors=failure.errors, values=form.as_dict())
    return see_other(f"/sport/referrals/{referral_id}")


@page_post("/sport/referrals/{referral_id:str}/consents/{consent_id:str}/withdraw", CLINICAL)
async def referral_consent_withdraw(request: Request[Any, Any, Any], referral_id: FromPath[str],
                                    consent_id: FromPath[str]) -> Response[Any]:
    await call(sport.withdraw_referral_consent, app_context(request).database, current_actor(request), referral_id,
               consent_id)
    return see_other(f"/sport/referrals/{referral_id}")


ROUTES = [sport_overview, prescribe_form, prescribe_preview, prescribe_sign, prescription_view, prescription_print,
          referral_create, referral_view, referral_consent, referral_send, referral_cancel, referral_consent_withdraw]
