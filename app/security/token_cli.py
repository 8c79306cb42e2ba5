"""`epa token --client ID --key FILE`: a SMART Backend Services access token for a registered client.

Signs a client assertion with the client's private key (PEM; RS384 for RSA keys, ES384 for EC
P-384 keys; `iss` = `sub` = the client id, `aud` = the token URL, `exp` two minutes ahead, a
fresh `jti`), posts it to `POST /auth/token` and prints the access token alone on stdout, so
`TOKEN=$(epa token ...)` feeds the curl examples of the docs. The key is never printed.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Annotated

import httpx
import jwt
import typer
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEFAULT_SCOPES = "system/Claim.write system/ClaimResponse.read system/Subscription.*"
ASSERTION_SECONDS = 120


def _fail(message: str) -> typer.Exit:
    typer.echo(f"epa: {message}", err=True)
    return typer.Exit(2)


def _signing_key(path: Path) -> tuple[rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, str]:
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise _fail(f"cannot read a PEM private key from {path} ({type(exc).__name__})") from None
    if isinstance(key, rsa.RSAPrivateKey):
        return key, "RS384"
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP384R1):
        return key, "ES384"
    raise _fail("the key must be an RSA key (RS384) or an EC P-384 key (ES384)")


def client_assertion(client_id: str, key_file: Path, token_url: str, kid: str | None = None) -> str:
    """A signed client assertion for `token_url` (RS384 or ES384, by the key's type)."""
    key, alg = _signing_key(key_file)
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": token_url,
        "iat": now,
        "exp": now + ASSERTION_SECONDS,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid} if kid else None)


def token(
    client: Annotated[str, typer.Option("--client", help="The registered client id (`epa clients add`).")],
    key: Annotated[Path, typer.Option("--key", help="The client's private key, PEM (RSA or EC P-384).")],
    scope: Annotated[str, typer.Option(help="Space-separated scopes to ask for.")] = DEFAULT_SCOPES,
    url: Annotated[str | None, typer.Option(help="The service's base URL (default EPA_PUBLIC_BASE_URL).")] = None,
    kid: Annotated[str | None, typer.Option(help="The key id (`kid`) in the client's JWKS, if it has several.")] = None,
) -> None:
    """Print an access token for a registered client (SMART Backend Services, private_key_jwt)."""
    from app.cli import load_settings  # late: app.cli registers this command

    base = (url or load_settings().base_url).rstrip("/")
    token_url = f"{base}/auth/token"
    form = {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion(client, key, token_url, kid),
    }
    try:
        response = httpx.post(token_url, data=form, timeout=10.0)
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach {token_url} ({type(exc).__name__})") from None
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code != 200 or "access_token" not in body:
        detail = body.get("error_description") or body.get("error") or f"HTTP {response.status_code}"
        raise _fail(f"token refused: {detail}")
    typer.echo(body["access_token"])
