"""Building `fhir-pas` adapters for tests: keys, settings and an adapter on a given http client."""

from __future__ import annotations

from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.payers.contract import AdapterContext
from app.payers.fhir_pas import FhirPasAdapter, create_adapter
from tests.payers.builders import Clock, RecordingSleep

BASE = "https://payer.test/fhir"
TOKEN_URL = "https://auth.payer.test/token"


def ec_key_pem() -> tuple[bytes, ec.EllipticCurvePublicKey]:
    key = ec.generate_private_key(ec.SECP384R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem, key.public_key()


def settings(*, auth_pem: bytes | None = None, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"base_url": BASE, "headers": {"X-Partner": "epa-hub"}, **overrides}
    if auth_pem is not None:
        values["auth"] = {
            "token_url": TOKEN_URL,
            "client_id": "epa-hub",
            "private_key": auth_pem.decode(),
            "key_id": "k1",
            "algorithm": "ES384",
            "scope": "system/Claim.write",
        }
    return values


def fhir_pas(
    http: httpx.AsyncClient,
    values: dict[str, Any],
    clock: Clock | None = None,
    sleep: RecordingSleep | None = None,
) -> FhirPasAdapter:
    context = AdapterContext(payer_id="acme", http=http, clock=clock or Clock(), sleep=sleep or RecordingSleep())
    return create_adapter(values, context)
