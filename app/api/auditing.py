"""The audit trail's edge: `AuditDep` for routes, and the middleware that stores what they recorded.

    @router.post("/fhir/Claim/$submit")
    async def submit(principal: ... = require(CLAIM_WRITE), audit: AuditDep, ...):
        entry = audit.record("claim.submit", "Claim")     # before the work: refusals are audited too
        ...
        entry.add(authorization.id)                      # ids known later

The middleware writes one audit row per recorded entry after the handler finished, with the
response's status code as the outcome, in its own transaction; entries a use case already stored
in its own transaction (`stage_audit`, `$submit`) are skipped.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.security import current_principal
from app.logging import request_id
from app.security.audit import AuditRecorder, write_audit
from app.security.principal import Principal

log = logging.getLogger(__name__)

SCOPE_KEY = "epa.audit_recorders"


def open_audit(request: Request, client_id: str) -> AuditRecorder:
    """A recorder for `client_id` whose entries the middleware stores when the request ends."""
    recorders: list[AuditRecorder] | None = request.scope.get(SCOPE_KEY)
    if recorders is None:
        raise RuntimeError("AuditMiddleware is not installed: audit entries would be lost")
    recorder = AuditRecorder(client_id=client_id)
    recorders.append(recorder)
    return recorder


async def get_audit(request: Request, principal: Annotated[Principal, Depends(current_principal)]) -> AuditRecorder:
    return open_audit(request, principal.client_id)


AuditDep = Annotated[AuditRecorder, Depends(get_audit)]


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        recorders: list[AuditRecorder] = []
        scope[SCOPE_KEY] = recorders
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            entries = [entry for recorder in recorders for entry in recorder.entries if not entry.stored]
            if entries:
                try:
                    await write_audit(scope["app"].state.runtime.sessions, entries, status, request_id.get())
                except Exception as exc:  # the response is gone; say so loudly, without request data
                    log.error(
                        "audit records could not be stored",
                        extra={"error_type": type(exc).__name__, "entries": len(entries), "status": status},
                    )
