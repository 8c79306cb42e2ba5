"""FHIR formats at the edge: XML in and out on every `/fhir` route, so the routes and the core see JSON only.

Before a route runs: the answer format is negotiated (`_format`, then `Accept`; 406 with an
OperationOutcome when neither JSON nor XML of FHIR R4 will do). An XML body
(`application/fhir+xml`, `application/xml`, `text/xml`) is NOT read here: the route reads it
(`fhir_claims.read_fhir_body`) after the caller is authenticated, and converts it in a worker
thread, within the XML limits. After: an `application/fhir+json` answer, errors included, is
rewritten as XML when XML was asked for. Any other answer (204, problem+json) passes unchanged.
"""

from __future__ import annotations

import logging

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import error_response, is_fhir_path
from app.errors import NotAcceptable
from app.fhir.media import FHIR_JSON, FHIR_XML, Format, answer_format
from app.fhir.xml import json_to_xml

log = logging.getLogger(__name__)


def _as_xml(send: Send) -> Send:
    """A `send` that rewrites a FHIR JSON answer as FHIR XML (other answers pass as they are)."""
    start: Message | None = None
    chunks: list[bytes] = []

    async def xml_send(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            content_type = dict(message.get("headers", [])).get(b"content-type", b"").decode("latin-1")
            if content_type.split(";")[0].strip() == FHIR_JSON:
                start = message
                return
            await send(message)
            return
        if start is None or message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(chunks)
        media = FHIR_JSON
        if body:
            try:
                body, media = json_to_xml(orjson.loads(body)), FHIR_XML
            except Exception as exc:  # a rendering gap must not turn a good answer into a 500
                log.error("answer could not be rendered as XML: %s", type(exc).__name__)
        headers = [(k, v) for k, v in start.get("headers", []) if k not in (b"content-type", b"content-length")]
        headers += [(b"content-type", media.encode()), (b"content-length", str(len(body)).encode())]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return xml_send


class FhirFormatMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_fhir_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            wanted: Format = answer_format(request.headers.get("accept"), request.query_params.get("_format"))
        except NotAcceptable as exc:
            await error_response(request, exc.status_code, exc.issues)(scope, receive, send)
            return
        reply = _as_xml(send) if wanted == "xml" else send
        await self.app(scope, receive, reply)
