"""Property-based: whatever happens to a valid Bundle, parse_submit raises only InvalidRequest."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import InvalidRequest, Issue
from app.fhir.inquiry import parse_inquire
from app.fhir.submit import INTERNAL_FAILURE_TEXT, parse_submit
from tests.support.fuzz import mutated_bundles


def _issues_of(parse: Callable[[bytes], object], body: bytes) -> list[Issue]:
    try:
        parse(body)
    except InvalidRequest as exc:
        return exc.issues
    return []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_bundles())
def test_mutated_bundles_only_ever_raise_invalid_request(bundle: dict[str, Any]) -> None:
    body = orjson.dumps(bundle)
    for parse in (parse_submit, parse_inquire):
        issues = _issues_of(parse, body)
        assert all(issue.text != INTERNAL_FAILURE_TEXT for issue in issues), "a rule tripped on odd input"


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_arbitrary_bytes_only_ever_raise_invalid_request(body: bytes) -> None:
    with contextlib.suppress(InvalidRequest):
        parse_submit(body)


def test_deep_nesting_is_refused_not_recursed() -> None:
    deep = b'{"resourceType":"Bundle","x":' + b"[" * 5000 + b"]" * 5000 + b"}"
    with pytest.raises(InvalidRequest):
        parse_submit(deep)
