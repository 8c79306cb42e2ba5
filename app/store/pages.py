"""Keyset page cursors: (updated_at, id) of a page's last row, base64url-encoded.

A page ordered by (updated_at desc, id desc) continues after the cursor, so it never repeats or
skips a row that did not change between requests. Malformed cursors are the client's error (400).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

from app.domain.bounds import bounded_instant
from app.errors import InvalidRequest


def encode_cursor(updated_at: datetime, authorization_id: uuid.UUID) -> str:
    raw = f"{updated_at.isoformat()}|{authorization_id.hex}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, ident = raw.partition("|")
        updated_at, authorization_id = datetime.fromisoformat(when), uuid.UUID(hex=ident)
        if updated_at.tzinfo is None:
            raise ValueError("naive")
        updated_at = bounded_instant(updated_at)  # a tampered cursor near year 1 or 9999 is malformed too
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidRequest("malformed cursor") from None
    return updated_at, authorization_id
