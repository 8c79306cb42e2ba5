"""Request id and a PHI-free access log (method, path without query, route template, status, client, duration).

One line per request: `info` normally, `error` when the request failed with an unhandled
exception (then with the error's classes and stack from `app.api.unhandled`, never its message).
"""

from __future__ import annotations

import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.unhandled import ERROR_KEY
from app.logging import request_id
from app.metrics.middleware import route_template

CLIENT_ID_STATE = "epa_client_id"  # set by app.api.security.current_principal

log = logging.getLogger("app.access")


class RequestContextMiddleware:
    """Pure ASGI middleware (no BaseHTTPMiddleware overhead on the hot path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if 0 < len(incoming) <= 128 and incoming.isprintable() else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        state = scope.setdefault("state", {})  # the principal dependency records the client id here

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            failure = scope.get(ERROR_KEY)
            log.log(
                logging.ERROR if failure else logging.INFO,
                "request failed" if failure else "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route_template(scope),
                    "status": status,
                    "client_id": state.get(CLIENT_ID_STATE) if isinstance(state, dict) else None,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    **(failure or {}),
                },
            )
            request_id.reset(token)
