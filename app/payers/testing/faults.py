"""The payer faults the kit scripts, the `PayerError` each must become, and the check that nothing
else escapes an adapter (httpx's exceptions included)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

import pytest

from app.payers.sdk import PayerError, PayerProtocolError, PayerRejected, PayerTimeout, PayerUnavailable

FaultKind = Literal["unavailable", "timeout", "reject", "garbage"]
FAULT_ERRORS: dict[FaultKind, type[PayerError]] = {
    "unavailable": PayerUnavailable,
    "timeout": PayerTimeout,
    "reject": PayerRejected,
    "garbage": PayerProtocolError,
}


async def only_payer_errors(call: Callable[[], Awaitable[object]], expected: type[PayerError]) -> PayerError:
    """Await `call`, which must raise `expected` (a `PayerError`) and nothing else; return the error."""
    raised: PayerError | None = None
    try:
        await call()
    except PayerError as exc:
        raised = exc
    except Exception as exc:  # the point of the kit: nothing else may escape
        pytest.fail(f"{type(exc).__module__}.{type(exc).__name__} escaped the adapter: {exc}")
    if raised is None:
        pytest.fail(f"no error raised where {expected.__name__} was due")
    if not isinstance(raised, expected):
        pytest.fail(f"{type(raised).__name__} raised where {expected.__name__} was due")
    return raised
