"""A payer's PAS endpoint on loopback that approves every item after a fixed delay.

Run as `python -m bench.slow_payer PORT DELAY_SECONDS`.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/"
X12_306 = "https://codesystem.x12.org/005010/306"


def _approval(sequence: int) -> dict[str, Any]:
    action = {
        "url": PAS + "extension-reviewAction",
        "extension": [
            {"url": "number", "valueString": f"AUTH-{sequence}"},
            {
                "url": PAS + "extension-reviewActionCode",
                "valueCodeableConcept": {"coding": [{"system": X12_306, "code": "A1"}]},
            },
        ],
    }
    return {
        "itemSequence": sequence,
        "adjudication": [{"category": {"coding": [{"code": "submitted"}]}, "extension": [action]}],
    }


def build(delay: float) -> Starlette:
    async def submit(request: Request) -> Response:
        bundle = orjson.loads(await request.body())
        claim = bundle["entry"][0]["resource"]
        await asyncio.sleep(delay)
        response = {
            "resourceType": "ClaimResponse",
            "id": "payer-response",
            "identifier": [{"system": "urn:bench:payer", "value": bundle["identifier"]["value"]}],
            "status": "active",
            "use": "preauthorization",
            "outcome": "complete",
            "preAuthRef": "AUTH",
            "item": [_approval(item["sequence"]) for item in claim.get("item", [])],
        }
        body = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": response}]}
        return Response(orjson.dumps(body), media_type="application/fhir+json")

    return Starlette(routes=[Route("/fhir/Claim/$submit", submit, methods=["POST"])])


if __name__ == "__main__":
    uvicorn.run(
        build(float(sys.argv[2])), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False
    )
