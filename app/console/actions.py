"""Console POST forms, each CSRF-checked: refresh and cancel an authorization, retry a job or run it
now, redeliver or send a delivery now (or every pending one of an endpoint).

Each redirects (303) back to the page it came from with a notice, or with the error the service
raised (a 409 for a request already decided, say), so a reload never posts twice.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from app import operations
from app.api.auditing import open_audit
from app.api.deps import RuntimeDep, SessionDep
from app.console.access import CheckedOperatorDep
from app.console.rendering import back_to
from app.domain.bounds import RowId
from app.errors import EpaError
from app.jobs.queries import retry_job, run_job_now
from app.notifications import WebhookDeliveries
from app.operations import cancel

router = APIRouter(prefix="/console", include_in_schema=False)


@router.post("/authorizations/{authorization_id}/refresh")
async def refresh(
    authorization_id: uuid.UUID,
    runtime: RuntimeDep,
    session: SessionDep,
    operator: CheckedOperatorDep,
    request: Request,
) -> Response:
    page = f"/console/authorizations/{authorization_id}"
    open_audit(request, operator.principal.client_id).record(
        "authorization.refresh", "Authorization", [authorization_id]
    )
    try:
        await operations.refresh(
            session,
            authorization_id,
            client_id=operator.principal.scope_client_id,
            now=runtime.clock(),
            base_url=runtime.settings.base_url,
        )
    except EpaError as exc:
        return back_to(page, error=str(exc))
    return back_to(page, notice="Follow-up queued to run now.")


@router.post("/authorizations/{authorization_id}/cancel")
async def cancel_authorization(
    authorization_id: uuid.UUID,
    runtime: RuntimeDep,
    operator: CheckedOperatorDep,
    request: Request,
    reason: Annotated[str | None, Form(max_length=2000)] = None,
    confirm: Annotated[str | None, Form(max_length=8)] = None,
) -> Response:
    """Asks for a confirmation and a reason; the timeline records who cancelled and why."""
    page = f"/console/authorizations/{authorization_id}"
    if confirm != "yes":
        return back_to(page, error="Not cancelled: tick the confirmation box to cancel this request.")
    if reason is None or not reason.strip():
        return back_to(page, error="Not cancelled: say why (the reason is kept in the timeline).")
    open_audit(request, operator.principal.client_id).record(
        "authorization.cancel", "Authorization", [authorization_id]
    )
    try:
        result = await cancel(
            runtime,
            authorization_id,
            client_id=operator.principal.scope_client_id,
            operator=operator.principal.client_id,
            reason=reason[:500],
        )
    except EpaError as exc:
        return back_to(page, error=str(exc))
    told = "the payer was told" if result.payer_notified else "the payer will be told by a follow-up"
    return back_to(page, notice=f"Cancelled; {told}.")


@router.post("/jobs/{job_id}/retry")
async def retry(job_id: RowId, runtime: RuntimeDep, session: SessionDep, operator: CheckedOperatorDep) -> Response:
    try:
        await retry_job(session, job_id, client_id=operator.principal.scope_client_id, now=runtime.clock())
    except EpaError as exc:
        return back_to("/console/jobs", error=str(exc))
    return back_to("/console/jobs", notice=f"Job {job_id} queued again.")


@router.post("/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(
    endpoint_id: uuid.UUID, delivery_id: RowId, runtime: RuntimeDep, session: SessionDep, operator: CheckedOperatorDep
) -> Response:
    page = f"/console/webhooks/{endpoint_id}"
    try:
        await WebhookDeliveries(session, operator.principal.scope_client_id).redeliver(delivery_id, now=runtime.clock())
    except EpaError as exc:
        return back_to(page, error=str(exc))
    return back_to(page, notice=f"Delivery {delivery_id} queued again.")


@router.post("/jobs/{job_id}/run-now")
async def run_now(
    job_id: int, runtime: RuntimeDep, session: SessionDep, operator: CheckedOperatorDep, request: Request
) -> Response:
    open_audit(request, operator.principal.client_id).record("job.run-now", "Job", [job_id])
    try:
        await run_job_now(session, job_id, client_id=operator.principal.scope_client_id, now=runtime.clock())
    except EpaError as exc:
        return back_to("/console/jobs", state="queued", error=str(exc))
    return back_to("/console/jobs", state="queued", notice=f"Job {job_id} runs now.")


@router.post("/webhooks/{endpoint_id}/deliveries/{delivery_id}/send-now")
async def send_now(
    endpoint_id: uuid.UUID,
    delivery_id: int,
    runtime: RuntimeDep,
    session: SessionDep,
    operator: CheckedOperatorDep,
    request: Request,
) -> Response:
    page = f"/console/webhooks/{endpoint_id}"
    open_audit(request, operator.principal.client_id).record(
        "webhook.delivery.send-now", "WebhookDelivery", [delivery_id]
    )
    try:
        await WebhookDeliveries(session, operator.principal.scope_client_id).send_now(delivery_id, now=runtime.clock())
    except EpaError as exc:
        return back_to(page, error=str(exc))
    return back_to(page, notice=f"Delivery {delivery_id} is attempted now.")


@router.post("/webhooks/{endpoint_id}/send-pending-now")
async def send_pending_now(
    endpoint_id: uuid.UUID, runtime: RuntimeDep, session: SessionDep, operator: CheckedOperatorDep, request: Request
) -> Response:
    page = f"/console/webhooks/{endpoint_id}"
    open_audit(request, operator.principal.client_id).record(
        "webhook.endpoint.send-pending-now", "WebhookEndpoint", [endpoint_id]
    )
    try:
        deliveries = WebhookDeliveries(session, operator.principal.scope_client_id)
        moved = await deliveries.send_pending_now(endpoint_id, now=runtime.clock())
    except EpaError as exc:
        return back_to(page, error=str(exc))
    return back_to(page, notice=f"{moved} pending deliveries are attempted now.")
