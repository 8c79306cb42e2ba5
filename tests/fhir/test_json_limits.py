"""The JSON limits' control-character check: skipped only when the bytes show no string can hold one."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from app.errors import InvalidRequest
from app.fhir.limits import ParseLimits, check_json_limits, may_hold_control_characters


@pytest.mark.parametrize("text", ["\x00", "a\x08b", "a\x0bb", "a\x0cb", "\x1f", "x\x01y"])
def test_a_string_with_a_control_character_is_refused_whatever_escape_wrote_it(text: str) -> None:
    document: dict[str, Any] = {"resourceType": "Bundle", "entry": [{"resource": {"note": [{"text": text}]}}]}
    body = orjson.dumps(document)
    assert may_hold_control_characters(body)
    with pytest.raises(InvalidRequest):
        check_json_limits(document, ParseLimits(), "Bundle", body=body)


@pytest.mark.parametrize("text", ["plain", "tab\there", "lines\r\nhere", "caf\u00e9", "back\\slash"])
def test_strings_without_control_characters_pass_with_or_without_the_bytes(text: str) -> None:
    document = {"resourceType": "Bundle", "entry": [{"resource": {"note": [{"text": text}]}}]}
    body = orjson.dumps(document)
    check_json_limits(document, ParseLimits(), "Bundle", body=body)
    check_json_limits(document, ParseLimits(), "Bundle")


def test_bytes_without_escapes_of_control_characters_skip_the_search() -> None:
    assert not may_hold_control_characters(orjson.dumps({"text": "tab\tline\ncarriage\r"}))
    assert may_hold_control_characters(b'{"text": "\\u0001"}')
    assert may_hold_control_characters(b'{"text": "\\u00e9"}')  # only looks like one: searched, not refused
