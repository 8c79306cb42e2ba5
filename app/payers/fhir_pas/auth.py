"""SMART Backend Services tokens: a signed JWT client assertion exchanged for an access token.

The token is cached in the adapter until shortly before it expires (a per-process cache
only: any process can fetch its own token).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from app.payers.contract import Clock
from app.payers.errors import PayerProtocolError, PayerTimeout, PayerUnavailable
from app.payers.fhir_pas.settings import OAuthSettings

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

logger = logging.getLogger(__name__)

PrivateKey = RSAPrivateKey | EllipticCurvePrivateKey


def load_private_key(pem: bytes, algorithm: str) -> PrivateKey:
    """Load a PEM private key and check it suits the algorithm (ValueError otherwise)."""
    key = load_pem_private_key(pem, password=None)
    if algorithm.startswith("RS") and isinstance(key, RSAPrivateKey):
        return key
    if algorithm.startswith("ES") and isinstance(key, EllipticCurvePrivateKey):
        return key
    raise ValueError(f"the private key does not suit {algorithm}")


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    refresh_at: datetime


class TokenProvider:
    """Fetches and caches access tokens for one payer."""

    def __init__(
        self, settings: OAuthSettings, key: PrivateKey, http: httpx.AsyncClient, clock: Clock, payer_id: str
    ) -> None:
        self._settings = settings
        self._key = key
        self._http = http
        self._clock = clock
        self._payer_id = payer_id
        self._token: _Token | None = None
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        """Forget the cached token (after the payer answered 401)."""
        self._token = None

    async def token(self) -> str:
        token = self._token
        if token is not None and self._clock() < token.refresh_at:
            return token.value
        async with self._lock:
            token = self._token
            if token is None or self._clock() >= token.refresh_at:
                token = await self._fetch()
                self._token = token
            return token.value

    def client_assertion(self) -> str:
        now = self._clock()
        claims = {
            "iss": self._settings.client_id,
            "sub": self._settings.client_id,
            "aud": str(self._settings.token_url),
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=self._settings.assertion_lifetime_seconds)).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        headers = {"kid": self._settings.key_id} if self._settings.key_id else None
        return jwt.encode(claims, self._key, algorithm=self._settings.algorithm, headers=headers)

    async def _fetch(self) -> _Token:
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.client_assertion(),
        }
        if self._settings.scope:
            form["scope"] = self._settings.scope
        url = str(self._settings.token_url)
        try:
            response = await self._http.post(url, data=form, headers={"Accept": "application/json"})
        except httpx.TimeoutException as exc:
            raise PayerTimeout("token endpoint timed out") from exc
        except httpx.HTTPError as exc:
            raise PayerUnavailable(f"token endpoint unreachable ({type(exc).__name__})") from exc
        logger.info("token request", extra={"payer_id": self._payer_id, "status_code": response.status_code})
        if response.status_code != 200:
            kind = "refused" if response.status_code in (400, 401, 403) else None  # our credentials
            raise PayerUnavailable(f"token endpoint answered HTTP {response.status_code}", kind=kind)
        try:
            body = orjson.loads(response.content)
            value = body["access_token"]
            expires_in = float(body.get("expires_in", 300))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise PayerProtocolError("token endpoint answered without a usable access_token") from exc
        if not isinstance(value, str) or not value:
            raise PayerProtocolError("token endpoint answered without a usable access_token")
        lead = min(self._settings.refresh_before_seconds, expires_in / 2)
        return _Token(value=value, refresh_at=self._clock() + timedelta(seconds=expires_in - lead))
