"""Observer dashboard (observers; admins too): suppressed indicator tables and charts by region,
department and month, and the open-data CSV / JSON export of exactly the same cells (domain-sport §10)."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Any, Literal

from litestar import Request, Response
from litestar.params import FromQuery
from markupsafe import Markup

from parcours_web import directory_labels
from parcours_web.auth.roles import ADMIN, OBSERVER
from parcours_web.context import app_context, current_actor, translator_for
from parcours_web.indicator_view import INDICATORS, build_view, geo_names
from parcours_web.pages._routing import call, page_get
from parcours_web.rendering import render, render_fragment
from shared_core.errors import ValidationFailed
from sport_referral import indicator_service
from sport_referral.model.indicators import IndicatorTable

OBSERVERS = frozenset({OBSERVER, ADMIN})
PARIS_TODAY = indicator_service.PARIS
ORGANISATION = "Parcours"
RESULTS_CACHED = 8
# Only touched on the event loop (the handler is async and renders there): no lock.
_RESULTS: OrderedDict[tuple[int, str, str], tuple[IndicatorTable, Markup]] = OrderedDict()


def _today() -> dt.date:
    return dt.datetime.now(PARIS_TODAY).date()


def _raw(period_from: str, period_to: str, area: str, basis: str) -> dict[str, str | None]:
    return {"period_from": period_from[:7] or None, "period_to": period_to[:7] or None, "area": area[:8] or None,
            "basis": basis[:24] or None}


def _query_string(query: indicator_service.IndicatorQuery) -> str:
    from urllib.parse import urlencode

    area = "FR" if query.scope_level == "national" else f"{query.scope_level[0].upper()}:{query.scope_code}"
    return urlencode({"period_from": query.period_start.strftime("%Y-%m"),
                      "period_to": query.period_end.strftime("%Y-%m"), "area": area, "basis": query.geo_basis})


def _form_values(raw: dict[str, str | None], today: dt.date) -> dict[str, str]:
    default = indicator_service.parse_indicator_query({}, today)
    return {"period_from": raw.get("period_from") or default.period_start.strftime("%Y-%m"),
            "period_to": raw.get("period_to") or default.period_end.strftime("%Y-%m"),
            "area": (raw.get("area") or "FR").upper(), "basis": raw.get("basis") or "patient_residence"}


async def _indicators(request: Request[Any, Any, Any],
                      query: indicator_service.IndicatorQuery) -> indicator_service.ObserverIndicators:
    context = app_context(request)
    return await call(indicator_service.observer_indicators, context.database, current_actor(request), query,
                      max_age=dt.timedelta(minutes=context.settings.indicators_max_age_minutes))


@page_get("/observer/indicators", OBSERVERS)
async def indicators_page(request: Request[Any, Any, Any], period_from: FromQuery[str] = "",
                          period_to: FromQuery[str] = "", area: FromQuery[str] = "",
                          basis: FromQuery[str] = "") -> Response[Any]:
    raw = _raw(period_from, period_to, area, basis)
    today = _today()
    common: dict[str, Any] = {"labels": directory_labels, "values": _form_values(raw, today), "indicators": INDICATORS,
              "regions": directory_labels.REGION_NAMES, "departments": directory_labels.DEPARTMENT_CODES}
    try:
        query = indicator_service.parse_indicator_query(raw, today)
    except ValidationFailed as failure:
        return render(request, "observer/indicators.html", None, status=422, errors=failure.errors, results=None,
                      **common)
    result = await _indicators(request, query)
    return render(request, "observer/indicators.html", None, errors=[], results=_results(request, result, common),
                  **common)


def _results(request: Request[Any, Any, Any], result: indicator_service.ObserverIndicators,
             common: dict[str, Any]) -> Markup:
    """The tables and charts, rendered once per computed table and language. The service hands back
    the same table object until the data change; the rendering holds aggregates only, the same for
    every observer who asks, so it is reused as it is."""
    export_query = _query_string(result.query)
    key = (id(result.table), export_query, translator_for(request).locale)
    cached = _RESULTS.get(key)
    if cached is not None and cached[0] is result.table:
        _RESULTS.move_to_end(key)
        return cached[1]
    html = render_fragment(request, "observer/_indicator_results.html", build_view(result),
                           export_query=export_query, **common)
    _RESULTS[key] = (result.table, html)
    while len(_RESULTS) > RESULTS_CACHED:
        _RESULTS.popitem(last=False)
    return html


async def _export(request: Request[Any, Any, Any], fmt: Literal["csv", "json"],
                  raw: dict[str, str | None]) -> Response[Any]:
    query = indicator_service.parse_indicator_query(raw, _today())  # ValidationFailed → 422 page
    result = await _indicators(request, query)
    body = indicator_service.indicator_export(result, fmt, organisation=ORGANISATION, geo_names=geo_names())
    stamp = f"{query.period_start:%Y-%m}_{query.period_end:%Y-%m}"
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="indicateurs-parcours-{stamp}.{fmt}"'})


@page_get("/observer/indicators.csv", OBSERVERS)
async def indicators_csv(request: Request[Any, Any, Any], period_from: FromQuery[str] = "",
                         period_to: FromQuery[str] = "", area: FromQuery[str] = "",
                         basis: FromQuery[str] = "") -> Response[Any]:
    return await _export(request, "csv", _raw(period_from, period_to, area, basis))


@page_get("/observer/indicators.json", OBSERVERS)
async def indicators_json(request: Request[Any, Any, Any], period_from: FromQuery[str] = "",
                          period_to: FromQuery[str] = "", area: FromQuery[str] = "",
                          basis: FromQuery[str] = "") -> Response[Any]:
    return await _export(request, "json", _raw(period_from, period_to, area, basis))


ROUTES = [indicators_page, indicators_csv, indicators_json]
