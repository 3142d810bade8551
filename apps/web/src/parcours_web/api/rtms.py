"""rTMS calculators of api-contract.md: triage, course-plan preview, progress checkpoint.

Bodies are taken as plain JSON objects and validated by the rule package's own validators, which
report every bad field at once (a typed body would stop at msgspec's first error).
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from litestar import Request, post
from litestar.params import JSONBody

from parcours_web.api.problems import PROBLEM_RESPONSES
from parcours_web.auth.roles import OPERATOR, PSYCHIATRIST, REFERRER
from parcours_web.context import app_context
from rtms_pathway.catalogue.loader_clinical import load_clinical_catalogues
from rtms_pathway.rules.course_plan_api import contract_preview
from rtms_pathway.rules.progress_api import ContractProgressAnswer, parse_contract_progress, progress_contract
from rtms_pathway.rules.triage_api import ContractTriageAnswer, run_contract_triage

RTMS_CALCULATOR_USERS = frozenset({PSYCHIATRIST, OPERATOR, REFERRER})


@post("/api/v1/rtms/progress", opt={"roles": RTMS_CALCULATOR_USERS},
      responses=PROBLEM_RESPONSES, status_code=200, tags=["rtms"])
async def progress(request: Request[Any, Any, Any], data: JSONBody[dict[str, Any]]) -> ContractProgressAnswer:
    """Improvement from baseline, response status and the 10-session checkpoint (R-MBC-03, R-MBC-04).

    Body: ``{"scale": code, "baseline": int, "current": int, "sessions_completed": int}``.
    """
    catalogue = app_context(request).catalogue
    return progress_contract(parse_contract_progress(data, catalogue), catalogue)


@post("/api/v1/rtms/course-plans/preview", opt={"roles": RTMS_CALCULATOR_USERS},
      responses=PROBLEM_RESPONSES, status_code=200, tags=["rtms"])
async def course_plan_preview(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    """Induction sessions laid on working days of the holiday zone, minus closures (R-SCH-01..05).

    Body: ``{"protocol": code, "start": date, "induction_sessions": int, "holiday_zone": code,
    "closures": [date, ...]}``. Answer: ``{"sessions": [{"number", "date", "slot", "phase"}], "induction_end"}``.
    """
    return await to_thread.run_sync(contract_preview, data)


@post("/api/v1/rtms/triage", opt={"roles": RTMS_CALCULATOR_USERS},
      responses=PROBLEM_RESPONSES, status_code=200, tags=["rtms"])
async def triage(data: JSONBody[dict[str, Any]]) -> ContractTriageAnswer:
    """Orientation, precautions, protocol suggestions and the reasons with their sources (domain-rtms §2).

    Orientation, strongest first: not_eligible_safety > ect_first > needs_more_information >
    rtms_with_precautions (any precaution listed) > rtms_indicated. Information-only facts (chronic
    episode, anxious features, stated preference) are given as reasons, not as precautions.
    ``needs_more_information`` answers a body whose trials cannot fit in the episode, or a screening
    that reports current medication with an empty medication list.
    """
    return await to_thread.run_sync(run_contract_triage, data, load_clinical_catalogues())


ROUTES = [progress, course_plan_preview, triage]
