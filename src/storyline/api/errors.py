"""One JSON error shape for every failure: ``{"error": {"code", "message", "detail"}}``.

``code`` is a short machine-readable word, ``message`` one line for a person, ``detail`` anything
structured that helps (validation errors, a hint, the retry delay); no stack trace ever leaves."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from storyline.errors import InvalidQuery, NotFound, StoreError, StorylineError

log = logging.getLogger("storyline.api")

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal_error",
    503: "store_unavailable",
}


class ApiError(StarletteHTTPException):
    """An error raised on purpose by an endpoint, with its code and optional detail.

    A subclass of Starlette's HTTPException so that FastAPI's body parsing re-raises it as it is
    instead of turning it into a 400."""

    def __init__(self, status: int, message: str, *, code: str | None = None, detail: Any = None,
                 headers: dict[str, str] | None = None):
        super().__init__(status, message, headers=headers)
        self.code = code or CODES.get(status, "error")
        self.message = message
        self.extra = detail


def error_body(code: str, message: str, detail: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "detail": detail}}


def error_response(request: Request, status: int, code: str, message: str, detail: Any = None,
                   headers: dict[str, str] | None = None) -> Response:
    page = _html_error_page(request, status, code, message)
    if page is not None:
        return page
    return JSONResponse(error_body(code, message, jsonable_encoder(detail)), status_code=status,
                        headers=headers)


def install(app: FastAPI) -> None:
    """Route every kind of failure through ``error_response``."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc, ApiError):
            return error_response(request, exc.status_code, exc.code, exc.message, exc.extra,
                                  exc.headers)
        message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such page: {request.url.path}"
        code = CODES.get(exc.status_code, "error")
        return error_response(request, exc.status_code, code, message, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = [_problem(e) for e in exc.errors()]
        first = problems[0] if problems else {"field": "request", "message": "invalid"}
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        message = f"{first['field']}: {first['message']}{more}"
        return error_response(request, 422, "invalid_request", message, problems)

    @app.exception_handler(StorylineError)
    async def storyline_error(request: Request, exc: StorylineError) -> Response:
        status, code = _status_of(exc)
        if status >= 500:
            log.error("store error on %s %s: %s", request.method, request.url.path, exc)
            # The store's message names its URL (host, user, database, file path) and the
            # driver's words: the server log keeps them, a client learns only what failed.
            return error_response(request, status, code, "the store cannot be read or written now",
                                  {"hint": "try again later; the server log says why"})
        detail = {"hint": exc.hint} if exc.hint else None
        return error_response(request, status, code, str(exc), detail)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(request, 500, "internal_error", "internal server error")


def _status_of(exc: StorylineError) -> tuple[int, str]:
    if isinstance(exc, NotFound):
        return 404, "not_found"
    if isinstance(exc, InvalidQuery):
        return 422, "invalid_request"
    if isinstance(exc, StoreError):
        return 503, "store_unavailable"
    # ConfigError, InputError and the rest: what the client asked for cannot be done as asked.
    return 400, "bad_request"


def _problem(error: dict) -> dict:
    """A validation error without the offending input echoed back (it may be megabytes)."""
    loc = [str(part) for part in error.get("loc", ())]
    field = ".".join(loc[1:] if len(loc) > 1 and loc[0] in ("query", "path", "body", "header")
                     else loc) or "request"
    return {"field": field, "in": loc[0] if loc else None, "message": error.get("msg", "invalid"),
            "type": error.get("type")}


def _html_error_page(request: Request, status: int, code: str, message: str) -> Response | None:
    """A page outside /api asked for by a browser gets the web layer's own error page, when it
    has one (``storyline.web.routes.render_error(request, status, code, message)``)."""
    if request.url.path.startswith("/api") or "text/html" not in request.headers.get("accept", ""):
        return None
    from storyline.web import routes

    render = getattr(routes, "render_error", None)
    return render(request, status, code, message) if render is not None else None
