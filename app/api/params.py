"""Query, path and body values the store can take: row ids within BIGINT, no control characters.

`RowId` types an integer path id (a job, a delivery): one outside 1..2**63-1 is a 422 (400 on
FHIR routes) before any query runs; `Instant` and `DateOrInstant` a date-time or date query value,
likewise bounded (1900 to 2999). `PlainText` types a stored string field of a JSON body.
`refuse_control_characters` runs for every route (an app dependency) and refuses a NUL or other
control character in any query or path parameter, which PostgreSQL would otherwise refuse
mid-query.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Path, Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator

from app.domain import bounds
from app.domain.bounds import has_control_characters

RowId = Annotated[bounds.RowId, Path(description="A row id (1 to 2**63-1).")]
# A date-time a client sends (naive means UTC), between 1900 and 2999; past them a 422 before any query.
Instant = Annotated[datetime, AfterValidator(bounds.bounded_instant)]
DateOrInstant = Annotated[date | datetime, AfterValidator(bounds.bounded_date)]

CONTROL_TEXT = "control characters (NUL, or another below U+0020 than tab, line feed, carriage return) are not allowed"


def _plain(value: str) -> str:
    if has_control_characters(value):
        raise ValueError(CONTROL_TEXT)
    return value


PlainText = Annotated[str, AfterValidator(_plain)]
"""A string field of a JSON body that is stored: no control characters (PostgreSQL refuses NUL)."""


async def refuse_control_characters(request: Request) -> None:
    errors = [
        {"loc": ("query", name), "msg": CONTROL_TEXT, "type": "value_error"}
        for name, value in request.query_params.multi_items()
        if has_control_characters(name) or has_control_characters(value)
    ]
    errors += [
        {"loc": ("path", name), "msg": CONTROL_TEXT, "type": "value_error"}
        for name, value in request.path_params.items()
        if isinstance(value, str) and has_control_characters(value)
    ]
    if errors:
        raise RequestValidationError(errors)
