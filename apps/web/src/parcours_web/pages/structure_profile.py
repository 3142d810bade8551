"""Structure profile (coordinators): the structures of their own organisation only, edited with a
version check; confirming the profile protects it from directory imports (domain-sport §5.5, §6)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath, FromQuery

from parcours_web import directory_labels
from parcours_web.auth.roles import COORDINATOR
from parcours_web.context import app_context, current_actor
from parcours_web.forms import Form
from parcours_web.pages._routing import call, page_get, page_post, see_other
from parcours_web.rendering import render
from shared_core.errors import Conflict, FieldError, ValidationFailed
from sport_referral import directory_admin
from sport_referral.model.structures import ACCESS_FEATURES, ACTIVITY_TYPES, PROFESSIONS, QUALIFICATIONS

COORDINATORS = frozenset({COORDINATOR})
LIST_FIELDS = ("disability_families", "professions", "qualifications", "activity_types")
TEXT_FIELDS = ("disciplines", "accepting_referrals", "capacity_open_slots", "waiting_weeks", "referral_email",
               "phone", "website", "confirm")


def _values(detail: directory_admin.StructureDetail) -> dict[str, Any]:
    """The form's values from the stored record."""
    structure = detail.structure
    values: dict[str, Any] = {
        "disciplines": "\n".join(structure.disciplines),
        "disability_families": sorted(structure.disability_families),
        "professions": sorted(structure.professions),
        "qualifications": sorted(structure.qualifications),
        "activity_types": sorted(structure.activity_types),
        "accepting_referrals": structure.accepting_referrals,
        "capacity_open_slots": "" if structure.capacity_open_slots is None else str(structure.capacity_open_slots),
        "waiting_weeks": "" if structure.waiting_weeks is None else str(structure.waiting_weeks),
        "referral_email": structure.referral_email or "",
        "phone": structure.phone or "",
        "website": structure.website or "",
        "confirm": False,
    }
    for feature in ACCESS_FEATURES:
        known = structure.accessibility.get(feature)
        values[f"access_{feature}"] = "unknown" if known is None else "true" if known else "false"
    return values


def _raw(form: Form) -> dict[str, list[str]]:
    raw: dict[str, list[str]] = {name: form.getall(name) for name in (*LIST_FIELDS, *TEXT_FIELDS)}
    raw["disciplines"] = [form.get("disciplines") or ""]
    for feature in ACCESS_FEATURES:
        raw[f"access_{feature}"] = form.getall(f"access_{feature}")
    return raw


def _submitted_values(raw: dict[str, list[str]]) -> dict[str, Any]:
    values: dict[str, Any] = {name: raw.get(name, []) for name in LIST_FIELDS}
    for name in TEXT_FIELDS:
        values[name] = (raw.get(name) or [""])[0]
    values["accepting_referrals"] = values["accepting_referrals"] in ("on", "true")
    values["confirm"] = values["confirm"] in ("on", "true")
    for feature in ACCESS_FEATURES:
        values[f"access_{feature}"] = (raw.get(f"access_{feature}") or ["unknown"])[0]
    return values


def _form_page(request: Request[Any, Any, Any], detail: directory_admin.StructureDetail, values: dict[str, Any], *,
               status: int = 200, errors: list[FieldError] | None = None, conflict: str | None = None,
               version: int | None = None, saved: bool = False) -> Response[Any]:
    return render(request, "sport_admin/profile.html", detail, status=status, values=values, errors=errors or [],
                  conflict=conflict, version=detail.version if version is None else version, saved=saved,
                  labels=directory_labels, families=directory_admin.enabled_families(), professions=PROFESSIONS,
                  qualifications=QUALIFICATIONS, activity_types=ACTIVITY_TYPES, access_features=ACCESS_FEATURES)


@page_get("/structure-profile", COORDINATORS)
async def profile_list(request: Request[Any, Any, Any]) -> Response[Any]:
    rows = await call(directory_admin.coordinator_structures, app_context(request).database, current_actor(request))
    return render(request, "sport_admin/profiles.html", rows, labels=directory_labels)


@page_get("/structure-profile/{structure_id:str}", COORDINATORS)
async def profile_page(request: Request[Any, Any, Any], structure_id: FromPath[str],
                       saved: FromQuery[int] = 0) -> Response[Any]:
    detail = await call(directory_admin.load_profile, app_context(request).database, current_actor(request),
                        structure_id)
    return _form_page(request, detail, _values(detail), saved=bool(saved))


@page_post("/structure-profile/{structure_id:str}", COORDINATORS)
async def profile_save(request: Request[Any, Any, Any], structure_id: FromPath[str]) -> Response[Any]:
    database, actor = app_context(request).database, current_actor(request)
    # Ownership first: another structure's profile answers 404 whatever the form holds.
    current = await call(directory_admin.load_profile, database, actor, structure_id)
    form = await Form.read(request)
    raw = _raw(form)
    version_text = form.get("version") or ""
    version = int(version_text) if version_text.isdigit() else -1
    try:
        await call(directory_admin.save_profile, database, actor, structure_id, version, raw)
    except ValidationFailed as failure:
        return _form_page(request, current, _submitted_values(raw), status=422, errors=failure.errors,
                          version=version)
    except Conflict as conflict:
        fresh = await call(directory_admin.load_profile, database, actor, structure_id)
        return _form_page(request, fresh, _submitted_values(raw), status=409, conflict=conflict.message)
    return see_other(f"/structure-profile/{structure_id}?saved=1")


ROUTES = [profile_list, profile_page, profile_save]
