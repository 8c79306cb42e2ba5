"""How big a stored or searched value may be: one place for the column sizes and the input rules.

`app/store/models/` sizes its columns with these constants and the input edges (`app/fhir/`
for FHIR bodies, the payer adapters for payer answers, the API for query and path parameters)
refuse what would not fit, so PostgreSQL never sees a value it would reject. A test compares the
models' column lengths with these numbers.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

import annotated_types

# Identifiers, stored as "system|value" (system, a bar, the value).
# authorizations.bundle_identifier, claim_identifier; Subscription org; authorization_identifiers.system
# and .value (kept apart for token search, so the "system|value" of a Patient or member identifier is bounded)
IDENTIFIER_KEY_LENGTH = 512
MEMBER_ID_LENGTH = 256  # authorizations.patient_member_id
PROVIDER_KEY_LENGTH = 256  # authorizations.provider_identifier ("system|value")
PREAUTH_REF_LENGTH = 128  # authorizations.preauth_ref; items.authorization_number
PAYER_REFERENCE_LENGTH = 256  # authorizations.payer_reference (the payer's ClaimResponse identifier)
CODE_SYSTEM_LENGTH = 256  # items.product_system; coverage_assertions.product_system
CODE_LENGTH = 64  # items.product_code, authorized_code; coverage_assertions.product_code
CLIENT_ID_LENGTH = 128
COVERAGE_ASSERTION_ID_LENGTH = 64
ORDER_REFERENCE_LENGTH = 256
URL_LENGTH = 2048  # webhook and Subscription endpoints
TOPIC_LENGTH = 512
SEALED_SECRET_LENGTH = 512  # a Fernet token of a webhook signing secret (about 164 characters)
USAGE_REFERENCE_LENGTH = 128  # authorization_usage.reference (the client's id of one report)

# NUMERIC(12, 3): quantities (requested, authorized, used).
QUANTITY_PRECISION = 12
QUANTITY_SCALE = 3
QUANTITY_MAX = Decimal(10) ** (QUANTITY_PRECISION - QUANTITY_SCALE) - Decimal(1).scaleb(-QUANTITY_SCALE)

# SQL INTEGER / BIGINT columns (sequences, row ids).
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

# A row id a client or an operator sends (a job, a delivery): the one parser the API and the
# console share, so an id past BIGINT is refused (422) before any query, wherever it comes in.
RowId = Annotated[int, annotated_types.Ge(1), annotated_types.Le(INT64_MAX)]


def quantity_fits(value: Decimal) -> bool:
    """Whether `value` is finite and within NUMERIC(12, 3) (more decimals are rounded, not refused)."""
    return value.is_finite() and abs(value) <= QUANTITY_MAX


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def has_control_characters(text: str) -> bool:
    """NUL and the other C0 control characters except tab, line feed and carriage return.

    FHIR strings may not hold them, PostgreSQL refuses NUL in text, and in a header or a log
    line they forge structure.
    """
    return _CONTROL.search(text) is not None


# Appeals (app/api/appeals.py refuses more; the appeals tables are sized by these).
APPEAL_REASON_LENGTH = 2000  # appeals.reason
APPEAL_DOCUMENT_TITLE_LENGTH = 200  # appeal_documents.title
APPEAL_DOCUMENT_TYPE_LENGTH = 128  # appeal_documents.content_type (a MIME type)
APPEAL_DOCUMENT_MAX_BYTES = 1_000_000  # one document, decoded
APPEAL_DOCUMENTS_MAX = 5  # documents per appeal


# Instants and dates a client sends (filters, report periods, paging cursors). Within these a
# conversion to UTC, a default span or a day added never leaves Python's or the database's range
# (near year 1 or 9999 with an offset, it would: a 500 instead of a 4xx).
EARLIEST_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(2999, 12, 31, tzinfo=UTC)
INSTANT_RANGE_TEXT = "must be between 1900-01-01 and 2999-12-31 (UTC)"


def bounded_instant(value: datetime) -> datetime:
    """`value` in UTC (naive means UTC), or ValueError when it lies outside the instants a client may send."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    try:
        utc = aware.astimezone(UTC)
    except OverflowError:
        raise ValueError(INSTANT_RANGE_TEXT) from None
    if not EARLIEST_INSTANT <= utc <= LATEST_INSTANT:
        raise ValueError(INSTANT_RANGE_TEXT)
    return utc


def bounded_date(value: date | datetime) -> date | datetime:
    """A date or an instant within the range a client may send (an instant comes back in UTC), else ValueError."""
    if isinstance(value, datetime):
        return bounded_instant(value)
    if not EARLIEST_INSTANT.date() <= value <= LATEST_INSTANT.date():
        raise ValueError(INSTANT_RANGE_TEXT)
    return value
