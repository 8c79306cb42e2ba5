"""What the security layer keeps for a running process: the token authority, JWKS cache, replay guard, rate limiter."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

import httpx

from app.security.errors import ConfigurationError
from app.security.jwks import JwksResolver
from app.security.ratelimit import RateLimiter
from app.security.replay import ReplayGuard
from app.security.tokens import TokenAuthority
from app.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SecurityState:
    tokens: TokenAuthority
    jwks: JwksResolver
    replay: ReplayGuard
    limiter: RateLimiter
    token_url: str
    token_limiter_by_client: RateLimiter
    token_limiter_by_address: RateLimiter
    token_failures_by_address: RateLimiter
    development: bool


def token_url(settings: Settings) -> str:
    return f"{settings.base_url}/auth/token"


def build_security(settings: Settings, http: httpx.AsyncClient) -> SecurityState:
    """Refuses (ConfigurationError) to run outside development mode without a token signing key."""
    if settings.token_signing_key is not None:
        key = settings.token_signing_key.get_secret_value().encode()
    elif settings.development:
        key = secrets.token_bytes(32)  # tokens work in development mode, and die with the process
    else:
        raise ConfigurationError(
            "EPA_TOKEN_SIGNING_KEY (32+ bytes) is required outside development mode; "
            "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )
    return SecurityState(
        tokens=TokenAuthority(
            key=key, issuer=settings.base_url, lifetime=timedelta(seconds=settings.access_token_seconds)
        ),
        jwks=JwksResolver(http=http, cache_seconds=settings.jwks_cache_seconds),
        replay=ReplayGuard(),
        limiter=RateLimiter(per_minute=settings.rate_limit_per_minute),
        token_url=token_url(settings),
        token_limiter_by_client=RateLimiter(per_minute=settings.token_rate_limit_per_minute),
        token_limiter_by_address=RateLimiter(per_minute=settings.token_rate_limit_per_address_per_minute),
        token_failures_by_address=RateLimiter(per_minute=settings.token_failures_per_address_per_minute),
        development=settings.development,
    )
