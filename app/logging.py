"""Structured JSON logs with a request id. Never log PHI: ids, codes, statuses and timings only."""

from __future__ import annotations

import logging
import sys
import traceback
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        # uvicorn attaches an ANSI-coloured copy of its message; JSON lines carry the plain one only.
        record.__dict__.pop("color_message", None)
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    if root.level > logging.DEBUG:
        logging.getLogger("alembic").setLevel(logging.WARNING)  # "Context impl ..." chatter
    # Database drivers log SQL with its bound parameters (member ids, names) at debug level: never let them.
    for name in ("aiosqlite", "asyncpg", "sqlalchemy.engine", "sqlalchemy.pool"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # httpx and httpcore write every outbound URL (a webhook's ?token=, a member id in a path) at info
    # and debug: the runtime's client logs its calls itself, without path or query (`app.outbound`).
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # uvicorn's access log prints query strings (which may carry member ids); we log requests ourselves.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


MAX_FRAMES = 30


def describe(exc: BaseException) -> dict[str, Any]:
    """Error classes (outermost first, then the causes) and stack frames: no message, no values."""
    classes: list[str] = []
    current: BaseException | None = exc
    while current is not None and len(classes) < 5:
        classes.append(f"{type(current).__module__}.{type(current).__qualname__}")
        current = current.__cause__ or current.__context__
    frames = traceback.extract_tb(exc.__traceback__)[-MAX_FRAMES:]
    stack = [f"{frame.filename.rsplit('/', 2)[-1]}:{frame.lineno}:{frame.name}" for frame in frames]
    return {"error_type": type(exc).__name__, "error_chain": classes, "stack": stack}
