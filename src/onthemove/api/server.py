"""Run the API with uvicorn, logging one JSON line per event."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime

from fastapi import FastAPI

from onthemove.api.app import create_app
from onthemove.store import ENV_STORE, resolve_location

ENV_THRESHOLD = "ONTHEMOVE_SUPPRESSION_THRESHOLD"
ENV_CACHE = "ONTHEMOVE_RESULT_CACHE"
ENV_TRIGGERS = "ONTHEMOVE_TRIGGERS"
ENV_RESULTS_FRAMEWORK = "ONTHEMOVE_RESULTS_FRAMEWORK"
REQUEST_FIELDS = ("method", "path", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    """time, level, message, and the request's method, path, status and duration when it has them."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in REQUEST_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("onthemove", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True  # the middleware logs each request instead


def app_from_env() -> FastAPI:
    """The app factory each uvicorn worker calls: the store comes from ONTHEMOVE_STORE."""
    configure_logging(os.environ.get("ONTHEMOVE_LOG_LEVEL", "info"))
    return create_app(
        resolve_location(None),
        suppression_threshold=int(os.environ.get(ENV_THRESHOLD, "10")),
        result_cache=int(os.environ.get(ENV_CACHE, "256")),
        triggers_file=os.environ.get(ENV_TRIGGERS, ""),
        results_framework=os.environ.get(ENV_RESULTS_FRAMEWORK, ""),
    )


def serve(
    store_location: str,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    log_level: str = "info",
    suppression_threshold: int = 10,
    result_cache: int = 256,
    triggers_file: str = "",
    results_framework: str = "",
) -> None:
    import uvicorn

    where = resolve_location(store_location)
    if workers < 1:
        raise ValueError("workers must be at least 1")
    is_server = where.startswith(("postgresql://", "postgres://"))
    if workers > 1 and not is_server:
        raise ValueError(
            f"{where} is a DuckDB store, which one process at a time may open: "
            "run one worker, or use a PostgreSQL store (postgresql://...) for several"
        )
    configure_logging(log_level)
    if workers == 1:
        app = create_app(
            where,
            suppression_threshold=suppression_threshold,
            result_cache=result_cache,
            triggers_file=triggers_file,
            results_framework=results_framework,
        )
        uvicorn.run(app, host=host, port=port, log_level=log_level, log_config=None, access_log=False)
        return
    os.environ[ENV_STORE] = where
    os.environ[ENV_THRESHOLD] = str(suppression_threshold)
    os.environ[ENV_CACHE] = str(result_cache)
    os.environ[ENV_TRIGGERS] = triggers_file
    os.environ[ENV_RESULTS_FRAMEWORK] = results_framework
    os.environ["ONTHEMOVE_LOG_LEVEL"] = log_level
    uvicorn.run(
        "onthemove.api.server:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        log_config=None,
        access_log=False,
    )
