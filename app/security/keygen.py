"""A new client key pair for production onboarding (`epa clients add --generate-key`): an EC P-384
private key (PEM, PKCS#8) for the client, and the public JWKS the hub registers. Nothing is logged."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm


def generate_client_key(kid: str) -> tuple[bytes, dict[str, Any]]:
    """(private key PEM, public JWKS with one ES384 signing key named `kid`)."""
    private = ec.generate_private_key(ec.SECP384R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(private.public_key()))
    public.update({"kid": kid, "alg": "ES384", "use": "sig"})
    return pem, {"keys": [public]}
