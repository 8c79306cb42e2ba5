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

Adapters translate transport errors (httpx) at their edge with `raise ... from exc`.
This tree deliberately does not derive from `app.errors.EpaError`: a payer fault is not
an HTTP answer to our client until a service decides what it means.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from app.errors import Issue


class PayerError(Exception):
    """Base of every error a payer adapter raises."""

    def __init__(self, message: str, *, retry_after: timedelta | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class PayerUnavailable(PayerError):
    """The payer could not be reached, was overloaded, or failed (5xx); nothing was decided."""


class PayerTimeout(PayerError):
    """The payer did not answer in time; it may have received the request."""


class PayerRejected(PayerError):
    """The payer refused the request; `issues` carry the payer's own OperationOutcome issues."""

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


__all__ = ["PayerError", "PayerProtocolError", "PayerRejected", "PayerTimeout", "PayerUnavailable"]
