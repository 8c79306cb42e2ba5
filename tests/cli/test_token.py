"""`epa token` against a real `epa serve` (authentication on): the printed token opens the FHIR routes."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from tests.support.auth import Algorithm, client_key
from tests.support.processes import free_port, run_epa, serving


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_epa_token_prints_a_token_the_service_accepts(tmp_path: Path, alg: Algorithm) -> None:
    key = client_key(alg)
    pem = tmp_path / "client.pem"
    pem.write_bytes(
        key.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(key.jwks))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "EPA_DATA_DIR": str(tmp_path),
        "EPA_TOKEN_SIGNING_KEY": secrets.token_hex(32),
        "EPA_PUBLIC_BASE_URL": base,
    }
    assert run_epa("db", "upgrade", env=env).returncode == 0
    added = run_epa(
        "clients", "add", "ehr-1", "--scope", "system/ClaimResponse.read", "--jwks-file", str(jwks), env=env
    )
    assert added.returncode == 0, added.stderr
    with serving(env, port):
        printed = run_epa(
            "token", "--client", "ehr-1", "--key", str(pem), "--scope", "system/ClaimResponse.read", env=env
        )
        assert printed.returncode == 0, printed.stderr
        token = printed.stdout.strip()
        assert "\n" not in token
        assert str(pem) not in printed.stdout
        search = httpx.get(
            f"{base}/fhir/ClaimResponse", params={"identifier": "x"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert search.status_code == 200
        assert httpx.get(f"{base}/fhir/ClaimResponse", params={"identifier": "x"}).status_code == 401
        refused = run_epa("token", "--client", "ehr-1", "--key", str(pem), "--scope", "ops/admin", env=env)
    assert refused.returncode == 2
    assert refused.stderr.startswith("epa: token refused")
