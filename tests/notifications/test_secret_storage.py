"""Webhook signing secrets are encrypted at rest; keys rotate; migration 0006 encrypts existing rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.notifications.endpoints import reencrypt_secrets
from app.notifications.secret_box import SecretBox, SecretUnreadable, open_headers
from app.notifications.subscriptions import reencrypt_headers
from app.runtime import Runtime
from app.settings import Settings
from app.store import migrate
from app.store.database import create_engine, create_session_factory
from app.store.models import FhirSubscription, WebhookEndpoint
from tests.support.databases import BACKENDS, POSTGRES_ENV, fresh_database, postgres_admin_url


async def _stored(engine: AsyncEngine) -> tuple[str, str | None]:
    async with create_session_factory(engine)() as session:
        endpoint = (await session.execute(select(WebhookEndpoint))).scalar_one()
        return endpoint.secret, endpoint.previous_secret


async def test_the_stored_secret_is_not_the_secret_the_client_received(
    client: httpx.AsyncClient, runtime: Runtime, engine: AsyncEngine
) -> None:
    created = await client.post("/webhooks", json={"url": "http://127.0.0.1:9/h", "event_types": ["*"]})
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    stored, _ = await _stored(engine)
    assert secret not in stored
    assert secret.removeprefix("whsec_") not in stored
    assert SecretBox(runtime.settings).open(stored) == secret

    rotated = (await client.post(f"/webhooks/{created.json()['id']}/rotate-secret")).json()["secret"]
    stored, previous = await _stored(engine)
    assert previous is not None
    assert rotated not in stored
    assert secret not in previous
    assert [SecretBox(runtime.settings).open(v) for v in (stored, previous)] == [rotated, secret]


def _settings(tmp_path: Path, *keys: str, signing_key: str | None = None) -> Settings:
    return Settings(
        data_dir=tmp_path,
        development=signing_key is None,
        token_signing_key=signing_key,
        webhook_secret_keys=list(keys),
        _env_file=None,
    )


async def test_a_new_key_in_front_decrypts_old_rows_and_reencryption_lets_the_old_key_go(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = SecretBox(_settings(tmp_path, old))
    now = datetime.now(UTC)
    async with create_session_factory(engine).begin() as session:
        session.add(
            WebhookEndpoint(
                id=uuid.uuid4(),
                client_id="c",
                url="https://hooks.example.org/h",
                event_types=["*"],
                secret=before.seal("whsec_current"),
                previous_secret=before.seal("whsec_previous"),
                created_at=now,
                updated_at=now,
            )
        )
    during = SecretBox(_settings(tmp_path, new, old))
    stored, previous = await _stored(engine)
    assert during.open(stored) == "whsec_current"
    with pytest.raises(SecretUnreadable):
        SecretBox(_settings(tmp_path, new)).open(stored)

    async with create_session_factory(engine).begin() as session:
        assert await reencrypt_secrets(session, during) == 1
    after = SecretBox(_settings(tmp_path, new))
    stored, previous = await _stored(engine)
    assert after.open(stored) == "whsec_current"
    assert previous is not None
    assert after.open(previous) == "whsec_previous"


def test_keys_are_derived_from_the_token_signing_key_when_none_is_configured(tmp_path: Path) -> None:
    signing = "s" * 40
    sealed = SecretBox(_settings(tmp_path, signing_key=signing)).seal("whsec_x")
    assert SecretBox(_settings(tmp_path, Fernet.generate_key().decode(), signing_key=signing)).open(sealed) == "whsec_x"
    with pytest.raises(SecretUnreadable):
        SecretBox(_settings(tmp_path, signing_key="t" * 40)).open(sealed)


def test_a_malformed_key_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a Fernet key"):
        _settings(tmp_path, "not-a-key")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_migration_0006_encrypts_existing_secrets_and_its_downgrade_decrypts_them(
    backend: str, tmp_path: Path
) -> None:
    if backend == "postgresql" and postgres_admin_url() is None:
        pytest.skip(f"needs {POSTGRES_ENV}")
    settings = _settings(tmp_path, Fernet.generate_key().decode())
    async with fresh_database(backend, tmp_path) as url:
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine, "0005", settings=settings)
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO webhook_endpoints (id, client_id, url, event_types, enabled, secret,"
                        " previous_secret, created_at, updated_at) VALUES (:id, 'c', 'https://h.example.org/',"
                        " '[\"*\"]', true, 'whsec_plain', NULL, :now, :now)"
                    ),
                    {"id": uuid.uuid4().hex if backend == "sqlite" else str(uuid.uuid4()), "now": datetime.now(UTC)},
                )
            await migrate.upgrade(engine, settings=settings)
            stored, _ = await _stored(engine)
            assert "whsec_plain" not in stored
            assert SecretBox(settings).open(stored) == "whsec_plain"
            await migrate.downgrade(engine, "0005", settings=settings)
            async with engine.connect() as connection:
                assert (await connection.execute(text("SELECT secret FROM webhook_endpoints"))).scalar_one() == (
                    "whsec_plain"
                )
        finally:
            await engine.dispose()


async def test_reencryption_seals_subscription_headers_stored_in_plaintext_and_masks_the_resource(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    box = SecretBox(_settings(tmp_path, Fernet.generate_key().decode()))
    now = datetime.now(UTC)
    header = "Authorization: Bearer legacy-token"
    async with create_session_factory(engine).begin() as session:
        session.add(
            FhirSubscription(
                client_id="c",
                status="active",
                topic="t",
                endpoint="https://ehr.example.org/hook",
                content="id-only",
                content_type="application/fhir+json",
                headers=[header],
                resource={"resourceType": "Subscription", "channel": {"header": [header]}},
                created_at=now,
                updated_at=now,
            )
        )
    async with create_session_factory(engine).begin() as session:
        assert await reencrypt_headers(session, box) == 1
    async with create_session_factory(engine)() as session:
        row = (await session.scalars(select(FhirSubscription))).one()
    assert "legacy-token" not in orjson.dumps([row.headers, row.resource]).decode()
    assert open_headers(box, row.headers) == [header]  # still sent as the subscriber gave it
    assert row.resource["channel"]["header"] == ["Authorization: ****"]
