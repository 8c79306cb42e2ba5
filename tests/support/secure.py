"""An application with authentication on (not development mode): its settings, with a known token
signing key, and probe routes that need scopes (for the security tests and the client-library tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI

from app.api.auditing import AuditDep
from app.api.security import require
from app.security.principal import CLAIM_RESPONSE_READ, JOBS_READ, Principal
from app.settings import Settings

SIGNING_KEY = "test-signing-key-0123456789abcdef-0123456789"


def add_probe_routes(app: FastAPI) -> None:
    """/fhir/_probe (OperationOutcome errors) and /ops/_probe (problem+json errors), both audited."""
    router = APIRouter()

    @router.get("/fhir/_probe/{resource_id}")
    async def fhir_probe(
        resource_id: str, principal: Annotated[Principal, require(CLAIM_RESPONSE_READ)], audit: AuditDep
    ) -> dict[str, Any]:
        audit.record("probe.read", "ClaimResponse", [resource_id])
        return {"client_id": principal.client_id, "scope_client_id": principal.scope_client_id}

    @router.get("/ops/_probe")
    async def ops_probe(principal: Annotated[Principal, require(JOBS_READ)]) -> dict[str, Any]:
        return {"client_id": principal.client_id}

    app.include_router(router)


def secure_settings_for(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "development": False,
        "data_dir": tmp_path,
        "token_signing_key": SIGNING_KEY,
        **overrides,
    }
    return Settings(_env_file=None, **values)
