"""The service as benchmarked: `create_app` plus one baseline route (R4B validation only).

Run as `python -m bench.serve PORT`; settings come from EPA_ environment variables.
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response

from app.fhir.baseline import validate_bundle_json
from app.main import create_app
from app.settings import Settings


def bench_app() -> FastAPI:
    app = create_app(Settings())

    @app.post("/bench/validate-only", include_in_schema=False)
    async def validate_only(request: Request) -> Response:
        kind = validate_bundle_json(await request.body())
        return Response(b'{"type":"' + kind.encode() + b'"}', media_type="application/json")

    return app


if __name__ == "__main__":
    uvicorn.run(bench_app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
