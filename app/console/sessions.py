"""The console's session cookie: `client_id|expires|csrf`, base64url, HMAC-SHA256 signed.

A library (itsdangerous) does the same; these few lines avoid a dependency for one signed value.
The key derives from EPA_TOKEN_SIGNING_KEY, so every API process accepts every other's cookies;
in development mode (no key) it is random per process. The CSRF token lives inside the signed
cookie and is repeated in every form: a POST whose field does not match is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from app.settings import Settings

COOKIE = "epa_console"
LOGIN_COOKIE = "epa_console_login"  # double-submit CSRF token of the login form
LIFETIME_SECONDS = 900
PATH = "/console"


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    client_id: str
    expires: int
    csrf: str


def signing_key(settings: Settings) -> bytes:
    secret = settings.token_signing_key
    if secret is None:
        return secrets.token_bytes(32)
    return hmac.new(secret.get_secret_value().encode(), b"epa console session", hashlib.sha256).digest()


def _sign(key: bytes, payload: bytes) -> str:
    return base64.urlsafe_b64encode(hmac.new(key, payload, hashlib.sha256).digest()).decode().rstrip("=")


def issue(key: bytes, client_id: str, *, now: float | None = None) -> tuple[str, ConsoleSession]:
    session = ConsoleSession(client_id, int(now or time.time()) + LIFETIME_SECONDS, secrets.token_urlsafe(24))
    payload = f"{session.client_id}|{session.expires}|{session.csrf}".encode()
    encoded = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{encoded}.{_sign(key, payload)}", session


def read(key: bytes, cookie: str | None, *, now: float | None = None) -> ConsoleSession | None:
    """The session in a valid, unexpired cookie; None for anything else."""
    if not cookie or len(cookie) > 1024 or "." not in cookie:
        return None
    encoded, _, signature = cookie.rpartition(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        client_id, expires, csrf = payload.decode().split("|")
        expiry = int(expires)
    except ValueError:
        return None
    if not hmac.compare_digest(_sign(key, payload), signature):
        return None
    if expiry < (now or time.time()):
        return None
    return ConsoleSession(client_id, expiry, csrf)


def csrf_matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())
