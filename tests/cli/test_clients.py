"""`epa clients add|list|disable` and fetching a client's JWKS from its URL."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from app.security.errors import OAuthError
from app.security.jwks import JwksResolver
from app.security.registry import RegistrationError, check_jwks
from app.store.models import ClientRegistration
from tests.support.auth import client_key
from tests.support.processes import run_epa


def test_clients_add_list_disable_never_print_keys(tmp_path: Path) -> None:
    env = {"EPA_DATA_DIR": str(tmp_path)}
    assert run_epa("db", "upgrade", env=env).returncode == 0
    jwks = client_key("ES384").jwks
    (tmp_path / "jwks.json").write_text(json.dumps(jwks))
    added = run_epa(
        "clients", "add", "ehr-a", "--jwks-file", str(tmp_path / "jwks.json"), "--scope", "system/Claim.write", env=env
    )
    assert added.returncode == 0, added.stderr
    assert run_epa("clients", "disable", "ehr-a", env=env).returncode == 0
    listed = run_epa("clients", "list", env=env)
    assert listed.stdout.split() == ["ehr-a", "disabled", "-", "jwks:inline", "system/Claim.write"]
    assert jwks["keys"][0]["x"] not in listed.stdout + listed.stderr + added.stdout + added.stderr
    refused = run_epa("clients", "add", "ehr-b", "--jwks-url", "http://keys.example", "--scope", "x", env=env)
    assert refused.returncode == 2


def test_private_keys_and_empty_key_sets_cannot_be_registered() -> None:
    key = client_key("ES384")
    private = {**key.jwks["keys"][0], "d": "c2VjcmV0"}
    bad_sets: list[dict[str, object]] = [{"keys": [private]}, {"keys": []}, {"nokeys": 1}]
    for bad in bad_sets:
        with pytest.raises(RegistrationError):
            check_jwks(bad)


async def test_a_jwks_url_is_fetched_once_and_cached() -> None:
    jwks = client_key("ES384").jwks
    calls: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(200, json=jwks)

    registration = ClientRegistration(client_id="ehr-a", jwks=None, jwks_url="https://keys.example/jwks")
    async with httpx.AsyncClient(transport=httpx.MockTransport(serve)) as http:
        resolver = JwksResolver(http=http, cache_seconds=300)
        for _ in range(3):
            await resolver.key_for(registration, {"alg": "ES384", "kid": "test-key"})
        with pytest.raises(OAuthError):
            await resolver.key_for(registration, {"alg": "RS384", "kid": "test-key"})
    assert calls == ["https://keys.example/jwks"]


async def test_an_unreachable_jwks_url_is_invalid_client() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    registration = ClientRegistration(client_id="ehr-a", jwks=None, jwks_url="https://keys.example/jwks")
    async with httpx.AsyncClient(transport=httpx.MockTransport(down)) as http:
        with pytest.raises(OAuthError) as raised:
            await JwksResolver(http=http, cache_seconds=300).key_for(registration, {"alg": "ES384"})
    assert raised.value.error == "invalid_client"


def test_clients_add_on_a_fresh_sqlite_migrates_and_every_command_names_its_database(tmp_path: Path) -> None:
    env = {"EPA_DATA_DIR": str(tmp_path / "fresh")}  # no `epa db upgrade` first, as on a new clone
    (tmp_path / "jwks.json").write_text(json.dumps(client_key("ES384").jwks))
    database = f"epa: database: SQLite at {(tmp_path / 'fresh' / 'epa.sqlite3').resolve()}"

    jwks_file = str(tmp_path / "jwks.json")
    added = run_epa("clients", "add", "ehr-a", "--jwks-file", jwks_file, "--scope", "system/Claim.write", env=env)
    listed = run_epa("clients", "list", env=env)
    history = run_epa("db", "history", env=env)

    assert added.returncode == 0, added.stderr
    assert listed.stdout.split()[0] == "ehr-a"
    for result in (added, listed, history):
        assert result.stderr.splitlines()[0] == database


def test_clients_add_generate_key_writes_the_private_key_and_registers_its_public_jwks(tmp_path: Path) -> None:
    env = {"EPA_DATA_DIR": str(tmp_path)}
    key = tmp_path / "ehr-k.pem"

    added = run_epa("clients", "add", "ehr-k", "--scope", "system/Claim.write", "--generate-key", str(key), env=env)
    again = run_epa("clients", "add", "ehr-l", "--scope", "system/Claim.write", "--generate-key", str(key), env=env)

    assert added.returncode == 0, added.stderr
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert key.stat().st_mode & 0o777 == 0o600
    assert "PRIVATE" not in added.stdout + added.stderr
    assert f"epa token --client ehr-k --key {key}" in added.stdout
    assert run_epa("clients", "list", env=env).stdout.split()[:4] == ["ehr-k", "enabled", "-", "jwks:inline"]
    assert again.returncode == 2  # an existing key file is never overwritten
    assert "never overwritten" in again.stderr


def test_a_generated_key_signs_what_its_registered_jwks_verifies() -> None:
    import jwt

    from app.security.keygen import generate_client_key

    pem, jwks = generate_client_key(kid="ehr-k-1")
    signed = jwt.encode({"iss": "ehr-k"}, pem, algorithm="ES384", headers={"kid": "ehr-k-1"})
    public = jwt.PyJWK(jwks["keys"][0])
    assert jwt.decode(signed, public.key, algorithms=["ES384"]) == {"iss": "ehr-k"}
    assert "d" not in jwks["keys"][0]  # public only
    check_jwks(jwks)  # the registry accepts it
