"""Sport calculators of api-contract.md: structure search, supervision, Pass'Sport."""

from __future__ import annotations

import datetime as dt
from functools import cache, partial
from typing import Any

from anyio import to_thread
from litestar import Request, get, post
from litestar.params import FromQuery, JSONBody

from parcours_web.api.problems import PROBLEM_RESPONSES
from parcours_web.auth.roles import COORDINATOR, OPERATOR, PSYCHIATRIST, REFERRER
from parcours_web.context import app_context
from sport_referral.catalogue.loader import load_supervision_matrix
from sport_referral.catalogue.loader_sport import load_aids
from sport_referral.model.aids import AidsCatalogue
from sport_referral.rules.api_contract import (
    PassSportAnswer,
    StructuresAnswer,
    SupervisionAnswerBody,
    pass_sport_answer,
    supervision_answer,
    validate_pass_sport_body,
    validate_supervision_body,
)
from sport_referral.rules.supervision import SupervisionMatrix
from sport_referral.service import search_directory

SPORT_CALCULATOR_USERS = frozenset({PSYCHIATRIST, OPERATOR, REFERRER, COORDINATOR})


@cache
def _matrix() -> SupervisionMatrix:
    return load_supervision_matrix()


@cache
def _aids() -> AidsCatalogue:
    return load_aids()


@post("/api/v1/sport/supervision", opt={"roles": SPORT_CALCULATOR_USERS},
      responses=PROBLEM_RESPONSES, status_code=200, tags=["sport"])
async def supervision(data: JSONBody[dict[str, Any]]) -> SupervisionAnswerBody:
    """Professions allowed to supervise APA at a functional limitation level (D.1172-2, D.1172-3 CSP).

    Body ``{"limitation_level": "none" | "minimal" | "moderate" | "severe"}``; ``severe`` allows exactly
    physiotherapist, occupational_therapist and psychomotor_therapist.
    """
    return supervision_answer(validate_supervision_body(data), _matrix())


@post("/api/v1/sport/aids/pass-sport", opt={"roles": SPORT_CALCULATOR_USERS},
      responses=PROBLEM_RESPONSES, status_code=200, tags=["sport"])
async def pass_sport(data: JSONBody[dict[str, Any]]) -> PassSportAnswer:
    """Pass'Sport hint (A-1): age in whole years on ``on_date`` against the campaign's benefit groups.

    Body ``{"birth_date": date, "on_date": date, "benefits": ["aeeh" | "aah" | ...]}``; the amount and age
    ranges are campaign data (``sport_referral/catalogue/aids.yaml``). A hint, never a decision.
    """
    settings = _aids().pass_sport
    return pass_sport_answer(validate_pass_sport_body(data, settings), settings)


@get("/api/v1/sport/structures", opt={"roles": SPORT_CALCULATOR_USERS}, responses=PROBLEM_RESPONSES, tags=["sport"])
async def structures(
    request: Request[Any, Any, Any],
    lat: FromQuery[str | None] = None,
    lon: FromQuery[str | None] = None,
    commune: FromQuery[str | None] = None,
    radius_km: FromQuery[str | None] = None,
    family: FromQuery[str | None] = None,
    limitation_level: FromQuery[str | None] = None,
    wheelchair: FromQuery[str | None] = None,
    activity: FromQuery[str | None] = None,
    sort: FromQuery[str | None] = None,
    limit: FromQuery[str | None] = None,
    offset: FromQuery[str | None] = None,
) -> StructuresAnswer:
    """Structures within ``radius_km`` (default 30) of a point or of a commune's centroid that pass every
    hard filter (M-1..M-7), sorted by great-circle distance rounded to 0.1 km, each with its reasons.

    Query: ``lat``/``lon`` or ``commune`` (INSEE code); optional ``family`` (moteur, visuel, auditif,
    mental, psychique), ``limitation_level`` (none, minimal, moderate, severe), ``wheelchair`` (true:
    step-free access required), ``activity`` (matched against disciplines), ``sort`` (distance, or
    score: the §7.3 weights). Parameters are checked together, so a 422 names every bad one.

    Paging: without ``limit`` every structure in the radius is listed (a city has thousands at 30 km).
    ``limit`` (1 to 500) lists the nearest ones from ``offset`` (default 0); ``next_offset`` then gives
    the next page's offset, and is absent on the last page.
    """
    params = {key: request.query_params.getall(key) for key in request.query_params}
    database = app_context(request).database
    return await to_thread.run_sync(partial(search_directory, database, params, today=dt.date.today()))


ROUTES = [structures, supervision, pass_sport]
