"""Property-based: whatever happens to a valid Bundle, parse_submit raises only InvalidRequest."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import InvalidRequest, Issue
from app.fhir.inquiry import parse_inquire
from app.fhir.submit import INTERNAL_FAILURE_TEXT, parse_submit
from tests.support.bundles import make_pas_bundle

BASE = make_pas_bundle()


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.just({}),
    st.just([]),
    st.just({"reference": "Patient/missing"}),
    st.just({"reference": "urn:uuid:nowhere"}),
    st.just({"resourceType": "Nope"}),
    st.just(_nested(80)),
    # values R4B accepts that a column would refuse: long strings, control characters, big numbers
    st.sampled_from(["x" * 300, "y" * 600, "a\x00b", "\x1b[2J", "1" * 70]),
    st.integers(min_value=2**31, max_value=2**62),
    st.just(1e40),
)


def _containers(node: Any) -> list[Any]:
    found = [node]
    stack = [node]
    while stack:
        current = stack.pop()
        children = current.values() if isinstance(current, dict) else current
        for child in children:
            if isinstance(child, dict | list):
                found.append(child)
                stack.append(child)
    return found


@st.composite
def mutated_bundles(draw: st.DrawFn, base: dict[str, Any] | None = None) -> dict[str, Any]:
    bundle = copy.deepcopy(BASE if base is None else base)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        containers = _containers(bundle)
        target = containers[draw(st.integers(min_value=0, max_value=len(containers) - 1))]
        action = draw(st.sampled_from(["delete", "replace", "shuffle", "add"]))
        if isinstance(target, dict) and target:
            key = draw(st.sampled_from(sorted(target)))
            if action == "delete":
                del target[key]
            elif action in ("replace", "add"):
                name = key if action == "replace" else draw(st.sampled_from(["reference", "sequence", "x"]))
                target[name] = copy.deepcopy(draw(ODD_VALUES))
            else:
                items = list(target.items())
                target.clear()
                target.update(draw(st.permutations(items)))
        elif isinstance(target, list) and target:
            if action == "delete":
                del target[draw(st.integers(min_value=0, max_value=len(target) - 1))]
            elif action == "shuffle":
                target[:] = draw(st.permutations(target))
            else:
                target.append(copy.deepcopy(draw(ODD_VALUES)))
    return bundle


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
