"""One error body everywhere: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from onthemove.access.policy import Forbidden
from onthemove.analyse.query import QueryError
from onthemove.ingest.mapping import MappingError
from onthemove.ingest.pipeline import IngestError, StrictRefusal
from onthemove.ingest.raw import ReadError
from onthemove.store.batches import BatchError

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "invalid_request",
    503: "unavailable",
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message
        self.details = details
        self.headers = headers


def error_response(
    status: int, message: str, code: str | None = None, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code or CODES.get(status, "error"), "message": message, "details": details}}
    return JSONResponse(jsonable_encoder(body), status_code=status, headers=headers)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.message, exc.code, exc.details, exc.headers)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))


async def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {"location": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return error_response(422, "the request is not valid", "invalid_request", fields)


async def _forbidden(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(403, str(exc), "forbidden")


async def _not_found(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(404, str(exc), "not_found")


async def _strict(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StrictRefusal)
    return error_response(422, str(exc), "strict_refusal", exc.report.to_dict())


async def _bad_request(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(400, str(exc), "bad_request")


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(BatchError, _not_found)
    app.add_exception_handler(StrictRefusal, _strict)
    for exc in (IngestError, MappingError, ReadError, QueryError, ValueError):
        app.add_exception_handler(exc, _bad_request)
