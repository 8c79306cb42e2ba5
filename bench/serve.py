"""The service as benchmarked: `create_app` plus two bench-only routes.

- `POST /bench/validate-only`: R4B validation of the body only (the same-run baseline).
- `POST /bench/json-only`: parses the JSON body (orjson) and answers `{}`: the HTTP and JSON floor
  of a JSON route such as a CDS Hooks service.
- `GET /bench/counters`: SQL statements and commits this process has sent so far (SQLAlchemy events),
  read by `bench.metering` before and after a scenario.

The three are matched before the app's own routes, as its hottest routes are.

Run as `python -m bench.serve PORT`; settings come from EPA_ environment variables.
"""

from __future__ import annotations

import sys
from typing import Any

import orjson
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.fhir.baseline import validate_bundle_json
from app.main import create_app
from app.settings import Settings

COUNTERS = {"statements": 0, "commits": 0}


def _count_statement(*_args: Any) -> None:
    COUNTERS["statements"] += 1


def _count_commit(*_args: Any) -> None:
    COUNTERS["commits"] += 1


def bench_app() -> FastAPI:
    event.listen(Engine, "before_cursor_execute", _count_statement)
    event.listen(Engine, "commit", _count_commit)
    app = create_app(Settings())

    @app.post("/bench/validate-only", include_in_schema=False)
    async def validate_only(request: Request) -> Response:
        kind = validate_bundle_json(await request.body())
        return Response(b'{"type":"' + kind.encode() + b'"}', media_type="application/json")

    @app.post("/bench/json-only", include_in_schema=False)
    async def json_only(request: Request) -> Response:
        orjson.loads(await request.body())
        return Response(b"{}", media_type="application/json")

    @app.get("/bench/counters", include_in_schema=False)
    async def counters() -> dict[str, int]:
        return dict(COUNTERS)

    # Matched first, as the hottest routes are (CDS Hooks, then PAS): a route found behind all the others
    # paid 0.26-0.40 ms a request more, which made the floor and the baseline look dearer than they are.
    # Reordered before the first request, when FastAPI has not yet cached its candidates.
    ours = {"/bench/validate-only", "/bench/json-only", "/bench/counters"}
    app.router.routes.sort(key=lambda route: getattr(route, "path", None) not in ours)
    return app


if __name__ == "__main__":
    uvicorn.run(bench_app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
