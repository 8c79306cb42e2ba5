"""Client registrations: who may ask for tokens, with which keys and scopes.

A change (scopes, admin flag, keys, removal, disabling) takes effect on the client's next request:
scopes are intersected with the registration on every call, and keys are read when the next
assertion is verified. Nothing here commits; the statements are in `repository`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import jwt
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.security import repository
from app.security.principal import ADMIN, ALL_SCOPES, Principal
from app.security.scopes import granted_by_any
from app.store.models import ClientRegistration

REGISTRABLE_SCOPES = ALL_SCOPES | {ADMIN}
SIGNING_ALGORITHMS = ("RS384", "ES384")


class RegistrationError(ValueError):
    """A registration that cannot be stored (bad key set, unknown scope, duplicate id)."""


def check_jwks(jwks: Any) -> dict[str, Any]:
    """Return the key set if it holds at least one public RSA or EC key usable for RS384/ES384."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise RegistrationError('a JWKS is a JSON object with a "keys" array')
    try:
        keys = jwt.PyJWKSet.from_dict(jwks).keys
    except jwt.PyJWTError as exc:
        raise RegistrationError(f"unusable JWKS ({type(exc).__name__})") from None
    if not any(key.key_type in {"RSA", "EC"} for key in keys):
        raise RegistrationError("the JWKS holds no RSA or EC key")
    for raw in jwks["keys"]:
        if isinstance(raw, dict) and ({"d", "p", "q"} & raw.keys()):
            raise RegistrationError("the JWKS holds a private key: register public keys only")
    return jwks


def check_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted(set(scopes))
    unknown = [scope for scope in chosen if scope not in REGISTRABLE_SCOPES]
    if unknown:
        raise RegistrationError(f"unknown scopes: {', '.join(unknown)}")
    return chosen


async def get_client(session: AsyncSession, client_id: str) -> ClientRegistration | None:
    if not _plausible_id(client_id):
        return None
    return await repository.get_registration(session, client_id)


async def read_client(engine: AsyncEngine, client_id: str) -> ClientRegistration | None:
    """The registration as stored now, outside any unit of work (a signed request's check reads it this way)."""
    if not _plausible_id(client_id):
        return None
    return await repository.read_registration(engine, client_id)


def _plausible_id(client_id: str) -> bool:
    return 0 < len(client_id) <= 128


async def _registered(session: AsyncSession, client_id: str) -> ClientRegistration:
    registration = await get_client(session, client_id)
    if registration is None:
        raise RegistrationError(f"no client {client_id!r}")
    return registration


async def add_client(
    session: AsyncSession,
    client_id: str,
    *,
    scopes: Sequence[str],
    jwks: dict[str, Any] | None = None,
    jwks_url: str | None = None,
    admin: bool = False,
) -> ClientRegistration:
    """Register a client (flushes; the caller commits)."""
    if not client_id or len(client_id) > 128 or not client_id.isprintable() or " " in client_id:
        raise RegistrationError("a client id is 1 to 128 printable characters without spaces")
    if (jwks is None) == (jwks_url is None):
        raise RegistrationError("give exactly one of an inline JWKS or a JWKS URL")
    if jwks_url is not None and not jwks_url.startswith("https://"):
        raise RegistrationError("a JWKS URL must use https")
    if await repository.get_registration(session, client_id) is not None:
        raise RegistrationError(f"client {client_id!r} is already registered")
    now = datetime.now(UTC)
    registration = ClientRegistration(
        client_id=client_id,
        jwks=check_jwks(jwks) if jwks is not None else None,
        jwks_url=jwks_url,
        scopes=check_scopes(scopes),
        admin=admin,
        enabled=True,
        created_at=now,
        updated_at=now,
    )
    await repository.add_registration(session, registration)
    return registration


async def list_clients(session: AsyncSession) -> list[ClientRegistration]:
    return await repository.list_registrations(session)


async def set_enabled(session: AsyncSession, client_id: str, enabled: bool) -> ClientRegistration:
    registration = await _registered(session, client_id)
    registration.enabled = enabled
    registration.updated_at = datetime.now(UTC)
    await repository.save_registration(session, registration)
    return registration


async def update_client(
    session: AsyncSession, client_id: str, *, scopes: Iterable[str] | None, admin: bool | None
) -> ClientRegistration:
    """Replace the allowed scopes and/or the admin flag (None leaves it as it is)."""
    registration = await _registered(session, client_id)
    if scopes is not None:
        registration.scopes = check_scopes(scopes)
    if admin is not None:
        registration.admin = admin
    registration.updated_at = datetime.now(UTC)
    await repository.save_registration(session, registration)
    return registration


async def replace_keys(
    session: AsyncSession, client_id: str, *, jwks: dict[str, Any] | None, jwks_url: str | None
) -> ClientRegistration:
    """Replace the client's public keys: an inline JWKS (already checked with `check_jwks`) or a JWKS URL."""
    registration = await _registered(session, client_id)
    registration.jwks, registration.jwks_url = jwks, jwks_url
    registration.updated_at = datetime.now(UTC)
    await repository.save_registration(session, registration)
    return registration


async def remove_client(session: AsyncSession, client_id: str) -> None:
    """Delete the registration: its tokens stop working at once (its stored requests stay)."""
    await repository.delete_registration(session, await _registered(session, client_id))


def allowed_scopes(registration: ClientRegistration) -> frozenset[str]:
    """What the client may be granted now (admin clients may also be granted the admin scope)."""
    scopes = frozenset(registration.scopes or ())
    return scopes | {ADMIN} if registration.admin else scopes - {ADMIN}


def principal_for(registration: ClientRegistration, asked: Iterable[str]) -> Principal:
    """The caller a registration authenticated, holding the `asked` scopes it is (still) registered for
    (a scope withdrawn since a token was issued is gone at once)."""
    allowed = allowed_scopes(registration)
    scopes = {s for s in asked if granted_by_any(allowed, s)}
    return Principal(client_id=registration.client_id, scopes=frozenset(scopes - {ADMIN}), admin=ADMIN in scopes)
