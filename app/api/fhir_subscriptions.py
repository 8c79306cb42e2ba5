"""`/fhir/Subscription`: R4 backport Subscriptions on the PAS topic (create, read, search, update, delete,
`$status` by GET or POST). The handshake of a new or replaced Subscription is sent right after the
response, from this process (the worker is the fallback)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from fastapi import APIRouter, BackgroundTasks, Request, Response

from app.api.deps import RuntimeDep, SessionDep
from app.api.fhir_claims import fhir_response, read_fhir_body
from app.api.security import require
from app.errors import InvalidRequest, Issue, NotFound, PreconditionFailed
from app.fhir.notification import status_bundle, subscription_status
from app.fhir.outcome import operation_outcome
from app.fhir.searchset import parse_search, searchset, strict_handling
from app.fhir.subscription import parse_subscription, render_subscription
from app.notifications import FhirSubscriptions, SubscriptionView, send_now
from app.security.principal import (
    SUBSCRIPTION_C,
    SUBSCRIPTION_D,
    SUBSCRIPTION_R,
    SUBSCRIPTION_S,
    SUBSCRIPTION_U,
    Principal,
)

router = APIRouter(prefix="/fhir", tags=["fhir"])
_FHIR_BODY: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/fhir+json": {"schema": {"type": "object"}}}, "description": "FHIR resource"},
}


def _render(subscription: SubscriptionView) -> dict[str, Any]:
    return render_subscription(
        subscription.resource,
        subscription_id=str(subscription.id),
        status=subscription.status,
        error=subscription.error,
        version=subscription.version,
        updated=subscription.updated_at,
    )


async def _resource(request: Request, limit: int) -> dict[str, Any]:
    body = await read_fhir_body(request, limit)
    try:
        resource = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidRequest("the body is not JSON") from None
    if not isinstance(resource, dict):
        raise InvalidRequest("the body must be a JSON object")
    return resource


def _location(runtime_base: str, subscription: SubscriptionView) -> dict[str, str]:
    # No `_history/{vid}` in the Location: only the current version is served (no vread).
    return {"Location": f"{runtime_base}/fhir/Subscription/{subscription.id}", "ETag": f'W/"{subscription.version}"'}


def _subscription_id(value: str) -> uuid.UUID:
    """The id in the URL; a malformed one is unknown (404), as on every FHIR route."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"Subscription/{value} is not known") from None


def _check_if_match(request: Request, subscription: SubscriptionView) -> None:
    """`If-Match: W/"n"` (or `"n"`) must name the current version, else 412."""
    wanted = request.headers.get("if-match")
    if wanted is None:
        return
    version = wanted.strip().removeprefix("W/").strip('"')
    if version != str(subscription.version):
        raise PreconditionFailed(
            f"If-Match names version {version}; the current version is {subscription.version}",
            issues=[
                Issue(
                    text="If-Match does not name the current version",
                    code="conflict",
                    expression="Subscription.meta.versionId",
                )
            ],
        )


def _preferred(request: Request, document: dict[str, Any], status_code: int, headers: dict[str, str]) -> Response:
    """The answer `Prefer: return=minimal|representation|OperationOutcome` asks for (representation by default)."""
    prefer = request.headers.get("prefer", "")
    wanted = next((p.split("=", 1)[1].strip() for p in prefer.split(";") if p.strip().startswith("return=")), "")
    if wanted == "minimal":
        return Response(status_code=status_code, headers=headers)
    if wanted == "OperationOutcome":
        text = "created" if status_code == 201 else "updated"
        outcome = operation_outcome([Issue(text=f"Subscription {text}", code="informational", severity="information")])
        return fhir_response(outcome, status_code, headers)
    return fhir_response(document, status_code, headers)


@router.post(
    "/Subscription",
    status_code=201,
    responses={201: _FHIR_BODY[200]},
    summary="Subscribe to the PAS topic",
    description="An R4 backport Subscription (rest-hook) on the PAS topic; answers 201 with `Location` and "
    "`ETag`, and honours `Prefer: return=minimal|representation|OperationOutcome`.",
)
async def create_subscription(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    background: BackgroundTasks,
    principal: Principal = require(SUBSCRIPTION_C),
) -> Response:
    parsed = parse_subscription(await _resource(request, runtime.settings.max_body_bytes))
    subscriptions = FhirSubscriptions(session, principal.scope_client_id, runtime.settings)
    subscription = await subscriptions.create(parsed, client_id=principal.client_id, now=runtime.clock())
    background.add_task(send_now, runtime, subscriptions.handshake_job_id)  # runs after the commit
    return _preferred(request, _render(subscription), 201, _location(runtime.settings.base_url, subscription))


@router.get("/Subscription", responses=_FHIR_BODY, summary="The caller's own Subscriptions (searchset)")
async def list_subscriptions(
    request: Request, runtime: RuntimeDep, session: SessionDep, principal: Principal = require(SUBSCRIPTION_S)
) -> Response:
    strict = strict_handling(request.headers.get("prefer"))
    parameters = parse_search(request.query_params.multi_items(), frozenset(), strict=strict)
    offset = _offset(parameters.cursor)
    subscriptions = FhirSubscriptions(session, principal.scope_client_id, runtime.settings)
    rows, total = await subscriptions.owned(limit=parameters.count, offset=offset)
    more = offset + len(rows) < total and bool(rows)
    url = f"{runtime.settings.base_url}/fhir/Subscription"
    bundle = searchset(
        [_render(row) for row in rows],
        total=total,
        url=url,
        parameters=parameters,
        next_cursor=str(offset + len(rows)) if more else None,
    )
    return fhir_response(bundle)


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit() or len(cursor) > 9:
        raise InvalidRequest("malformed _cursor", issues=[Issue("malformed _cursor", expression="_cursor")])
    return int(cursor)


@router.get("/Subscription/{subscription_id}", responses=_FHIR_BODY, summary="Read a Subscription")
async def read_subscription(
    subscription_id: str,
    runtime: RuntimeDep,
    session: SessionDep,
    principal: Principal = require(SUBSCRIPTION_R),
) -> Response:
    subscription = await FhirSubscriptions(session, principal.scope_client_id, runtime.settings).get(
        _subscription_id(subscription_id)
    )
    return fhir_response(_render(subscription), headers={"ETag": f'W/"{subscription.version}"'})


@router.put("/Subscription/{subscription_id}", responses=_FHIR_BODY, summary="Replace a Subscription (new handshake)")
async def update_subscription(
    subscription_id: str,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    background: BackgroundTasks,
    principal: Principal = require(SUBSCRIPTION_U),
) -> Response:
    key = _subscription_id(subscription_id)
    resource = await _resource(request, runtime.settings.max_body_bytes)
    if resource.get("id") not in (None, str(key), subscription_id):
        raise InvalidRequest("the resource id does not match the URL")
    parsed = parse_subscription(resource)
    subscriptions = FhirSubscriptions(session, principal.scope_client_id, runtime.settings)
    _check_if_match(request, await subscriptions.get(key, for_update=True))
    subscription = await subscriptions.replace(key, parsed, now=runtime.clock())
    background.add_task(send_now, runtime, subscriptions.handshake_job_id)
    return _preferred(request, _render(subscription), 200, {"ETag": f'W/"{subscription.version}"'})


@router.delete("/Subscription/{subscription_id}", status_code=204, summary="Delete a Subscription")
async def delete_subscription(
    subscription_id: str,
    runtime: RuntimeDep,
    session: SessionDep,
    principal: Principal = require(SUBSCRIPTION_D),
) -> Response:
    await FhirSubscriptions(session, principal.scope_client_id, runtime.settings).delete(
        _subscription_id(subscription_id)
    )
    return Response(status_code=204)


@router.get("/Subscription/{subscription_id}/$status", responses=_FHIR_BODY, summary="SubscriptionStatus")
@router.post("/Subscription/{subscription_id}/$status", responses=_FHIR_BODY, summary="SubscriptionStatus (POST)")
async def subscription_status_route(
    subscription_id: str,
    runtime: RuntimeDep,
    session: SessionDep,
    principal: Principal = require(SUBSCRIPTION_R),
) -> Response:
    subscription = await FhirSubscriptions(session, principal.scope_client_id, runtime.settings).get(
        _subscription_id(subscription_id)
    )
    url = f"{runtime.settings.base_url}/fhir/Subscription/{subscription.id}"
    status = subscription_status(
        subscription_url=url,
        status=subscription.status,
        notification_type="query-status",
        events_since_start=subscription.events_since_start,
        events=[],
        base_url=runtime.settings.base_url,
        error=subscription.error,
    )
    return fhir_response(status_bundle(status, subscription_url=url))
