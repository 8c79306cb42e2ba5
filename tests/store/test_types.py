from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.store.models import Authorization


def _authorization(received: datetime) -> Authorization:
    return Authorization(
        id=uuid.uuid4(),
        client_id="client-a",
        payer_id="sandbox",
        bundle_identifier="urn:x|b1",
        claim_identifier="urn:x|c1",
        kind="prior",
        priority="standard",
        status="received",
        received_at=received,
        created_at=received,
        updated_at=received,
        request_hash="0" * 64,
        request_document=b"{}",
    )


async def test_datetimes_round_trip_as_aware_utc(session: AsyncSession) -> None:
    received = datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    session.add(_authorization(received))
    await session.commit()
    session.expunge_all()
    stored = (await session.execute(select(Authorization))).scalar_one()
    assert stored.received_at.tzinfo is not None
    assert stored.received_at == received
    assert stored.received_at.utcoffset() == timedelta(0)
    assert stored.received_at.hour == 4  # 23:30 at -05:00 is 04:30 UTC the next day


async def test_naive_datetimes_are_refused(session: AsyncSession) -> None:
    session.add(_authorization(datetime(2026, 3, 1, 12, 0)))
    with pytest.raises(Exception, match="naive datetime"):
        await session.flush()


async def test_same_bundle_identifier_is_unique_per_client(session: AsyncSession) -> None:
    now = datetime.now(UTC)
    session.add(_authorization(now))
    await session.flush()
    session.add(_authorization(now))
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        await session.flush()
