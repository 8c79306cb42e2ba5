"""The answer to an exception nothing else handled: a 500 that keeps the connection usable.

Starlette's `ServerErrorMiddleware` sends the 500 and then re-raises, so the server logs a
traceback (whose message may quote stored values: drivers put the offending argument in it)
and closes the client's keep-alive connection. This middleware sits inside the app instead:
it answers 500 itself, raises nothing, and leaves a PHI-free description of the failure in the
scope (`ERROR_KEY`: the error class, its causes' classes and the stack as file:line:function),
which the access log writes as the request's one error line. The exception's message is never
logged.

A database that cannot take the request now (unreachable, read-only, out of resources:
`app.api.database_faults`) is not a fault of the service's code: that answers 503
with `Retry-After`, an OperationOutcome on FHIR routes and problem+json elsewhere. A unique key
violated by a concurrent request that stored the same thing first answers 409.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.database_faults import database_unavailable, unique_violation
from app.api.errors import error_response
from app.errors import Issue
from app.logging import describe

ERROR_KEY = "epa.unhandled_error"
RETRY_AFTER_SECONDS = 5


class UnhandledErrorMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if unique_violation(exc) and not started:
                # a concurrent request stored the same thing first: the transaction rolled back, nothing was stored
                text = "a concurrent request stored the same thing first; nothing was stored; read it, then decide"
                conflict = error_response(Request(scope), 409, [Issue(text=text, code="conflict")])
                await conflict(scope, receive, send)
                return
            scope[ERROR_KEY] = describe(exc)
            if started:
                return  # the answer is under way; the server ends the exchange cleanly when we return
            if isinstance(exc, DBAPIError) and exc.connection_invalidated:
                # the database connection dropped mid-request: the transaction rolled back, nothing was stored
                text = "the database connection was lost; nothing was stored; send the request again"
                await _unavailable(scope, receive, send, text, retry_after=1)
                return
            if database_unavailable(exc):
                # unreachable, read-only or out of resources: the transaction rolled back, nothing was stored
                text = "the database cannot take this request now; nothing was stored; send the request later"
                await _unavailable(scope, receive, send, text, retry_after=RETRY_AFTER_SECONDS)
                return
            issue = Issue(text="internal error", code="exception", severity="fatal")
            await error_response(Request(scope), 500, [issue])(scope, receive, send)


async def _unavailable(scope: Scope, receive: Receive, send: Send, text: str, *, retry_after: int) -> None:
    issues = [Issue(text=text, code="transient")]
    await error_response(Request(scope), 503, issues, {"Retry-After": str(retry_after)})(scope, receive, send)
