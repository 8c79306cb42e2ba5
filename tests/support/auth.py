"""Client keys, registrations, assertions and tokens for tests of authenticated routes.

    token = await token_for(client, app, "ehr-a", [CLAIM_WRITE, CLAIM_RESPONSE_READ])
    response = await client.get("/fhir/...", headers=bearer(token))

Works with the development-mode `app`/`client` fixtures too: a request with a bearer token is
verified even in development mode (only token-less requests act as the development principal).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI

from app.runtime import Runtime
from app.security.registry import add_client, get_client
from app.security.state import SecurityState

Algorithm = Literal["RS384", "ES384"]
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True, slots=True)
class ClientKey:
    """A client's private signing key and the public JWKS to register."""

    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    alg: Algorithm
    kid: str

    @property
    def jwks(self) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.alg)
        public = json.loads(algorithm.to_jwk(self.private_key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": self.alg, "use": "sig"}]}


@lru_cache(maxsize=8)
def client_key(alg: Algorithm = "RS384", kid: str = "test-key") -> ClientKey:
    """A key pair (cached per process: RSA generation is slow)."""
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if alg == "RS384":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        private = ec.generate_private_key(ec.SECP384R1())
    return ClientKey(private_key=private, alg=alg, kid=kid)


def client_assertion(
    client_id: str, key: ClientKey, audience: str, *, lifetime: int = 120, jti: str | None = None, **overrides: Any
) -> str:
    """A signed client assertion; `overrides` replaces claims (e.g. iss=..., exp=...)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "exp": now + lifetime,
        "iat": now,
        "jti": jti or uuid.uuid4().hex,
    }
    claims.update(overrides)
    return jwt.encode(claims, key.private_key, algorithm=key.alg, headers={"kid": key.kid})


def token_url(app: FastAPI) -> str:
    security: SecurityState = app.state.security
    return security.token_url


async def register_client(
    app: FastAPI,
    client_id: str,
    scopes: Iterable[str],
    *,
    key: ClientKey | None = None,
    admin: bool = False,
) -> ClientKey:
    """Register `client_id` (once) in the app's database with `key`'s public JWKS."""
    key = key or client_key()
    runtime: Runtime = app.state.runtime
    async with runtime.sessions() as session:
        if await get_client(session, client_id) is None:
            await add_client(session, client_id, scopes=list(scopes), jwks=key.jwks, admin=admin)
            await session.commit()
    return key


async def request_token(http: httpx.AsyncClient, assertion: str, scopes: Iterable[str], **form: str) -> httpx.Response:
    """POST /auth/token with a client assertion; `form` overrides fields (e.g. grant_type=...)."""
    data = {
        "grant_type": "client_credentials",
        "scope": " ".join(scopes),
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        **form,
    }
    return await http.post("/auth/token", data=data)


async def token_for(
    http: httpx.AsyncClient,
    app: FastAPI,
    client_id: str,
    scopes: Iterable[str],
    *,
    admin: bool = False,
    key: ClientKey | None = None,
) -> str:
    """Register `client_id` with `scopes` if needed, and return an access token granting them."""
    scopes = list(scopes)
    key = await register_client(app, client_id, scopes, key=key, admin=admin)
    response = await request_token(http, client_assertion(client_id, key, token_url(app)), scopes)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
