"""`GET /metrics`: Prometheus text format. No PHI and no ids in labels; see docs/operations.md."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.api.deps import RuntimeDep
from app.metrics import Instruments
from app.metrics.exposition import scrape

router = APIRouter(tags=["health"])


def instruments_of(request: Request) -> Instruments:
    instruments: Instruments = request.app.state.instruments
    return instruments


@router.get("/metrics", summary="Prometheus metrics (text exposition format)", response_class=Response)
async def metrics(request: Request, runtime: RuntimeDep) -> Response:
    body = await scrape(instruments_of(request), runtime.sessions, runtime.clock())
    return Response(body, media_type=CONTENT_TYPE_LATEST)
