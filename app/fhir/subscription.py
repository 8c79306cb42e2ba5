"""The R4 Subscription (Subscriptions R5 Backport) on the PAS topic: parse a client's resource, render ours.

Accepted: `criteria` = the PAS topic canonical; `channel.type` rest-hook with an `endpoint`;
`channel.payload` (application/fhir+json) with the backport `payload-content` extension
`full-resource` (PAS spec-62: an intermediary sends full resources only, so `id-only`, `empty`
and an absent extension, which the backport reads as `id-only`, are refused with 400); the
`backport-filter-criteria` extension on `criteria` (`org-identifier=system|value` or the 2.0.1
spelling `orgIdentifier=...`); `channel.header` ("Name: value" strings); the backport
`heartbeat-period` extension (seconds); `end`. Anything else in the resource is kept and
echoed back. Validated with the R4B `Subscription` model; errors are InvalidRequest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fhir.resources.R4B.subscription import Subscription
from pydantic import ValidationError

from app.domain import bounds
from app.errors import InvalidRequest, Issue
from app.fhir.limits import ParseLimits, check_json_limits

PAS_TOPIC = "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic"
BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
FILTER_CRITERIA = BACKPORT + "backport-filter-criteria"
PAYLOAD_CONTENT = BACKPORT + "backport-payload-content"
HEARTBEAT_PERIOD = BACKPORT + "backport-heartbeat-period"
SUBSCRIPTION_PROFILE = BACKPORT + "backport-subscription"
FILTER_NAMES = ("org-identifier", "orgIdentifier")
CONTENTS = ("empty", "id-only", "full-resource")
"""Every payload content the backport defines (notifications of Subscriptions stored before spec-62 still render)."""
FULL_RESOURCE = "full-resource"
"""The only payload content a client may ask for (PAS spec-62)."""
FHIR_JSON = "application/fhir+json"


@dataclass(frozen=True, slots=True)
class SubscriptionRequest:
    """What the service acts on, taken from a client's Subscription resource."""

    resource: dict[str, Any]
    endpoint: str
    org_identifier: str | None
    content: str
    headers: list[str]
    heartbeat_seconds: int | None
    end: datetime | None


def _extension(element: dict[str, Any] | None, url: str) -> dict[str, Any] | None:
    for extension in (element or {}).get("extension", []):
        if isinstance(extension, dict) and extension.get("url") == url:
            return extension
    return None


def _org_filter(resource: dict[str, Any]) -> str | None:
    found = _extension(resource.get("_criteria"), FILTER_CRITERIA)
    if found is None:
        return None
    name, _, value = str(found.get("valueString", "")).partition("=")
    if name.strip() not in FILTER_NAMES or not value.strip():
        raise InvalidRequest(
            "the filter criteria must be org-identifier=[system|]value",
            issues=[
                Issue(text="unsupported filter criteria", code="not-supported", expression="Subscription.criteria")
            ],
        )
    return value.strip()


def _bad(text: str, expression: str, code: str = "invalid") -> InvalidRequest:
    return InvalidRequest(text, issues=[Issue(text=text, code=code, expression=expression)])


def parse_subscription(resource: dict[str, Any]) -> SubscriptionRequest:
    """Validate a client's Subscription (R4B model, then the backport/PAS rules) into a SubscriptionRequest."""
    if resource.get("resourceType") != "Subscription":
        raise _bad("the body must be a Subscription resource", "Subscription")
    check_json_limits(resource, ParseLimits(), "Subscription")  # nesting, sizes, no control characters
    try:
        model = Subscription.model_validate(resource)
    except ValidationError as exc:
        issues = [
            Issue(text=str(e.get("msg")), expression=".".join(str(p) for p in e.get("loc", ()))) for e in exc.errors()
        ]
        raise InvalidRequest("the Subscription is not valid FHIR R4", issues=issues or None) from None
    if model.criteria != PAS_TOPIC:
        raise _bad(f"criteria must be the PAS topic {PAS_TOPIC}", "Subscription.criteria", "not-supported")
    channel = resource.get("channel", {})
    if model.channel.type != "rest-hook" or not model.channel.endpoint:
        raise _bad("channel.type must be rest-hook, with an endpoint", "Subscription.channel", "not-supported")
    if model.channel.payload and model.channel.payload != FHIR_JSON:
        raise _bad(f"channel.payload must be {FHIR_JSON}", "Subscription.channel.payload", "not-supported")
    content_ext = _extension(channel.get("_payload"), PAYLOAD_CONTENT)
    content = str(content_ext.get("valueCode")) if content_ext else "id-only"
    if content != FULL_RESOURCE:
        stated = f"is {content!r}" if content_ext else "is absent (the backport reads it as 'id-only')"
        text = (
            f"the payload content {stated}: as a PAS intermediary this service sends full resources only "
            f"(PAS spec-62); set the backport-payload-content extension to {FULL_RESOURCE!r}"
        )
        raise _bad(text, "Subscription.channel.payload", "not-supported")
    heartbeat_ext = _extension(channel, HEARTBEAT_PERIOD)
    heartbeat = heartbeat_ext.get("valueUnsignedInt") if heartbeat_ext else None
    if heartbeat is not None and (not isinstance(heartbeat, int) or heartbeat < 1):
        raise _bad("the heartbeat period must be a positive number of seconds", "Subscription.channel.extension")
    headers = [str(h) for h in (model.channel.header or [])]
    if any(":" not in h or "\n" in h or "\r" in h for h in headers):
        raise _bad('channel.header entries must be "Name: value"', "Subscription.channel.header")
    end = model.end if isinstance(model.end, datetime) else None
    endpoint, org_identifier = str(model.channel.endpoint), _org_filter(resource)
    if len(endpoint) > bounds.URL_LENGTH:
        raise _bad(f"channel.endpoint is longer than {bounds.URL_LENGTH} characters", "Subscription.channel.endpoint")
    if org_identifier is not None and len(org_identifier) > bounds.IDENTIFIER_KEY_LENGTH:
        text = f"the filter's identifier is longer than {bounds.IDENTIFIER_KEY_LENGTH} characters"
        raise _bad(text, "Subscription.criteria")
    return SubscriptionRequest(
        resource=resource,
        endpoint=endpoint,
        org_identifier=org_identifier,
        content=content,
        headers=headers,
        heartbeat_seconds=heartbeat,
        end=end,
    )


def render_subscription(
    resource: dict[str, Any], *, subscription_id: str, status: str, error: str | None, version: int, updated: datetime
) -> dict[str, Any]:
    """The stored Subscription with the server's id, status, error and meta."""
    rendered = {key: value for key, value in resource.items() if key not in ("id", "meta", "status", "error")}
    meta = {"versionId": str(version), "lastUpdated": updated.isoformat(), "profile": [SUBSCRIPTION_PROFILE]}
    result: dict[str, Any] = {"resourceType": "Subscription", "id": subscription_id, "meta": meta, **rendered}
    result["status"] = status
    if error:
        result["error"] = error
    return result


HEADER_MASK = "****"


def masked_headers(resource: dict[str, Any]) -> dict[str, Any]:
    """`resource` with each `channel.header` value masked ("Authorization: ****"): the subscriber knows
    its own headers, and neither the store nor a read shows them."""
    channel = resource.get("channel")
    if not isinstance(channel, dict) or not isinstance(channel.get("header"), list):
        return resource
    masked = [f"{str(h).partition(':')[0].strip()}: {HEADER_MASK}" for h in channel["header"]]
    return {**resource, "channel": {**channel, "header": masked}}
