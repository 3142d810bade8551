"""The error answers every API operation can give, documented once for the OpenAPI schema.

Clients (and the schemathesis suite) read the schema to know which statuses to expect; an answer the
schema does not list is a contract break even when it is the right answer.
"""

from __future__ import annotations

import msgspec
from litestar.openapi.datastructures import ResponseSpec

from parcours_web.errors import PROBLEM_JSON


class ProblemFieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class Problem(msgspec.Struct, frozen=True):
    """RFC 9457 problem details; ``errors`` names every bad field of a 422."""

    type: str
    status: int
    title: str
    detail: str
    errors: list[ProblemFieldError] | None = None


def _problem(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=Problem, description=description, media_type=PROBLEM_JSON,
                        generate_examples=False)


PROBLEM_RESPONSES: dict[int, ResponseSpec] = {
    400: _problem("Unparseable request (malformed JSON, empty body)."),
    401: _problem("No valid bearer token or session."),
    403: _problem("The caller's role may not use this operation, or the CSRF token of a session is missing."),
    404: _problem("No such resource (or not one of the caller's)."),
    422: _problem("Invalid input: `errors` names every bad field."),
    503: _problem("The database is unavailable; retry later."),
}
