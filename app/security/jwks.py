"""A client's public keys: its inline JWKS, or one fetched from its JWKS URL (timeout, brief cache)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

from app.security.errors import OAuthError
from app.store.models import ClientRegistration

log = logging.getLogger(__name__)

FETCH_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
MAX_JWKS_BYTES = 64 * 1024
REFETCH_AFTER_SECONDS = 30.0  # an unknown kid triggers a refetch, at most this often per URL


@dataclass(slots=True)
class _Cached:
    keys: jwt.PyJWKSet
    fetched_at: float


@dataclass(slots=True)
class JwksResolver:
    """Finds the verification key for a client assertion. One per process; the cache is an optimisation only."""

    http: httpx.AsyncClient
    cache_seconds: float
    _cache: dict[str, _Cached] = field(default_factory=dict)

    async def key_for(self, registration: ClientRegistration, header: dict[str, Any]) -> jwt.PyJWK:
        kid = header.get("kid")
        alg = header.get("alg")
        if registration.jwks is not None:
            return _pick(_parse(registration.jwks), kid, alg)
        assert registration.jwks_url is not None
        url = registration.jwks_url
        cached = self._cache.get(url)
        now = time.monotonic()
        if cached is None or now - cached.fetched_at > self.cache_seconds:
            cached = await self._fetch(url, now)
        try:
            return _pick(cached.keys, kid, alg)
        except OAuthError:
            if now - cached.fetched_at < REFETCH_AFTER_SECONDS:
                raise
            return _pick((await self._fetch(url, now)).keys, kid, alg)

    async def _fetch(self, url: str, now: float) -> _Cached:
        try:
            response = await self.http.get(url, timeout=FETCH_TIMEOUT, headers={"Accept": "application/json"})
            response.raise_for_status()
            if len(response.content) > MAX_JWKS_BYTES:
                raise ValueError("JWKS too large")
            keys = _parse(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("client JWKS fetch failed", extra={"error_type": type(exc).__name__})
            raise OAuthError("invalid_client", "the client's JWKS could not be fetched") from None
        cached = _Cached(keys=keys, fetched_at=now)
        self._cache[url] = cached
        return cached


def _parse(document: Any) -> jwt.PyJWKSet:
    try:
        return jwt.PyJWKSet.from_dict(document)
    except (jwt.PyJWTError, TypeError, AttributeError):
        raise OAuthError("invalid_client", "the client's JWKS holds no usable key") from None


def _pick(keys: jwt.PyJWKSet, kid: object, alg: object) -> jwt.PyJWK:
    # Keys without "alg" get PyJWT's default for their type (RS256, or ES384 for a P-384 curve).
    usable = {"RS384": ("RSA", {"RS384", "RS256"}), "ES384": ("EC", {"ES384"})}.get(alg if isinstance(alg, str) else "")
    if usable is None:
        raise OAuthError("invalid_client", "the assertion must be signed with RS384 or ES384")
    family, algorithms = usable
    candidates = [
        key
        for key in keys.keys
        if key.key_type == family
        and key.algorithm_name in algorithms
        and (kid is None or key.key_id == kid)
        and key.public_key_use in (None, "sig")
    ]
    if len(candidates) != 1:
        raise OAuthError("invalid_client", "no single registered key matches the assertion's kid and alg")
    return candidates[0]
