"""Scale calculators: the catalogue and POST /api/v1/scales/{code}/score (api-contract.md)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody

from parcours_web.api.problems import PROBLEM_RESPONSES
from parcours_web.auth.roles import CALCULATOR_USERS
from parcours_web.context import app_context
from shared_core.errors import FieldError, ValidationFailed
from shared_core.scales import ScaleDefinition, score


class BandOut(msgspec.Struct):
    code: str
    min: int
    max: int


class ItemOut(msgspec.Struct):
    number: int
    id: str
    min: int
    max: int
    label: str


class ScaleOut(msgspec.Struct):
    code: str
    version: str
    name: str
    rater: str
    items: list[ItemOut]
    total_min: int | None
    total_max: int | None
    bands: list[BandOut]
    remission_max: int | None
    alerts: list[str]
    loinc_panel: str | None
    loinc_total: str | None


class ScoreOut(msgspec.Struct):
    scale: str
    total: int | None
    band: str | None
    subscores: dict[str, int]
    alerts: list[str]


def _definition(request: Request[Any, Any, Any], code: FromPath[str]) -> ScaleDefinition:
    try:
        return app_context(request).catalogue.get(code)
    except KeyError:
        raise NotFoundException(f"Unknown scale {code!r}.") from None


def _out(definition: ScaleDefinition) -> ScaleOut:
    return ScaleOut(
        definition.code, definition.version, definition.name_en, definition.rater,
        [ItemOut(i.number, i.id, i.min, i.max, i.short_label_en) for i in definition.items],
        definition.total_min, definition.total_max, [BandOut(b.code, b.min, b.max) for b in definition.bands],
        definition.remission_max, [a.code for a in definition.alerts], definition.loinc_panel, definition.loinc_total,
    )


@get("/api/v1/scales", opt={"roles": CALCULATOR_USERS}, responses=PROBLEM_RESPONSES, tags=["scales"])
async def list_scales(request: Request[Any, Any, Any]) -> list[ScaleOut]:
    """Every shipped scale with its items, ranges, bands and alerts (no licensed wording)."""
    return [_out(d) for d in app_context(request).catalogue.all()]


@get("/api/v1/scales/{code:str}", opt={"roles": CALCULATOR_USERS}, responses=PROBLEM_RESPONSES, tags=["scales"])
async def get_scale(request: Request[Any, Any, Any], code: FromPath[str]) -> ScaleOut:
    """One scale definition."""
    return _out(_definition(request, code))


class ScoreIn(msgspec.Struct):
    """Item answers in the scale's order, item 1 first; null marks a missing item."""

    items: list[Any]


def _items(raw: list[Any]) -> list[int | None]:
    """Name every non-integer element; ranges and counts are checked by the scale engine."""
    errors = [FieldError(f"items[{index}]", f"item {index + 1}: expected an integer")
              for index, value in enumerate(raw)
              if value is not None and (isinstance(value, bool) or not isinstance(value, int))]
    if errors:
        raise ValidationFailed(errors)
    return raw


@post("/api/v1/scales/{code:str}/score", opt={"roles": CALCULATOR_USERS},
      responses=PROBLEM_RESPONSES, status_code=200, tags=["scales"])
async def score_scale(request: Request[Any, Any, Any], code: FromPath[str], data: JSONBody[ScoreIn]) -> ScoreOut:
    """Score item answers given in the scale's item order. 422 names every offending item.

    Body: ``{"items": [int, ...]}``. Answer: ``{"scale", "total", "band", "subscores", "alerts"}``.
    """
    definition = _definition(request, code)
    result = score(definition, _items(data.items))
    return ScoreOut(result.scale, result.total, result.band, dict(result.subscores), list(result.alerts))


ROUTES = [list_scales, get_scale, score_scale]
