"""`epa token` against a real `epa serve` (authentication on): the printed token opens the FHIR routes."""

from __future__ import annotations

import http.server
import json
import secrets
import threading
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


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"<html>maintenance</html>"),
        ("application/json", b'["access_token"]'),
        ("application/json", b'{"access_token": 42}'),
        ("text/html", b"<html>access_token</html>"),
    ],
)
def test_a_token_url_answering_200_without_a_json_token_is_one_line_and_exit_2(
    tmp_path: Path, content_type: str, body: bytes
) -> None:
    pem = tmp_path / "client.pem"
    pem.write_bytes(
        client_key().private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        result = run_epa(
            "token", "--client", "ehr-1", "--key", str(pem), "--url", url, env={"EPA_DATA_DIR": str(tmp_path)}
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("epa: token refused")
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
