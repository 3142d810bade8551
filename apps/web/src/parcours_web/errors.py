"""Errors as users should get them: problem+json (RFC 9457) on the API, a readable page elsewhere."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from parcours_web.rendering import is_htmx, render
from shared_core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed

logger = logging.getLogger("parcours")
PROBLEM_JSON = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


def is_api(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/schema")) or path == "/health"


def problem(status: int, detail: str, errors: list[FieldError] | None = None,
            headers: dict[str, str] | None = None) -> Response[bytes]:
    body: dict[str, Any] = {"type": "about:blank", "status": status, "title": _TITLES.get(status, "Error"),
                            "detail": detail}
    if errors is not None:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return Response(msgspec.json.encode(body), status_code=status, media_type=PROBLEM_JSON, headers=headers or {})


def _page(request: Request[Any, Any, Any], status: int, detail: str,
          errors: list[FieldError] | None = None) -> Response[Any]:
    return render(request, "error.html", None, status=status, status_code=status, detail=detail,
                  errors=errors or [], title_key=_TITLES.get(status, "Error"))


def _respond(request: Request[Any, Any, Any], status: int, detail: str,
             errors: list[FieldError] | None = None) -> Response[Any]:
    if is_api(request):
        return problem(status, detail, errors)
    return _page(request, status, detail, errors)


def handle_validation_failed(request: Request[Any, Any, Any], exc: ValidationFailed) -> Response[Any]:
    return _respond(request, 422, exc.message, exc.errors)


def handle_not_found(request: Request[Any, Any, Any], exc: NotFound | NotFoundException) -> Response[Any]:
    return _respond(request, 404, exc.message if isinstance(exc, NotFound) else "Not found.")


def handle_conflict(request: Request[Any, Any, Any], exc: Conflict) -> Response[Any]:
    return _respond(request, 409, exc.message)


def handle_stale_write(request: Request[Any, Any, Any], exc: StaleDataError) -> Response[Any]:
    """Any versioned record saved twice at the same moment: the later save is a conflict, never a 500."""
    return _respond(request, 409,
                    "This record was changed by someone else at the same moment. Reload it and try again.")


def handle_forbidden(request: Request[Any, Any, Any],
                     exc: PermissionDenied | PermissionDeniedException) -> Response[Any]:
    detail = exc.message if isinstance(exc, PermissionDenied) else str(exc.detail)
    return _respond(request, 403, detail)


def handle_not_authorized(request: Request[Any, Any, Any], exc: NotAuthorizedException) -> Response[Any]:
    if is_api(request):
        return problem(401, "Authentication required: log in or send a bearer token.",
                       headers={"www-authenticate": "Bearer"})
    target = "/login?next=" + request.url.path if request.method == "GET" else "/login"
    if is_htmx(request):
        return Response(b"", status_code=401, headers={"hx-redirect": target})
    return Redirect(target, status_code=303)


def handle_litestar_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """Litestar's own parsing errors: unparseable JSON is 400, a well-formed but invalid body 422."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    errors = [FieldError(str(item.get("key", "body")), str(item.get("message", ""))) for item in extra
              if isinstance(item, dict)]
    if [error.field for error in errors] == ["data"]:
        # Litestar names the whole body "data": an empty body is unparseable (400), a JSON value of
        # the wrong shape is invalid input (422).
        if request.headers.get("content-length", "0") == "0":
            return _respond(request, 400, "The request body is empty: send a JSON object.")
        errors = [FieldError("body", f"The body does not have the expected shape: {errors[0].message}")]
    detail = str(exc.detail)
    status = 400 if "JSON is malformed" in detail or "decode" in detail.lower() or not errors else 422
    return _respond(request, status, detail, errors or None)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    return _respond(request, exc.status_code, str(exc.detail))


def handle_database_down(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[Any]:
    logger.error("database unavailable: %s", exc.__class__.__name__)
    if is_api(request):
        return problem(503, "The database is unavailable. Try again in a moment.", headers={"retry-after": "5"})
    return render(request, "unavailable.html", None, status=503, headers={"retry-after": "5"})


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    if is_api(request):
        return problem(500, "An internal error occurred. It has been logged.")
    return Response("Une erreur interne est survenue. / An internal error occurred.", status_code=500,
                    media_type=MediaType.TEXT)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ValidationFailed: handle_validation_failed,
    NotFound: handle_not_found,
    NotFoundException: handle_not_found,
    Conflict: handle_conflict,
    StaleDataError: handle_stale_write,
    PermissionDenied: handle_forbidden,
    PermissionDeniedException: handle_forbidden,
    NotAuthorizedException: handle_not_authorized,
    ValidationException: handle_litestar_validation,
    HTTPException: handle_http_exception,
    OperationalError: handle_database_down,
    InterfaceError: handle_database_down,
    Exception: handle_unexpected,
}
