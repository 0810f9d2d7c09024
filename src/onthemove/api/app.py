"""``create_app``: one FastAPI app over one store."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from onthemove.api import errors
from onthemove.api.context import StoreContext
from onthemove.api.foresight_routes import check_triggers_file
from onthemove.api.foresight_routes import router as foresight_router
from onthemove.api.respond_routes import router as respond_router
from onthemove.api.results_routes import load_results_framework
from onthemove.api.results_routes import router as results_router
from onthemove.api.routes import router
from onthemove.api.session import router as session_router
from onthemove.api.simulate_routes import router as simulate_router
from onthemove.api.version import VERSION

log = logging.getLogger("onthemove.api")

DESCRIPTION = (
    "Data on people on the move. Anonymous callers and partners (users with a place scope) get "
    "redacted aggregates only: counts below the suppression threshold are null. Send an API token as "
    "`Authorization: Bearer <token>`."
)


def create_app(
    store_location: str,
    *,
    suppression_threshold: int = 10,
    result_cache: int = 256,
    triggers_file: str | None = "",
    results_framework: str | list[str] | None = "",
) -> FastAPI:
    ctx = StoreContext(str(store_location), suppression_threshold, result_cache)
    triggers = check_triggers_file(triggers_file)  # a wrong file stops here, before the server starts
    framework = load_results_framework(results_framework)  # so does a wrong results framework file

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            ctx.close()

    app = FastAPI(title="onthemove", version=VERSION, description=DESCRIPTION, lifespan=lifespan)
    app.state.store_context = ctx
    app.state.triggers_file = triggers
    app.state.results_framework = framework
    errors.install(app)
    app.include_router(router)
    app.include_router(foresight_router)
    app.include_router(results_router)
    app.include_router(simulate_router)
    app.include_router(respond_router)
    app.include_router(session_router)

    @app.middleware("http")
    async def access_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            log.info(
                "%s %s %s",
                request.method,
                request.url.path,
                status,
                extra={
                    "method": request.method,
                    "path": request.url.path,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )

    from onthemove.web import mount_web  # the dashboard is served by the same process

    mount_web(app)
    return app
