"""Hypothesis strategies over PAS request Bundles: a valid Bundle damaged a few times over (keys deleted,
values replaced by odd ones, containers shuffled or grown), for the parsers' and the endpoints' fuzz tests."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

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
