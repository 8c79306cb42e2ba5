"""Audit records as FHIR R4 AuditEvent resources (plain dicts) and a searchset Bundle of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.store.models import AuditRecord

_ACTIONS = {
    "submit": "C",
    "create": "C",
    "subscribe": "C",
    "read": "R",
    "list": "R",
    "search": "R",
    "inquire": "E",
    "update": "U",
    "cancel": "U",
    "replay": "E",
    "delete": "D",
}
OPERATION_SYSTEM = "urn:epa:audit-operation"
REQUEST_ID_SYSTEM = "urn:epa:request-id"


def _action(operation: str) -> str:
    verb = operation.rpartition(".")[2].lower()
    return _ACTIONS.get(verb, "E")


def _outcome(status: int) -> str:
    if status < 400:
        return "0"  # success
    return "4" if status < 500 else "8"  # minor failure (refused) / serious failure


def audit_event(record: AuditRecord, base_url: str) -> dict[str, Any]:
    entities: list[dict[str, Any]] = [
        {"what": {"reference": f"{record.resource_type}/{rid}"}} if record.resource_type else {"what": {"display": rid}}
        for rid in record.resource_ids
    ]
    if record.request_id:
        entities.append(
            {
                "what": {"identifier": {"system": REQUEST_ID_SYSTEM, "value": record.request_id}},
                "type": {
                    "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                    "code": "4",
                    "display": "Other",
                },
            }
        )
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(record.id),
        "type": {
            "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
            "code": "rest",
            "display": "RESTful Operation",
        },
        "subtype": [{"system": OPERATION_SYSTEM, "code": record.operation}],
        "action": _action(record.operation),
        "recorded": record.at.isoformat(),
        "outcome": _outcome(record.outcome),
        "outcomeDesc": f"HTTP {record.outcome}",
        "agent": [
            {
                "who": {"identifier": {"system": f"{base_url}/clients", "value": record.client_id}},
                "requestor": True,
            }
        ],
        "source": {
            "observer": {"display": "epa-hub"},
            "type": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                    "code": "4",
                    "display": "Application Server",
                }
            ],
        },
    }
    if entities:
        event["entity"] = entities
    return event


def audit_bundle(records: Sequence[AuditRecord], base_url: str, next_url: str | None) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"fullUrl": f"{base_url}/audit/AuditEvent/{r.id}", "resource": audit_event(r, base_url)} for r in records
        ],
    }
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle
