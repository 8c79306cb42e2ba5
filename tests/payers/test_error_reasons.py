"""A payer error's kind and reason: the adapter's message made safe for a log line (one line,
printable, capped), and the kind operations read (unreachable, refused, timed-out, ...)."""

from __future__ import annotations

import pytest

from app.jobs.contract import describe_failure
from app.payers.errors import (
    REASON_LIMIT,
    PayerError,
    PayerProtocolError,
    PayerRejected,
    PayerTimeout,
    PayerUnavailable,
)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (PayerUnavailable("down"), "unreachable"),
        (PayerUnavailable("401", kind="refused"), "refused"),
        (PayerTimeout("slow"), "timed-out"),
        (PayerRejected("no"), "rejected"),
        (PayerProtocolError("garbage"), "unreadable"),
    ],
    ids=lambda value: value if isinstance(value, str) else type(value).__name__,
)
def test_each_error_names_its_kind(error: PayerError, kind: str) -> None:
    assert error.kind == kind
    assert error.safe_message.startswith(f"{kind}: ")


def test_a_reason_is_one_printable_line_and_capped() -> None:
    error = PayerProtocolError("line one\nline two\x00\x1b[31m red \u00e9" + "x" * 500)

    reason = error.reason

    assert "\n" not in reason
    assert "\x00" not in reason
    assert "\x1b" not in reason
    assert reason.startswith("line one line two [31m red")
    assert len(reason) == REASON_LIMIT
    assert reason.endswith("...")


def test_an_empty_message_falls_back_to_the_class_name() -> None:
    assert PayerUnavailable(" \n ").reason == "PayerUnavailable"


def test_a_jobs_last_error_carries_the_kind_and_reason() -> None:
    assert describe_failure(PayerUnavailable("payer answered HTTP 503")) == (
        "PayerUnavailable: unreachable: payer answered HTTP 503"
    )
    assert describe_failure(KeyError("MEMBER-1")) == "KeyError"  # no safe message: the class only
