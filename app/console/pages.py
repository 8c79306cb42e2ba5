"""Console pages (GET): the worklist, one authorization (with its denial risk while open) and the documents
exchanged with its payer, jobs, webhook endpoints and deliveries, the report, the per-payer denial and
overturn rates.

Each page calls the same services as the JSON API, scoped to the operator's principal.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from app import operations, requirements
from app.api.auditing import open_audit
from app.api.deps import RuntimeDep, SessionDep
from app.console.access import OperatorDep
from app.console.chart import decision_time_chart
from app.console.rendering import render
from app.domain.codes import AuthorizationKind, AuthorizationStatus
from app.jobs.queries import JobFilter, list_jobs
from app.jobs.repository import JobState
from app.notifications import WebhookDeliveries, WebhookEndpoints
from app.operations import AuthorizationFilter
from app.reports.period import as_instant, report_query
from app.reports.prior_auth import prior_auth_report
from app.reports.render import report_json

router = APIRouter(prefix="/console", include_in_schema=False)

PAGE = 25
DELIVERY_STATES = ("pending", "delivered", "failed", "skipped")
EXPIRING_LEAD = timedelta(days=14)
DUE_SOON = timedelta(hours=1)  # "needs attention": overdue or due within the hour


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


@router.get("")
async def home() -> Response:
    return RedirectResponse("/console/authorizations", status_code=303)


@router.get("/authorizations")
async def worklist(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    operator: OperatorDep,
    status: Annotated[str | None, Query(max_length=32)] = None,
    payer: Annotated[str | None, Query(max_length=128)] = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    member_id: Annotated[str | None, Query(max_length=256)] = None,
    overdue: Annotated[str | None, Query(max_length=8)] = None,
    expiring: Annotated[str | None, Query(max_length=8)] = None,
    attention: Annotated[str | None, Query(max_length=8)] = None,
    cursor: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    now = runtime.clock()
    statuses = [s.value for s in AuthorizationStatus]
    kinds = [k.value for k in AuthorizationKind]
    where = AuthorizationFilter(
        statuses=[status] if status in statuses else [],
        payer_id=_blank(payer),
        kind=kind if kind in kinds else None,
        member_id=_blank(member_id),
        overdue=True if overdue else None,
        expiring_before=now + EXPIRING_LEAD if expiring else None,
        attention_before=now + DUE_SOON if attention else None,
    )
    page = await operations.worklist(
        session,
        client_id=operator.principal.scope_client_id,
        where=where,
        now=now,
        base_url=runtime.settings.base_url,
        cursor=_blank(cursor),
        limit=PAGE,
    )
    filters = {
        "status": status or "",
        "payer": payer or "",
        "kind": kind or "",
        "member_id": member_id or "",
        "overdue": bool(overdue),
        "expiring": bool(expiring),
        "attention": bool(attention),
    }
    query = {k: ("1" if v is True else v) for k, v in filters.items() if v}
    client_id = operator.principal.scope_client_id
    context = {
        "page": page,
        "rows": await operations.worklist_rows(session, [a.id for a in page.authorizations]),
        "counts": await operations.status_counts(session, client_id=client_id),
        "filters": filters,
        "query": query,
        "statuses": statuses,
        "kinds": kinds,
        "now": now,
    }
    return render(request, operator, "worklist.html", context)


@router.get("/authorizations/{authorization_id}")
async def detail(
    authorization_id: uuid.UUID, request: Request, runtime: RuntimeDep, session: SessionDep, operator: OperatorDep
) -> Response:
    answer = await operations.read(
        session,
        authorization_id,
        client_id=operator.principal.scope_client_id,
        now=runtime.clock(),
        base_url=runtime.settings.base_url,
    )
    risk = await requirements.risk.request_risk(
        session, authorization_id, operator.principal.scope_client_id, runtime.settings
    )
    return render(request, operator, "detail.html", {"a": answer.detail, "risk": risk})


@router.get("/authorizations/{authorization_id}/exchanges")
async def exchanges(
    authorization_id: uuid.UUID, request: Request, session: SessionDep, operator: OperatorDep
) -> Response:
    """The documents exchanged with the payer (raw X12 278s: PHI; every console operator is an admin)."""
    open_audit(request, operator.principal.client_id).record(
        "authorization.exchanges", "Authorization", [authorization_id]
    )
    listed = await operations.exchanges_of(session, authorization_id, client_id=operator.principal.scope_client_id)
    return render(request, operator, "exchanges.html", {"listed": listed})


@router.get("/jobs")
async def jobs(
    request: Request,
    session: SessionDep,
    operator: OperatorDep,
    state: JobState | None = JobState.DEAD,
    cursor: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    page = await list_jobs(
        session, client_id=operator.principal.scope_client_id, where=JobFilter(state=state), cursor=cursor, limit=PAGE
    )
    context = {"jobs": page.jobs, "next_cursor": page.next_cursor, "state": state, "states": list(JobState)}
    return render(request, operator, "jobs.html", context)


@router.get("/webhooks")
async def webhooks(request: Request, runtime: RuntimeDep, session: SessionDep, operator: OperatorDep) -> Response:
    endpoints = await WebhookEndpoints(session, operator.principal.scope_client_id, runtime.settings).all_with_health()
    return render(request, operator, "webhooks.html", {"endpoints": endpoints})


@router.get("/webhooks/{endpoint_id}")
async def webhook_deliveries(
    endpoint_id: uuid.UUID,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    operator: OperatorDep,
    state: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    client_id = operator.principal.scope_client_id
    endpoint = await WebhookEndpoints(session, client_id, runtime.settings).get(endpoint_id)
    shown = state if state in DELIVERY_STATES else None
    deliveries = await WebhookDeliveries(session, client_id).for_endpoint(
        endpoint_id, state=shown, before=None, limit=50
    )
    context = {"endpoint": endpoint, "deliveries": deliveries, "state": shown or "", "states": DELIVERY_STATES}
    return render(request, operator, "deliveries.html", context)


def _to_day(end: datetime) -> date:
    """The form's exclusive "to" day that still includes `end` (today, when the period ends now)."""
    return end.date() if end.time() == time.min else end.date() + timedelta(days=1)


@router.get("/report")
async def report(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    operator: OperatorDep,
    start: Annotated[str | None, Query(alias="from", max_length=32)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=32)] = None,
    payer: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    def day(value: str | None) -> date | None:
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            return None

    query = report_query(
        as_instant(day(start)), as_instant(day(end)), _blank(payer), operator.principal.scope_client_id, runtime.clock()
    )
    body = report_json(await prior_auth_report(session, query))
    context = {
        "report": body,
        "chart": decision_time_chart(body["payers"]),
        "period": {"from": query.start.date().isoformat(), "to": _to_day(query.end).isoformat(), "payer": payer or ""},
    }
    return render(request, operator, "report.html", context)


@router.get("/risk")
async def risk_rates(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    operator: OperatorDep,
    client: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    """Per payer: denial rate and overturn rate on appeal, from the model that answers the client (an admin
    names the client)."""
    client_id = operator.principal.scope_client_id or _blank(client)
    rates = await requirements.risk.payer_rates(session, client_id, runtime.settings) if client_id else None
    context = {"rates": rates, "client": client_id or "", "admin": operator.principal.scope_client_id is None}
    return render(request, operator, "risk.html", context)
