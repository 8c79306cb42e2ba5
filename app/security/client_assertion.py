"""The client's side of SMART Backend Services: a signed client assertion, as `epa token` sends it.

The hub verifies assertions in `assertion.py`; this module makes one the way a registered client
does: the client's private key (PEM; RS384 for RSA keys, ES384 for EC P-384 keys), `iss` = `sub` =
the client id, `aud` = the token URL, `exp` two minutes ahead, a fresh `jti`. The key is never
printed or logged.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_SECONDS = 120


class SigningKeyError(ValueError):
    """A private key file that cannot sign a client assertion (unreadable, or not RSA / EC P-384)."""


def _signing_key(path: Path) -> tuple[rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, str]:
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SigningKeyError(f"cannot read a PEM private key from {path} ({type(exc).__name__})") from None
    if isinstance(key, rsa.RSAPrivateKey):
        return key, "RS384"
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP384R1):
        return key, "ES384"
    raise SigningKeyError("the key must be an RSA key (RS384) or an EC P-384 key (ES384)")


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
