"""SMART Backend Services client authentication: verify a client's signed JWT assertion.

The checks, in order: RS384/ES384 only; `iss` = `sub` = a registered, enabled client; the
signature against that client's keys; `aud` = the token URL; `exp` present, not past and at
most five minutes ahead; `jti` present and never seen before (remembered until it expires).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.errors import OAuthError
from app.security.jwks import JwksResolver
from app.security.registry import SIGNING_ALGORITHMS, read_client
from app.security.replay import ReplayGuard, use_assertion_once
from app.store.models import ClientRegistration

MAX_ASSERTION_LIFETIME_SECONDS = 300
CLOCK_SKEW_SECONDS = 30
MAX_ASSERTION_CHARS = 16_384


@dataclass(frozen=True, slots=True)
class AssertionContext:
    engine: AsyncEngine
    replay: ReplayGuard
    jwks: JwksResolver
    token_url: str


def _unverified(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    if len(assertion) > MAX_ASSERTION_CHARS:
        raise OAuthError("invalid_client", "the client assertion is too long")
    try:
        parts = jwt.decode_complete(assertion, options={"verify_signature": False})  # one parse for both
    except jwt.PyJWTError:
        raise OAuthError("invalid_client", "the client assertion is not a well-formed JWT") from None
    return parts["header"], parts["payload"]


async def verify_client_assertion(assertion: str, context: AssertionContext) -> ClientRegistration:
    """Return the registration of the client that signed `assertion`, or raise OAuthError."""
    header, unverified = _unverified(assertion)
    if header.get("alg") not in SIGNING_ALGORITHMS:
        raise OAuthError("invalid_client", "the client assertion must be signed with RS384 or ES384")
    client_id = unverified.get("iss")
    if not isinstance(client_id, str) or unverified.get("sub") != client_id:
        raise OAuthError("invalid_client", "the assertion's iss and sub must both be the client id")
    registration = await read_client(context.engine, client_id)
    if registration is None or not registration.enabled:
        raise OAuthError("invalid_client", "unknown or disabled client")  # same answer: no enumeration
    key = await context.jwks.key_for(registration, header)
    try:
        claims = jwt.decode(
            assertion,
            key.key,
            algorithms=[header["alg"]],
            audience=context.token_url,
            issuer=client_id,
            options={"require": ["iss", "sub", "aud", "exp", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise OAuthError("invalid_client", "the client assertion has expired") from None
    except jwt.InvalidAudienceError:
        raise OAuthError("invalid_client", f"the assertion's aud must be {context.token_url}") from None
    except jwt.InvalidSignatureError:
        raise OAuthError("invalid_client", "the client assertion's signature does not verify") from None
    except jwt.PyJWTError as exc:
        raise OAuthError("invalid_client", f"the client assertion is not acceptable ({type(exc).__name__})") from None
    expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
    if (expires - datetime.now(UTC)).total_seconds() > MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS:
        raise OAuthError("invalid_client", "the assertion's exp is more than five minutes ahead")
    jti = claims["jti"]
    if not isinstance(jti, str) or not 0 < len(jti) <= 256:
        raise OAuthError("invalid_client", "the assertion's jti must be a string of 1 to 256 characters")
    if not await use_assertion_once(context.engine, context.replay, client_id, jti, expires):
        raise OAuthError("invalid_client", "the assertion's jti was already used")
    return registration
