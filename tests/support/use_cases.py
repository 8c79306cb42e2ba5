"""The lifecycle's use cases called on a runtime, with no HTTP in between: submit as the development
client, run the jobs that fell due on the moved clock, and the fhir-pas payer such a runtime can ask."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from sqlalchemy import func, select

from app.authorizations import submit_prior_auth
from app.domain.codes import ReviewAction
from app.domain.model import ItemDecision
from app.fhir.submit import parse_submit
from app.jobs.loop import Worker
from app.runtime import Runtime
from app.security.principal import DEVELOPMENT_PRINCIPAL
from app.store.models import Job
from app.worker import default_handlers
from tests.support.clock import MovableClock
from tests.support.payer_answers import claim_response_bundle

PAYER = "https://payer.example/fhir"  # the fhir-pas payer of tests/authorizations' `fhir_pas_runtime`


async def submit_directly(runtime: Runtime, bundle: dict[str, Any]) -> dict[str, Any]:
    """`Claim/$submit` of `bundle` by the development client, through the use case; the answer Bundle."""
    result = await submit_prior_auth(runtime, DEVELOPMENT_PRINCIPAL, parse_submit(orjson.dumps(bundle)))
    body: dict[str, Any] = orjson.loads(result.body)
    return body


async def run_due(runtime: Runtime, clock: MovableClock) -> int:
    """Run the due jobs once; how many follow-ups were due (notification jobs run alongside)."""
    async with runtime.sessions() as session:
        due = await session.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.kind == "authorization.follow_up", Job.state == "queued", Job.run_at <= clock.now)
        )
    await Worker(runtime.sessions, default_handlers(runtime), clock=clock).run_once()
    return int(due or 0)


def approved_answer() -> httpx.Response:
    """The payer's 200: item 1 certified, authorization AUTH-9."""
    decision = ItemDecision(1, ReviewAction.CERTIFIED, authorization_number="AUTH-9")
    return httpx.Response(
        200,
        content=claim_response_bundle((decision,), preauth_ref="AUTH-9"),
        headers={"content-type": "application/fhir+json"},
    )
