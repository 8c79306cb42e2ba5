"""The errors a payer adapter may raise. Nothing else may escape an adapter.

    PayerError                  base; may carry `retry_after` (when asking again makes sense)
    ├── PayerUnavailable        the payer could not be reached or answered 5xx / 429 / 503,
    │                           or refused our credentials; the request was not decided
    ├── PayerTimeout            the payer did not answer in time; it may or may not have
    │                           received the request (do not resubmit blindly, inquire)
    ├── PayerRejected           the payer refused the request itself (a 4xx with an
    │                           OperationOutcome); `issues` are the payer's own issues
    └── PayerProtocolError      the payer answered something we cannot understand
                                (not JSON, not a ClaimResponse Bundle, unknown codes)

How the services map them (adapters do not need to know, but it explains the tree):

- PayerUnavailable, PayerTimeout: the request is already stored; the client is answered
  "pended" and the worker asks again later (not before `retry_after` when it is given).
- PayerRejected: the client receives the payer's reasons as an OperationOutcome.
- PayerProtocolError: stored and pended like an outage, retried with a long backoff, and
  flagged for operations; it usually needs a fix in the adapter or at the payer.

Every error has a `kind` (what went wrong, in operations' words: unreachable, refused, timed-out,
rejected, unreadable) and a `reason`: the adapter's message made fit for a log line, a timeline
entry and a job's `last_error` (one line of printable characters, at most `REASON_LIMIT`). The
message is the adapter author's text: write what happened ("payer answered HTTP 503"), never a
value from the request (a member id, a name).

Adapters translate transport errors (httpx) at their edge with `raise ... from exc`.
This tree deliberately does not derive from `app.errors.EpaError`: a payer fault is not
an HTTP answer to our client until a service decides what it means.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import ClassVar

from app.errors import Issue

REASON_LIMIT = 200  # characters of an adapter's message kept for logs, timelines and jobs
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]+")
_SPACES = re.compile(r"\s+")


def sanitised(text: str, limit: int = REASON_LIMIT) -> str:
    """One line of printable ASCII, at most `limit` characters (an ellipsis marks a cut)."""
    line = _SPACES.sub(" ", _UNPRINTABLE.sub(" ", text)).strip()
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."


class PayerError(Exception):
    """Base of every error a payer adapter raises."""

    default_kind: ClassVar[str] = "failed"

    def __init__(self, message: str, *, retry_after: timedelta | None = None, kind: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.kind = kind or self.default_kind

    @property
    def reason(self) -> str:
        """The adapter's message, sanitised and capped: safe for a log line or a timeline entry."""
        return sanitised(self.message) or type(self).__name__

    @property
    def safe_message(self) -> str:
        """`kind: reason`, what a job's `last_error` and the WARNING log lines carry."""
        return f"{self.kind}: {self.reason}"


class PayerUnavailable(PayerError):
    """The payer could not be reached, was overloaded, or failed (5xx); nothing was decided.

    `kind="refused"` when the payer refused our credentials or the connection."""

    default_kind = "unreachable"


class PayerTimeout(PayerError):
    """The payer did not answer in time; it may have received the request."""

    default_kind = "timed-out"


class PayerRejected(PayerError):
    """The payer refused the request; `issues` carry the payer's own OperationOutcome issues."""

    default_kind = "rejected"

    def __init__(
        self,
        message: str,
        *,
        issues: Sequence[Issue] = (),
        status_code: int | None = None,
        retry_after: timedelta | None = None,
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.issues: list[Issue] = list(issues) or [Issue(text=message, code="processing")]
        self.status_code = status_code


class PayerProtocolError(PayerError):
    """The payer answered, but the answer cannot be understood."""

    default_kind = "unreadable"


__all__ = [
    "REASON_LIMIT",
    "PayerError",
    "PayerProtocolError",
    "PayerRejected",
    "PayerTimeout",
    "PayerUnavailable",
    "sanitised",
]
