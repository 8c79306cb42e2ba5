"""Standard Webhooks signing: secrets the service generates, and the three headers of a message.

Signatures come from the `standardwebhooks` package. During a secret rotation's grace period
a message carries two signatures (new and previous secret), space-separated in
`webhook-signature`, so a receiver verifies with whichever secret it holds.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh signing secret in the Standard Webhooks form (`whsec_` + base64 of 32 random bytes)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(secrets_in_use: Sequence[str], message_id: str, timestamp: datetime, body: bytes) -> dict[str, str]:
    """`webhook-id`, `webhook-timestamp`, `webhook-signature` (one signature per secret) and the content type."""
    text = body.decode()
    signatures = [Webhook(secret).sign(msg_id=message_id, timestamp=timestamp, data=text) for secret in secrets_in_use]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
    }
