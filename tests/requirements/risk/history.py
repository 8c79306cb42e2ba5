"""A decided history written straight to the store, with counts the test chooses (the truth is known)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.codes import AuthorizationKind, AuthorizationStatus
from app.store.models import Appeal, Attachment, AuthorizationItem
from tests.support.coverage import claim_of, pas_bundle
from tests.support.rows import make_authorization

DENIAL_REASON = "https://codesystem.x12.org/external/886|documentation"
PROVIDER = "http://hl7.org/fhir/sid/us-npi|1234567893"  # the requesting provider of tests.support.bundles


@cache
def request_bytes(code: str, *, documentation: bool, referral: bool = False, diagnosis: bool = True) -> bytes:
    """A stored PAS request Bundle for one item of `code`, with or without a document, referral, diagnosis."""
    bundle = pas_bundle(code)
    claim = claim_of(bundle)
    if documentation:
        document = {"resourceType": "DocumentReference", "id": "doc-1", "status": "current", "content": []}
        bundle["entry"].append({"fullUrl": "http://example.org/fhir/DocumentReference/doc-1", "resource": document})
    if referral:
        claim["referral"] = {"identifier": {"system": "http://provider.example.org/referrals", "value": "R-1"}}
    if not diagnosis:
        claim.pop("diagnosis")
        for item in claim["item"]:
            item.pop("diagnosisSequence", None)
    return orjson.dumps(bundle)


@dataclass(frozen=True, slots=True)
class Batch:
    """`count` requests of one item, `denied` of them denied (A3), the rest approved (A1)."""

    client_id: str
    payer: str
    code: str
    count: int
    denied: int
    documentation: bool = False
    referral: bool = False
    appealed_overturned: int = 0  # of the denied ones, appealed and overturned (their items then read A1)
    attached: int = 0  # of the approved ones without documentation in the Bundle, sent a CDex attachment after
    provider: str = PROVIDER


async def add_history(session: AsyncSession, batches: list[Batch], start: datetime) -> None:
    at = start
    after: list[Appeal | Attachment] = []  # rows that refer to an authorization: added once those are flushed
    for batch in batches:
        document = request_bytes(batch.code, documentation=batch.documentation, referral=batch.referral)
        for n in range(batch.count):
            at += timedelta(minutes=1)
            row = make_authorization(batch.client_id, at, provider=batch.provider)
            row.payer_id, row.kind, row.request_document = batch.payer, AuthorizationKind.PRIOR, document
            denied = n < batch.denied
            overturned = n < batch.appealed_overturned
            row.status = (
                AuthorizationStatus.APPEAL_APPROVED
                if overturned
                else AuthorizationStatus.DENIED
                if denied
                else AuthorizationStatus.APPROVED
            )
            code = "A1" if overturned or not denied else "A3"
            row.items = [
                AuthorizationItem(
                    sequence=1,
                    product_code=batch.code,
                    decision_code=code,
                    reason_codes=[DENIAL_REASON] if code == "A3" else None,
                )
            ]
            session.add(row)
            if overturned:
                after.append(_appeal(row.id, batch.client_id, at))
            if not denied and n - batch.denied < batch.attached:
                after.append(_attachment(row.id, batch.client_id, at))
    await session.flush()
    session.add_all(after)
    await session.commit()


def _appeal(authorization_id: uuid.UUID, client_id: str, at: datetime) -> Appeal:
    return Appeal(
        authorization_id=authorization_id,
        client_id=client_id,
        channel="operations",
        appealed_status=AuthorizationStatus.DENIED,
        outcome="approved",
        submitted_at=at,
        due_at=at + timedelta(days=30),
        decided_at=at + timedelta(days=3),
        updated_at=at,
    )


def _attachment(authorization_id: uuid.UUID, client_id: str, at: datetime) -> Attachment:
    return Attachment(
        authorization_id=authorization_id,
        client_id=client_id,
        resource_type="DocumentReference",
        content_type="application/fhir+json",
        sha256=uuid.uuid4().hex * 2,
        size=2,
        content=b"{}",
        received_at=at,
    )
