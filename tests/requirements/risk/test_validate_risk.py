"""`Claim/$validate` carries each item's denial risk: the probability, its sample, reasons, what would lower it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from app.requirements import risk
from app.settings import Settings
from app.store.database import create_session_factory
from tests.requirements.risk.history import Batch, add_history
from tests.support.coverage import pas_bundle, post_fhir

VALIDATE = "/fhir/Claim/$validate"
START = datetime.now(UTC) - timedelta(days=30)  # within the requester's last 90 days


def _risk_issues(outcome: dict[str, object]) -> list[dict[str, object]]:
    issues = outcome["issue"]
    assert isinstance(issues, list)
    return [i for i in issues if "denial risk" in i["details"]["text"]]


async def test_validate_without_a_model_says_so(client: httpx.AsyncClient) -> None:
    [issue] = _risk_issues((await post_fhir(client, VALIDATE, pas_bundle("72148"))).json())
    assert issue["severity"] == "information"
    assert issue["details"]["text"] == risk.NO_MODEL  # type: ignore[index]


async def test_validate_gives_each_item_its_risk(
    client: httpx.AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    sessions = create_session_factory(engine)
    async with sessions() as session:
        await add_history(
            session,
            [
                Batch("development", "sandbox", "72148", 50, 30),
                Batch("development", "sandbox", "72148", 50, 5, documentation=True),
                Batch("other-clinic", "sandbox", "99213", 40, 40),
                Batch("development", "sandbox", "99213", 5, 5, provider="http://hl7.org/fhir/sid/us-npi|1111111112"),
            ],
            START,
        )
        await risk.train_all(session, settings, now=START)
        await session.commit()
    response = await post_fhir(client, VALIDATE, pas_bundle("72148", "99213"))
    assert response.status_code == 200
    issues = response.json()["issue"]
    [recent] = [i for i in issues if i["details"]["text"].startswith("requester's recent outcomes")]
    # this client's items from this provider (not another client's, nor another provider's)
    assert recent["details"]["text"] == (
        "requester's recent outcomes with sandbox: 35 of 100 decided items denied in the last 90 days"
    )
    assert recent["expression"] == ["Bundle.entry[0].resource.provider"]
    mri, office = _risk_issues(response.json())
    assert mri["expression"] == ["Bundle.entry[0].resource.item[0]"]
    text = mri["details"]["text"]  # type: ignore[index]
    assert text.startswith(
        "item 1 (72148): denial risk 56%: 50 of 100 decided items for sandbox, service family 721, prior were sent "
        "like this one (without documentation, without a referral, with a diagnosis); sandbox overall 38%"
    )
    assert "top denial reasons: documentation (35)" in text
    assert "approved items more often had documentation (69% of approved, 14% of denied)" in text
    assert "would lower it: documentation (14%)" in text
    assert text.endswith("(model v1)")
    # another client's 40 items of 99213 do not inform this client's answer (its own 5 are too few)
    assert office["details"]["text"].startswith(  # type: ignore[index]
        "item 2 (99213): denial risk: not enough history (5 decided items for sandbox, service family 992, prior"
    )
