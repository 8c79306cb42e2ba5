"""`$validate` findings carry the denial risk: one informational issue per item, on the item, and one on the
requester's own recent outcomes with the payer (this client's requests from the same provider)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.coverage.findings import CLAIM, Finding
from app.domain.facts import BundleFacts
from app.domain.model import PriorAuthRequest
from app.errors import Issue
from app.requirements.risk import repository
from app.requirements.risk.explain import NO_MODEL, describe
from app.requirements.risk.features import item_features
from app.requirements.risk.service import model_for
from app.settings import Settings

RECENT = timedelta(days=90)


async def recent_outcomes_issue(
    session: AsyncSession, client_id: str, payer: str, request: PriorAuthRequest, *, now: datetime
) -> Issue | None:
    """The requesting provider's decided and denied items with the payer over the last 90 days (None when
    the request names no provider)."""
    if not request.provider:
        return None
    decided, denied = await repository.recent_outcomes(
        session, client_id, payer, request.provider[0].key(), since=now - RECENT
    )
    text = f"requester's recent outcomes with {payer}: {denied} of {decided} decided items denied in the last 90 days"
    return Issue(text=text, code="informational", severity="information", expression=f"{CLAIM}.provider")


def findings_by_item(findings: list[Finding] | tuple[Finding, ...]) -> dict[int, tuple[str, ...]]:
    """The kinds of pre-submission finding about each item, by item sequence."""
    found: dict[int, tuple[str, ...]] = {}
    for finding in findings:
        if finding.sequence is not None:
            found[finding.sequence] = (*found.get(finding.sequence, ()), str(finding.kind))
    return found


async def risk_issues(
    session: AsyncSession,
    settings: Settings,
    client_id: str,
    payer: str,
    request: PriorAuthRequest,
    facts: BundleFacts,
    findings: list[Finding] | tuple[Finding, ...] = (),
    *,
    now: datetime,
) -> list[Issue]:
    """The denial risk of each item the request asks for, as informational issues (the model that answers
    is the client's own, or the pooled one when the operator enabled it)."""
    recent = await recent_outcomes_issue(session, client_id, payer, request, now=now)
    issues = [recent] if recent is not None else []
    loaded = await model_for(session, client_id, settings)
    if loaded is None:
        return [Issue(text=NO_MODEL, code="informational", severity="information", expression=CLAIM), *issues]
    features = item_features(payer, request, facts, findings=findings_by_item(findings))
    source = f"model v{loaded.version}" + (", pooled" if loaded.pooled else "")
    for position, item in enumerate(request.items):
        item_feature = features.get(item.sequence)
        if item_feature is None:
            continue
        estimate = loaded.model.estimate(item_feature)
        text = (
            f"item {item.sequence} ({item_feature.code}): {describe(item_feature, estimate, loaded.model.min_sample)}"
        )
        issues.append(
            Issue(
                text=f"{text} ({source})",
                code="informational",
                severity="information",
                expression=f"{CLAIM}.item[{position}]",
            )
        )
    return issues
