"""CRD links to DTR: Coverage Information with doc-needed names the service's questionnaires (both CRD versions)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.requirements.test_cds_hooks import CRD_INFO, call, device_request, hook_request

POWER_MOBILITY = "https://epa-hub.example.org/fhir/dtr/sandbox/Questionnaire/power-mobility|1.0.0"


def parts(action: dict[str, Any], name: str) -> list[Any]:
    (extension,) = [e for e in action["resource"]["extension"] if e["url"] == CRD_INFO]
    return [next(v for k, v in p.items() if k.startswith("value")) for p in extension["extension"] if p["url"] == name]


@pytest.mark.parametrize("version", [None, "2.0.1"])
async def test_doc_needed_coverage_information_carries_the_questionnaire(
    client: httpx.AsyncClient, version: str | None
) -> None:
    body = hook_request("order-sign", device_request("K0823"), device_request("99213", "dr-2"))
    if version:
        body["extension"] = {"davinci-crd.version": version}
    wheelchair, visit = (await call(client, "crd-order-sign", body)).json()["systemActions"]
    assert parts(wheelchair, "doc-needed")
    assert parts(wheelchair, "questionnaire") == [POWER_MOBILITY]
    assert parts(visit, "questionnaire") == []
