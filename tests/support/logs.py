"""Capturing every log record the service writes, at debug level, to look for PHI in it.

`marked_bundle()` is a PAS request carrying recognizable PHI (a name, a birth date, a member
id, an MRN); `captured_logs()` installs the production logging set-up at its most talkative
plus a handler keeping every record's full text (message, arguments, extra fields, traceback);
`phi_in(texts)` lists what leaked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from app.logging import configure_logging
from tests.support.bundles import make_pas_bundle

FAMILY, GIVEN, BIRTH_DATE, MEMBER_ID, MRN = "Zorblewicz", "Quintessa", "1937-04-19", "MBR-7Q4ZX9", "MRN-X8K2PQ"
DOCUMENT_FRAGMENT = '"resourceType":"Coverage"'  # a piece of any stored request document
MARKERS = (FAMILY, GIVEN, BIRTH_DATE, MEMBER_ID, MRN, DOCUMENT_FRAGMENT)


_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", logging.INFO, "", 0, "", (), None).__dict__) | {"message"}


class CapturedLogs(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("httpx", "httpcore")) and "testserver" in record.getMessage():
            return  # the test's own HTTP client, not the service
        # the extra fields only: a LogRecord's own attributes (levelname, funcName, ...) are the logger's, and
        # their names would match a fuzzer's string of the same spelling
        fields = {k: v for k, v in record.__dict__.items() if k not in _RECORD_ATTRIBUTES}
        exc_text = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        self.records.append(record)
        self.texts.append(
            f"[{record.name}] {record.getMessage()} {record.msg!r} {record.args!r} {fields!r} "
            f"{record.exc_text or ''} {exc_text}"
        )


@contextmanager
def captured_logs() -> Iterator[CapturedLogs]:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("debug")  # the production set-up at its most talkative
    handler = CapturedLogs()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def phi_in(texts: list[str]) -> list[tuple[str, str]]:
    """(marker, the first 300 characters of the line) for every marker found in a line."""
    return [(marker, text[:300]) for text in texts for marker in MARKERS if marker in text]


def marked_bundle() -> dict[str, Any]:
    bundle = make_pas_bundle()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            resource["name"] = [{"family": FAMILY, "given": [GIVEN]}]
            resource["birthDate"] = BIRTH_DATE
            resource["identifier"] = [{"system": "http://provider.example.org/mrn", "value": MRN}]
        if resource["resourceType"] == "Coverage":
            resource["subscriberId"] = MEMBER_ID
            resource["identifier"] = [{"system": "http://payer.example.org/member", "value": MEMBER_ID}]
    return bundle
