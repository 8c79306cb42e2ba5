"""No PHI in logs: Bundles carrying recognizable names, birth dates and member ids go through the app
at debug level, and none of them appears in any log record (message, arguments or extra fields)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.logging import configure_logging
from app.security.principal import CLAIM_RESPONSE_READ, CLAIM_WRITE
from tests.fhir.factories import make_pas_bundle
from tests.support.auth import bearer, token_for

FAMILY, GIVEN, BIRTH_DATE, MEMBER_ID, MRN = "Zorblewicz", "Quintessa", "1937-04-19", "MBR-7Q4ZX9", "MRN-X8K2PQ"
MARKERS = (FAMILY, GIVEN, BIRTH_DATE, MEMBER_ID, MRN)


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("httpx", "httpcore")) and "testserver" in record.getMessage():
            return  # the test's own HTTP client, not the service
        fields = {k: v for k, v in record.__dict__.items() if k not in {"msg", "args"}}
        self.texts.append(
            f"[{record.name}] {record.getMessage()} {record.msg!r} {record.args!r} {fields!r} {record.exc_text or ''}"
        )


@pytest.fixture
def captured() -> Iterator[_Everything]:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("debug")  # the production set-up at its most talkative
    handler = _Everything()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def _marked_bundle() -> dict[str, Any]:
    bundle = make_pas_bundle()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            resource["name"] = [{"family": FAMILY, "given": [GIVEN]}]
            resource["birthDate"] = BIRTH_DATE
            resource["identifier"] = [{"system": "http://provider.example.org/mrn", "value": MRN}]
        if resource["resourceType"] == "Coverage":
            resource["subscriberId"] = MEMBER_ID
            resource["identifier"] = [{"system": "http://payer.example.org/member", "value": MEMBER_ID}]
    return bundle


async def test_requests_with_phi_leave_no_phi_in_the_logs(
    app: FastAPI, client: httpx.AsyncClient, captured: _Everything
) -> None:
    token = await token_for(client, app, "ehr-a", [CLAIM_WRITE, CLAIM_RESPONSE_READ])
    bundle = _marked_bundle()
    fhir = {"Content-Type": "application/fhir+json"} | bearer(token)
    for path in ("/fhir/Claim/$submit", "/fhir/Claim/$inquire"):
        await client.post(path, content=json.dumps(bundle), headers=fhir)  # any status: it is the logs we check
        broken = json.dumps(bundle)[:-40]  # invalid JSON still holding the markers
        await client.post(path, content=broken, headers=fhir)
        await client.post(path, content=json.dumps(bundle), headers={"Content-Type": "application/fhir+json"})
    await client.post(
        "/auth/token", data={"grant_type": "client_credentials", "client_assertion": f"{FAMILY}.{BIRTH_DATE}"}
    )
    await client.post("/auth/token", data={"client_assertion": MEMBER_ID, "scope": GIVEN}, headers=bearer(MRN))
    await client.get("/audit", params={"client": MEMBER_ID, "operation": FAMILY}, headers=bearer(token))
    await client.get("/fhir/ClaimResponse/cr-unknown", params={"name": FAMILY}, headers=bearer(token))

    assert captured.texts, "nothing was logged: the capture is not working"
    leaks = [(marker, text) for text in captured.texts for marker in MARKERS if marker in text]
    assert [(marker, text[:300]) for marker, text in leaks] == []
