"""No route pays a threadpool hop: FastAPI runs a plain `def` dependency or endpoint in a worker thread.

The walk covers every route of the app, so a sync callable anywhere in a dependency tree fails here;
the hot routes ($submit, $inquire, CDS Hooks, webhooks, Subscriptions) must be among those walked.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fastapi.dependencies.models import Dependant

from app.main import create_app
from tests.support.routes import api_routes
from tests.support.runtime import development_settings

HOT_ROUTES = {
    ("POST", "/fhir/Claim/$submit"),
    ("POST", "/fhir/Claim/$inquire"),
    ("POST", "/cds-services/{service_id}"),
    ("POST", "/webhooks"),
    ("POST", "/fhir/Subscription"),
}


def _runs_on_the_loop(call: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call):
        return True
    method = getattr(call, "__call__", None)  # noqa: B004 - an instance such as HTTPBearer
    return not inspect.isroutine(call) and not inspect.isclass(call) and inspect.iscoroutinefunction(method)


def _sync_calls(dependant: Dependant) -> Iterator[str]:
    for sub in dependant.dependencies:
        if sub.call is not None and not _runs_on_the_loop(sub.call):
            yield f"{sub.call.__module__}.{getattr(sub.call, '__qualname__', sub.call)}"
        yield from _sync_calls(sub)


def test_no_route_has_a_sync_dependency_or_endpoint(tmp_path: Path) -> None:
    app = create_app(development_settings(f"sqlite+aiosqlite:///{tmp_path}/unused.sqlite3", tmp_path))
    routes = list(api_routes(app.routes))
    walked = {(method, route.path) for route in routes for method in route.methods or ()}
    assert walked >= HOT_ROUTES, f"hot routes not found: {sorted(HOT_ROUTES - walked)}"
    offenders = {
        f"{sorted(route.methods or ())} {route.path}: {name}"
        for route in routes
        for name in [
            *_sync_calls(route.dependant),
            *([] if _runs_on_the_loop(route.endpoint) else [f"endpoint {route.endpoint.__qualname__}"]),
        ]
    }
    assert not offenders, "sync callables run in a worker thread:\n" + "\n".join(sorted(offenders))
