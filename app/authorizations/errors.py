"""The lifecycle's refusals that more than one use case raises."""

from __future__ import annotations

import uuid

from app.errors import NotFound


def not_found(authorization_id: uuid.UUID) -> NotFound:
    """Unknown, or another client's: the same answer, so ids of other clients stay unconfirmed."""
    return NotFound(f"authorization {authorization_id} not found")
