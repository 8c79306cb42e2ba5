"""A request seen before: the same Bundle again (by `Bundle.identifier`) gets the same answer.

What makes two submissions the same request is the canonical JSON of the parsed Bundle (checked cheaply
first by the sorted JSON stored with every request), so a retry serialised with other whitespace, key
order, number spelling or as XML is a replay; the same identifier on a
different request is refused (409). A request stored but not answered yet (in flight, or its
process died before recording) is answered from its current state: pended.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, replace

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.authorizations.recording import render_document, state_of
from app.authorizations.repository import AuthorizationRepository
from app.domain.codes import AuthorizationStatus
from app.errors import Conflict, Issue
from app.fhir.loading import canonical_of_stored
from app.fhir.submit import ParsedSubmission
from app.logging import request_id
from app.security.audit import AuditEntry, stage_audit
from app.store.models import Authorization


@dataclass(frozen=True, slots=True)
class SubmitResult:
    authorization_id: uuid.UUID
    status_code: int
    body: bytes  # the PAS response Bundle, or an OperationOutcome for a payer rejection
    payer_id: str
    status: AuthorizationStatus  # as stored when the answer was given
    replayed: bool = False
    audited: bool = False  # its audit entry went into the transaction that stored the answer


def fingerprint(parsed: ParsedSubmission) -> str:
    """What a new request is stored with: the hash of the decoded JSON with its keys sorted (cheap, so every
    request can pay it). A retry with other whitespace or key order has the same; one serialised with
    other number or date spelling, or in XML rather than JSON (or the other way round), is recognised by
    `same_request`, which compares the Bundles as the R4B model writes them."""
    return hashlib.sha256(orjson.dumps(parsed.bundle, option=orjson.OPT_SORT_KEYS)).hexdigest()


def same_request(existing: Authorization, parsed: ParsedSubmission) -> bool:
    """Whether `parsed` is the request stored as `existing`: the same sorted JSON or bytes (the hashes stored
    now and by the oldest rows), else the same Bundle as the R4B model writes it (the hash rows stored
    before the sorted one kept, or the stored request written again; only a replay pays for this)."""
    if existing.request_hash in (fingerprint(parsed), hashlib.sha256(parsed.bundle_bytes).hexdigest()):
        return True
    canonical = parsed.canonical()
    if not canonical:
        return False
    if existing.request_hash == hashlib.sha256(canonical).hexdigest():
        return True
    return canonical_of_stored(existing.request_document) == canonical


async def replay(
    repository: AuthorizationRepository, existing: Authorization, parsed: ParsedSubmission, base_url: str
) -> SubmitResult:
    if not same_request(existing, parsed):
        raise Conflict(
            "this Bundle.identifier was already used for a different request; give each request its own identifier",
            issues=[
                Issue(
                    text="Bundle.identifier already used for a different request",
                    code="duplicate",
                    expression="Bundle.identifier",
                )
            ],
        )
    if existing.response_document is None:
        # Stored, not yet answered (in flight, or its process died before recording): answer from the
        # current state (pended) at once; the follow-up job carries the request on.
        loaded = await repository.get(existing.id)
        assert loaded is not None
        body = render_document(loaded, state_of(loaded), parsed, base_url=base_url)
        return SubmitResult(existing.id, 200, body, existing.payer_id, existing.status, replayed=True)
    return SubmitResult(
        existing.id,
        existing.response_status,
        existing.response_document,
        existing.payer_id,
        existing.status,
        replayed=True,
    )


def audited(session: AsyncSession, audit: AuditEntry | None, result: SubmitResult) -> SubmitResult:
    """Stage the request's audit entry in the transaction that stores its answer (no second commit)."""
    if audit is None:
        return result
    audit.add(result.authorization_id)
    stage_audit(session, [audit], result.status_code, request_id.get())
    return replace(result, audited=True)
