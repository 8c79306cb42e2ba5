"""The `notifications.fan_out` job: one event becomes one delivery per matching webhook endpoint
and one notification per matching FHIR Subscription, each with its own job.

Every row written carries `event_seq` = this job's id, the event's place in its authorization's
order (see `app.notifications.ordering`). The fan-outs of one authorization run in that order: a
later one waits for an earlier one still queued or running, which wakes it (in its transaction,
so the waiting one runs once the earlier one's rows are committed). Hence no later event's rows
exist yet when this one writes its own: there is no later sibling to wake here.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from app.jobs.contract import Handler, JobContext, JobError, JobOutcome, Reschedule
from app.notifications import queries
from app.notifications.context import OutboundDeps
from app.notifications.deliveries import add_event_deliveries
from app.notifications.endpoints import wants
from app.notifications.events import item_snapshot
from app.notifications.ordering import fan_out_turn, hold_if_behind
from app.notifications.repository.webhooks import WebhookRepository
from app.notifications.subscriptions import add_event_notification, matching_subscriptions


def event_data(authorization_id: uuid.UUID, event: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The webhook `data`: identifiers the client owns, codes and a link; never PHI."""
    return {
        "authorization_id": str(authorization_id),
        "status": event["status"],
        "version": event.get("version"),
        "claim_identifier": event.get("claim_identifier"),
        "preauth_ref": event.get("preauth_ref"),
        "items": event.get("items", []),
        "link": f"{base_url}/fhir/ClaimResponse/{authorization_id}",
    }


def fan_out_handler(deps: OutboundDeps) -> Handler:
    budget = timedelta(seconds=deps.settings.webhook_timeout_seconds + 1)

    async def fan_out(job: JobContext) -> JobOutcome | None:
        if job.authorization_id is None or job.client_id is None:
            raise JobError("fan-out job without an authorization", permanent=True)
        session = job.session
        now = job.now()
        if not await fan_out_turn(session, job.authorization_id, job.job_id, now=now):
            return Reschedule(after=budget)  # the earlier fan-out wakes this one when it is done
        event = dict(job.payload)
        if "items" not in event:
            event["items"] = [item_snapshot(item) for item in await queries.items_of(session, job.authorization_id)]
        event_type = str(event["event_type"])
        occurred_at = datetime.fromisoformat(str(event["occurred_at"]))
        data = event_data(job.authorization_id, event, deps.settings.base_url)
        endpoints = await WebhookRepository(session, job.client_id).enabled_endpoints_ahead(
            job.authorization_id, job.job_id
        )
        await add_event_deliveries(
            session,
            [found for found in endpoints if wants(found[0], event_type)],
            event_type=event_type,
            occurred_at=occurred_at,
            data=data,
            authorization_id=job.authorization_id,
            event_seq=job.job_id,
            now=now,
            attempt_budget=budget,
            hand_over=job.hand_over,
        )
        for subscription in await matching_subscriptions(session, job.authorization_id):
            notification = await add_event_notification(
                session,
                subscription,
                job.authorization_id,
                event_type=event_type,
                occurred_at=occurred_at,
                event_seq=job.job_id,
                now=now,
            )
            await hold_if_behind(session, notification, now=now, attempt_budget=budget)
        return None

    return fan_out
