"""Render every error, the framework's own included, as RFC 9457 problem+json."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from broker.errors import (
    BrokerError,
    InvalidRequest,
    MethodNotAllowed,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
)

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger("broker.errors")

_STATUS_ERRORS: dict[int, type[BrokerError]] = {
    401: NotAuthenticated,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
}


def problem_response(
    error: BrokerError, request: Request, *, status: int | None = None
) -> JSONResponse:
    """Build the problem+json response for one error."""
    status = status or error.status
    body: dict[str, Any] = {
        "type": error.type_uri,
        "title": error.title,
        "status": status,
        "detail": error.detail,
        "instance": request.url.path,
    }
    body.update(error.extensions)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if "retry_after" in error.extensions:
        headers["Retry-After"] = str(error.extensions["retry_after"])
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Only location, message and type: pydantic's ``input`` and ``ctx`` may hold a BSN.
    errors = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ()) if part != "body"]
        message = str(err.get("msg", "invalid"))
        if err.get("type") == "value_error":
            message = message.removeprefix("Value error, ")
        errors.append({"field": ".".join(loc), "message": message, "type": err.get("type")})
    return errors


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of the API is answered."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None


def _documented(description: str) -> dict[str, Any]:
    schema = Problem.model_json_schema()
    schema["additionalProperties"] = True  # extensions such as ``errors`` or ``missing``
    return {"description": description, "content": {PROBLEM_JSON: {"schema": schema}}}


# Declared on every API router so the OpenAPI description tells clients the truth.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _documented("No valid bearer token"),
    403: _documented("Not allowed (role, purpose binding or legal basis)"),
    404: _documented("Not found or not visible to the caller"),
    409: _documented("Conflicts with the current state"),
    413: _documented("Request body too large"),
    422: _documented("Invalid request"),
    429: _documented("Rate limited"),
    503: _documented("A backing service is unavailable"),
}


def install_problem_handlers(app: FastAPI) -> None:
    """Register the single error path for the application."""

    async def on_broker_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, BrokerError)
        return problem_response(exc, request)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        error = InvalidRequest(
            "The request does not match the schema.", errors=_validation_errors(exc)
        )
        return problem_response(error, request)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400:
            # FastAPI's "error parsing the body" (e.g. JSON nested past the parser's limit).
            return problem_response(
                InvalidRequest("The request body could not be parsed as JSON."), request
            )
        error_type = _STATUS_ERRORS.get(exc.status_code)
        if error_type is None:
            return problem_response(BrokerError("Request failed."), request, status=exc.status_code)
        return problem_response(error_type(), request)

    async def on_database_down(request: Request, exc: Exception) -> JSONResponse:
        logger.warning("database unavailable", extra={"error_class": type(exc).__name__})
        return problem_response(ServiceUnavailable("The database is unreachable."), request)

    async def on_busy(request: Request, exc: Exception) -> JSONResponse:
        # Every database connection of this process stayed busy for the pool timeout.
        logger.warning("database connections exhausted", extra={"error_class": "PoolTimeout"})
        error = ServiceUnavailable("The broker is busy; try again shortly.", retry_after=1)
        return problem_response(error, request)

    async def on_overflow(request: Request, exc: Exception) -> JSONResponse:
        # A number too large for the database: the caller's mistake, not ours.
        return problem_response(InvalidRequest("A number in the request is out of range."), request)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The class name only: an exception message could carry personal data.
        logger.error("unhandled error", extra={"error_class": type(exc).__name__})
        return problem_response(BrokerError(), request)

    app.add_exception_handler(BrokerError, on_broker_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(OperationalError, on_database_down)
    app.add_exception_handler(DBAPIError, on_database_down)
    app.add_exception_handler(PoolTimeout, on_busy)
    app.add_exception_handler(OverflowError, on_overflow)
    app.add_exception_handler(Exception, on_unexpected)
