"""The application factory. Nothing is built at import time except `app` for uvicorn."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from app import __version__
from app.api import appeals, fhir_claims, fhir_subscriptions, health, jobs, metrics, webhooks
from app.api.attachments import router as attachments_router
from app.api.audit import router as audit_router
from app.api.auditing import AuditMiddleware
from app.api.auth import router as auth_router
from app.api.authorizations import router as authorizations_router
from app.api.carry_over import router as carry_over_router
from app.api.cds_hooks import router as cds_hooks_router
from app.api.coverage_rules import router as coverage_rules_router
from app.api.docs_page import install_docs
from app.api.dtr import ops_router as dtr_ops_router
from app.api.dtr import router as dtr_router
from app.api.errors import install_error_handlers
from app.api.fhir_attachments import router as fhir_attachments_router
from app.api.fhir_format import FhirFormatMiddleware
from app.api.fhir_validate import router as fhir_validate_router
from app.api.limits import BodySizeLimitMiddleware
from app.api.middleware import RequestContextMiddleware
from app.api.openapi import install_openapi
from app.api.params import refuse_control_characters
from app.api.reports import router as reports_router
from app.api.unhandled import UnhandledErrorMiddleware
from app.api.usage import fhir_router as charge_item_router
from app.api.usage import router as usage_router
from app.console.install import install_console
from app.console.sessions import signing_key
from app.jobs.wakeups import doorbell_of
from app.metrics import Instruments
from app.metrics.middleware import MetricsMiddleware
from app.metrics.payers import instrumented_registry
from app.runtime import build_runtime, startup_heap_frozen
from app.security.state import build_security
from app.settings import Settings
from app.worker import default_handlers, running_worker, worker_from_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    instruments = Instruments()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with build_runtime(settings or Settings()) as built:
            runtime = dataclasses.replace(built, payers=instrumented_registry(built.payers, instruments))
            app.state.runtime = runtime
            app.state.security = build_security(runtime.settings, runtime.http)
            app.state.console_key = signing_key(runtime.settings)
            if runtime.settings.runs_embedded_worker:
                handlers = default_handlers(runtime)
                worker = worker_from_settings(
                    runtime.sessions,
                    handlers,
                    runtime.settings,
                    clock=runtime.clock,
                    observer=instruments.observe_job,
                    wakeups=doorbell_of(runtime.engine),
                )
                async with running_worker(worker, runtime.engine):
                    with startup_heap_frozen():
                        yield
            else:
                with startup_heap_frozen():
                    yield

    app = FastAPI(
        title="ePA hub",
        version=__version__,
        summary="Electronic prior authorization: Da Vinci PAS $submit / $inquire, CRD, payer adapters.",
        lifespan=lifespan,
        dependencies=[Depends(refuse_control_characters)],
        docs_url=None,  # app.api.docs_page serves them with local assets
        redoc_url=None,
        # FastAPI's native OpenTelemetry is not used (the service has its own /metrics and JSON logs); left on,
        # it asks OpenTelemetry's global providers whether it is configured on every request (~14 us each).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.instruments = instruments
    install_error_handlers(app)
    app.add_middleware(UnhandledErrorMiddleware)
    install_openapi(app)
    install_docs(app)
    app.add_middleware(AuditMiddleware)
    app.add_middleware(FhirFormatMiddleware)
    app.add_middleware(BodySizeLimitMiddleware)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(MetricsMiddleware, instruments=instruments)
    # Routes are matched in the order they are included, one pattern after another (a route behind a
    # hundred others paid 0.26-0.40 ms a request to be found): the CDS Hooks calls, the hottest and
    # cheapest requests, come first, then PAS and the status polls (none of these paths is another
    # router's; a router with paths under /authorizations that a parameter of this one could match
    # stays after it).
    app.include_router(cds_hooks_router)
    app.include_router(fhir_claims.router)
    app.include_router(authorizations_router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(auth_router)
    app.include_router(audit_router)
    app.include_router(fhir_validate_router)
    app.include_router(fhir_attachments_router)
    app.include_router(dtr_router)
    app.include_router(dtr_ops_router)
    app.include_router(coverage_rules_router)
    app.include_router(fhir_subscriptions.router)
    app.include_router(webhooks.router)
    app.include_router(jobs.router)
    app.include_router(usage_router)
    app.include_router(charge_item_router)
    app.include_router(carry_over_router)
    app.include_router(appeals.router)
    app.include_router(attachments_router)
    app.include_router(reports_router)
    install_console(app)
    return app


app = create_app()
