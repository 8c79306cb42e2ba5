"""Trusting CDS Clients (CDS Hooks 2.0): verify the JWT an EHR signs for each hook call.

The EHR sends `Authorization: Bearer <JWT>` signed with its private key (RS384 or ES384), with
`kid` in the header and the claims `iss` (the EHR, registered here as a client with its JWKS by
`epa clients add`, inline or by URL), `aud` (the CDS Service's own URL: `<base>/cds-services/<id>`),
`exp` (at most five minutes ahead), `iat` and `jti` (each accepted once, remembered until it
expires). The key is the registered JWKS's; a `jku` in the header is not trusted (an EHR whose keys
move registers its JWKS URL instead). Any failure is a 401 with a Bearer challenge; the reason is
said, never the token.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

import jwt
import orjson

from app.security.assertion import CLOCK_SKEW_SECONDS, MAX_ASSERTION_CHARS, MAX_ASSERTION_LIFETIME_SECONDS
from app.security.assertion import AssertionContext as CdsJwtContext
from app.security.errors import OAuthError
from app.security.registry import SIGNING_ALGORITHMS, read_client
from app.security.replay import use_assertion_once
from app.security.tokens import rejected_token
from app.store.models import ClientRegistration

__all__ = ["CdsJwtContext", "is_cds_client_jwt", "verify_cds_client_jwt"]


def is_cds_client_jwt(token: str) -> bool:
    """Whether a bearer token is an EHR-signed JWT (RS384/ES384) rather than one of the hub's access tokens.

    Only a routing decision, read off the header segment alone (the token is parsed whole, and checked,
    once, by `verify_cds_client_jwt`): on the hot path of every signed hook call."""
    segment = token.partition(".")[0]
    try:
        header = orjson.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error):
        return False
    return isinstance(header, dict) and header.get("alg") in SIGNING_ALGORITHMS


async def verify_cds_client_jwt(token: str, audience: str, context: CdsJwtContext) -> ClientRegistration:
    """The registration of the EHR that signed `token` for the service at `audience`, or Unauthorized (401)."""
    if len(token) > MAX_ASSERTION_CHARS:
        raise rejected_token("the CDS client JWT is too long")
    try:
        unverified_parts = jwt.decode_complete(token, options={"verify_signature": False})  # one parse
    except jwt.PyJWTError:
        raise rejected_token("the CDS client JWT is not well-formed") from None
    header: dict[str, Any] = unverified_parts["header"]
    unverified: dict[str, Any] = unverified_parts["payload"]
    if header.get("alg") not in SIGNING_ALGORITHMS or not isinstance(header.get("kid"), str) or not header["kid"]:
        raise rejected_token("the CDS client JWT must be signed with RS384 or ES384 and name its kid")
    issuer = unverified.get("iss")
    if not isinstance(issuer, str):
        raise rejected_token("the CDS client JWT has no iss")
    registration = await read_client(context.engine, issuer)
    if registration is None or not registration.enabled:
        raise rejected_token("the CDS client JWT's issuer is not a registered client")
    try:
        key = await context.jwks.key_for(registration, header)
    except OAuthError:
        raise rejected_token("no registered key of the issuer matches the CDS client JWT's kid") from None
    claims = _verified(token, key, header["alg"], audience, issuer)
    expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
    if (expires - datetime.now(UTC)).total_seconds() > MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS:
        raise rejected_token("the CDS client JWT's exp is more than five minutes ahead")
    jti = claims["jti"]
    if not isinstance(jti, str) or not 0 < len(jti) <= 256:
        raise rejected_token("the CDS client JWT's jti must be a string of 1 to 256 characters")
    if not await use_assertion_once(context.engine, context.replay, issuer, jti, expires):
        raise rejected_token("the CDS client JWT's jti was already used")
    return registration


def _verified(token: str, key: jwt.PyJWK, algorithm: str, audience: str, issuer: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[algorithm],
            audience=audience,
            issuer=issuer,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["iss", "aud", "exp", "iat", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise rejected_token("the CDS client JWT has expired") from None
    except jwt.InvalidAudienceError:
        raise rejected_token(f"the CDS client JWT's aud must be {audience}") from None
    except jwt.InvalidSignatureError:
        raise rejected_token("the CDS client JWT's signature does not verify") from None
    except jwt.PyJWTError as exc:
        raise rejected_token(f"the CDS client JWT is not acceptable ({type(exc).__name__})") from None
    return claims
