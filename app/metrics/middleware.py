"""Counts and times every HTTP request by its route template (never the raw path, which carries ids)."""

from __future__ import annotations

import time

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.metrics.instruments import Instruments

UNMATCHED = "unmatched"


def route_template(scope: Scope) -> str:
    """`/fhir/ClaimResponse/{claim_response_id}` for a matched route; "unmatched" for a 404 on no route."""
    route = scope.get("route")
    path = getattr(route, "path", None) if isinstance(route, BaseRoute) else None
    return path if isinstance(path, str) and path else UNMATCHED


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, instruments: Instruments) -> None:
        self.app = app
        self.instruments = instruments

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_counting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counting)
        finally:
            route = route_template(scope)
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            self.instruments.http_requests.labels(method, route, str(status)).inc()
            self.instruments.http_duration.labels(method, route).observe(time.perf_counter() - started)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
