"""Access tokens this service issues: short-lived HS256 JWTs naming the client and its granted scopes."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from app.errors import Unauthorized
from app.security.principal import ADMIN

ALGORITHM = "HS256"
BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="epa"'}


@dataclass(frozen=True, slots=True)
class AccessToken:
    client_id: str
    scopes: frozenset[str]
    expires_at: datetime

    @property
    def admin(self) -> bool:
        return ADMIN in self.scopes


@dataclass(frozen=True, slots=True)
class TokenAuthority:
    """Signs and verifies access tokens. `issuer` is the service's base URL (also the audience)."""

    key: bytes
    issuer: str
    lifetime: timedelta

    def issue(self, client_id: str, scopes: Iterable[str]) -> tuple[str, int]:
        now = datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "aud": self.issuer,
            "sub": client_id,
            "scope": " ".join(sorted(scopes)),
            "iat": int(now.timestamp()),
            "exp": int((now + self.lifetime).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.key, algorithm=ALGORITHM), int(self.lifetime.total_seconds())

    def verify(self, token: str) -> AccessToken:
        """Return the token's claims, or raise Unauthorized (401 with a Bearer challenge)."""
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=[ALGORITHM],
                audience=self.issuer,
                issuer=self.issuer,
                options={"require": ["iss", "aud", "sub", "exp", "scope"]},
            )
        except jwt.ExpiredSignatureError:
            raise _unauthorized("the access token has expired", "invalid_token") from None
        except jwt.PyJWTError:
            raise _unauthorized("the access token is not valid", "invalid_token") from None
        scope, sub = claims["scope"], claims["sub"]
        if not isinstance(scope, str) or not isinstance(sub, str):
            raise _unauthorized("the access token is not valid", "invalid_token")
        return AccessToken(
            client_id=sub, scopes=frozenset(scope.split()), expires_at=datetime.fromtimestamp(claims["exp"], UTC)
        )


def _unauthorized(message: str, error: str | None = None) -> Unauthorized:
    challenge = 'Bearer realm="epa"' + (f', error="{error}"' if error else "")
    return Unauthorized(message, headers={"WWW-Authenticate": challenge})


def missing_token() -> Unauthorized:
    return _unauthorized("a bearer token is required (SMART Backend Services: POST /auth/token)")


def rejected_token(message: str) -> Unauthorized:
    return _unauthorized(message, "invalid_token")
