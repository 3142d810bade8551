"""Sport calculators of api-contract.md that need no directory: supervision and Pass'Sport."""

from __future__ import annotations

from functools import cache
from typing import Any

from litestar import post
from litestar.params import JSONBody

from parcours_web.auth.roles import COORDINATOR, OPERATOR, PSYCHIATRIST, REFERRER
from sport_referral.catalogue.loader import load_supervision_matrix
from sport_referral.catalogue.loader_sport import load_aids
from sport_referral.model.aids import AidsCatalogue
from sport_referral.rules.api_contract import (
    PassSportAnswer,
    SupervisionAnswerBody,
    pass_sport_answer,
    supervision_answer,
    validate_pass_sport_body,
    validate_supervision_body,
)
from sport_referral.rules.supervision import SupervisionMatrix

SPORT_CALCULATOR_USERS = frozenset({PSYCHIATRIST, OPERATOR, REFERRER, COORDINATOR})


@cache
def _matrix() -> SupervisionMatrix:
    return load_supervision_matrix()


@cache
def _aids() -> AidsCatalogue:
    return load_aids()


@post("/api/v1/sport/supervision", opt={"roles": SPORT_CALCULATOR_USERS}, status_code=200, tags=["sport"])
async def supervision(data: JSONBody[dict[str, Any]]) -> SupervisionAnswerBody:
    """Professions allowed to supervise APA at a functional limitation level (D.1172-2, D.1172-3 CSP).

    Body ``{"limitation_level": "none" | "minimal" | "moderate" | "severe"}``; ``severe`` allows exactly
    physiotherapist, occupational_therapist and psychomotor_therapist.
    """
    return supervision_answer(validate_supervision_body(data), _matrix())


@post("/api/v1/sport/aids/pass-sport", opt={"roles": SPORT_CALCULATOR_USERS}, status_code=200, tags=["sport"])
async def pass_sport(data: JSONBody[dict[str, Any]]) -> PassSportAnswer:
    """Pass'Sport hint (A-1): age in whole years on ``on_date`` against the campaign's benefit groups.

    Body ``{"birth_date": date, "on_date": date, "benefits": ["aeeh" | "aah" | ...]}``; the amount and age
    ranges are campaign data (``sport_referral/catalogue/aids.yaml``). A hint, never a decision.
    """
    settings = _aids().pass_sport
    return pass_sport_answer(validate_pass_sport_body(data, settings), settings)


ROUTES = [supervision, pass_sport]
