"""`GET /reports/prior-auth`: the CMS-0057-F figures as JSON, or CSV with `Accept: text/csv`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.api.deps import RuntimeDep, SessionDep
from app.api.params import DateOrInstant
from app.api.security import require
from app.reports.period import as_instant, report_query
from app.reports.prior_auth import prior_auth_report
from app.reports.render import report_csv, report_json
from app.security.principal import AUTHORIZATIONS_READ, Principal

router = APIRouter(prefix="/reports", tags=["operations"])


@router.get(
    "/prior-auth",
    summary="CMS-0057-F figures per payer, kind and priority (JSON, or CSV with Accept: text/csv)",
    response_model=None,
)
async def prior_auth(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    principal: Annotated[Principal, require(AUTHORIZATIONS_READ)],
    start: Annotated[
        DateOrInstant | None, Query(alias="from", description="Received on or after (default: 90 days before `to`)")
    ] = None,
    end: Annotated[DateOrInstant | None, Query(alias="to", description="Received before (default: now)")] = None,
    payer: Annotated[str | None, Query(max_length=128)] = None,
) -> Any:
    query = report_query(as_instant(start), as_instant(end), payer, principal.scope_client_id, runtime.clock())
    report = await prior_auth_report(session, query)
    if "text/csv" in request.headers.get("accept", ""):
        return Response(
            report_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="prior-auth-report.csv"'},
        )
    return report_json(report)
