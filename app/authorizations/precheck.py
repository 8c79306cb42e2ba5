"""Pre-submission checks: the payer's coverage rules and exemptions (pure, `app.coverage`) with what the
store knows: active authorizations a request would duplicate and the one a concurrent request extends.

Read only, through AuthorizationRepository (scoped to the calling client); everything found is
handed to the pure functions as plain data. `check_or_refuse` is `$submit`'s step: findings refuse
the request (422, nothing stored) when the payer's rules say so.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.authorizations.repository import AuthorizationRepository
from app.authorizations.repository.lookup import GrantedItem, GrantedQuery
from app.coverage.assessment import Assessment, assess
from app.coverage.evaluate import PayerRules
from app.coverage.programs import PayerPrograms
from app.domain.codes import AuthorizationKind, AuthorizationStatus, ReviewAction
from app.domain.facts import BundleFacts
from app.domain.model import Period, PriorAuthRequest
from app.errors import Issue, Unprocessable
from app.store.models import Authorization, AuthorizationItem

ACTIVE = frozenset(s for s in AuthorizationStatus if s.is_open or s.grants)
_NOT_GRANTED = frozenset({ReviewAction.NOT_CERTIFIED.value, ReviewAction.NO_ACTION_REQUIRED.value, "C"})
_ACTIVE_VALUES = tuple(sorted(s.value for s in ACTIVE))  # what the duplicates look-up binds, sorted once
_NOT_GRANTED_VALUES = tuple(sorted(_NOT_GRANTED))


@dataclass(frozen=True, slots=True)
class UnitUsage:
    """Units (or visits) of one code of the extended authorization: authorized, used, newly requested."""

    code: str
    authorized: Decimal | None
    used: Decimal
    requested: Decimal | None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "authorized": str(self.authorized) if self.authorized is not None else None,
            "used": str(self.used),
            "requested": str(self.requested) if self.requested is not None else None,
        }


@dataclass(frozen=True, slots=True)
class SubmissionCheck:
    """The assessment of a request plus what storage said about it."""

    assessment: Assessment
    facts: BundleFacts
    extends_id: uuid.UUID | None = None
    usage: tuple[UnitUsage, ...] = field(default=())


def _is_active(authorization: Authorization, now: datetime) -> bool:
    if authorization.status not in ACTIVE:
        return False
    return authorization.expires_at is None or authorization.expires_at > now


def _grants(item: AuthorizationItem, code: str) -> bool:
    return item.product_code == code and not item.cancelled and item.decision_code not in _NOT_GRANTED


async def active_authorization_for(
    repository: AuthorizationRepository,
    member: str,
    code: str,
    served: Period | None,
    *,
    now: datetime,
    exclude: Sequence[uuid.UUID] = (),
) -> Authorization | None:
    """A current, unexpired authorization granting `code` to `member` on dates overlapping `served`."""
    candidates = await repository.search_current(
        member_id=member,
        product_codes=[code],
        serviced_from=served.start if served else None,
        serviced_to=served.end if served else None,
        limit=10,
    )
    for authorization in candidates:
        if (
            authorization.id not in exclude
            and _is_active(authorization, now)
            and any(_grants(i, code) for i in authorization.items)
        ):
            return authorization
    return None


def _overlaps(served: Period | None, start: date | None, end: date | None) -> bool:
    if served is None:
        return True
    return (served.end is None or start is None or start <= served.end) and (
        served.start is None or end is None or end >= served.start
    )


def wants_duplicates(request: PriorAuthRequest) -> bool:
    """Whether the request is checked for duplicates of active authorizations (a new, non-concurrent one)."""
    return not request.is_update and not request.cancels_all and request.kind is not AuthorizationKind.CONCURRENT


def granted_query(request: PriorAuthRequest, *, now: datetime) -> GrantedQuery | None:
    """What to look up for the request's duplicates: the member's granted items of its codes (None: nothing)."""
    items = [item for item in request.items if not item.cancelled]
    if request.member_id is None or not items:
        return None
    return GrantedQuery(
        request.member_id.value,
        sorted({item.product_or_service.code for item in items}),
        statuses=_ACTIVE_VALUES,
        not_granted=_NOT_GRANTED_VALUES,
        now=now,
    )


def duplicates_among(
    request: PriorAuthRequest, granted: Sequence[GrantedItem], *, exclude: Sequence[uuid.UUID] = ()
) -> dict[int, str]:
    """item sequence -> reference of the first granted item with the same code and overlapping dates."""
    found: dict[int, str] = {}
    for item in request.items:
        if item.cancelled:
            continue
        for code, start, end, reference, authorization_id in granted:
            if (
                code == item.product_or_service.code
                and authorization_id not in exclude
                and _overlaps(item.serviced, start, end)
            ):
                found[item.sequence] = reference
                break
    return found


async def active_duplicates(
    repository: AuthorizationRepository,
    request: PriorAuthRequest,
    *,
    now: datetime,
    exclude: Sequence[uuid.UUID] = (),
) -> dict[int, str]:
    """item sequence -> reference of an active authorization for the same member, code and overlapping dates.

    One query for the whole request ($submit itself reads the same rows in its one look-up).
    """
    query = granted_query(request, now=now)
    if query is None:
        return {}
    granted = await repository.granted_items(
        query.member_id, query.codes, statuses=query.statuses, not_granted=query.not_granted, now=now
    )
    return duplicates_among(request, granted, exclude=exclude)


async def extended_authorization(repository: AuthorizationRepository, refs: Sequence[str]) -> Authorization | None:
    """The current authorization whose preAuthRef (or item authorization number) a concurrent request names."""
    for ref in refs:
        found = await repository.search_current(preauth_ref=ref, limit=1)
        if found:
            return found[0]
    return None


def unit_usage(extended: Authorization, request: PriorAuthRequest) -> tuple[UnitUsage, ...]:
    """Authorized vs used units of the extended authorization, for the codes the extension asks for again."""
    lines: list[UnitUsage] = []
    for item in request.items:
        code = item.product_or_service.code
        for earlier in extended.items:
            if earlier.product_code == code and not earlier.cancelled:
                authorized = earlier.authorized_quantity or earlier.quantity
                lines.append(UnitUsage(code, authorized, earlier.units_used or Decimal(0), item.quantity))
                break
    return tuple(lines)


async def check_submission(
    session: AsyncSession,
    client_id: str,
    payer_rules: PayerRules | None,
    request: PriorAuthRequest,
    facts: BundleFacts,
    *,
    now: datetime,
    programs: PayerPrograms | None = None,
    new: bool = False,
    duplicates: Mapping[int, str] | None = None,
) -> SubmissionCheck:
    """Assess `request` against its payer's rules and the registry's exemptions with what storage knows
    (read only).

    `new`: the caller knows the Bundle identifier was never stored (so it skips that look-up);
    `duplicates`: the caller found them already (`duplicates_among` on its own look-up)."""
    repository = AuthorizationRepository(session, client_id)
    if not new and await repository.by_bundle_identifier(request.bundle_identifier.key()) is not None:
        # a replay (or a reused identifier): $submit answers it from the store, so nothing is looked up
        return SubmissionCheck(assess(payer_rules, request, facts, today=now.date(), programs=programs), facts)
    extended = None
    if request.kind is AuthorizationKind.CONCURRENT:
        extended = await extended_authorization(repository, facts.preauth_refs)
    if duplicates is None:
        duplicates = await active_duplicates(repository, request, now=now) if wants_duplicates(request) else {}
    assessment = assess(payer_rules, request, facts, today=now.date(), duplicates=duplicates, programs=programs)
    return SubmissionCheck(
        assessment=assessment,
        facts=facts,
        extends_id=extended.id if extended else None,
        usage=unit_usage(extended, request) if extended else (),
    )


async def check_or_refuse(
    session: AsyncSession,
    client_id: str,
    payer_rules: PayerRules | None,
    request: PriorAuthRequest,
    facts: BundleFacts,
    *,
    now: datetime,
    programs: PayerPrograms,
    duplicates: Mapping[int, str] | None = None,
) -> SubmissionCheck:
    """`check_submission` for a new request (the caller looked up its Bundle identifier already, and its
    duplicates when it passes them), refused (422, nothing stored) when the payer's rules say findings refuse."""
    check = await check_submission(
        session, client_id, payer_rules, request, facts, now=now, programs=programs, new=True, duplicates=duplicates
    )
    findings = check.assessment.submit_findings()
    if findings and check.assessment.on_findings == "refuse" and not request.cancels_all:
        text = f"the request would likely be denied or delayed ({len(findings)} finding(s)); correct it and resubmit"
        raise Unprocessable(text, issues=[finding.issue("error") for finding in findings])
    return check


def exemptions_of(check: SubmissionCheck) -> dict[str, dict[str, str]]:
    """item sequence -> the exemption that made it not-required, for the `received` event."""
    return {str(sequence): cited for sequence, cited in check.assessment.exemptions().items()}


def program_notes(request: PriorAuthRequest, check: SubmissionCheck) -> list[Issue]:
    """ClaimResponse.processNote lines citing each exemption (its item is NA, its reason the same citation)."""
    notes: list[Issue] = []
    for position, item in enumerate(request.items):
        determination = check.assessment.determinations.get(item.sequence)
        if determination is not None and determination.exemption is not None:
            notes.append(
                Issue(
                    text=f"item {item.sequence} ({item.product_or_service.code}): {determination.reason}",
                    code="informational",
                    severity="information",
                    expression=f"Bundle.entry[0].resource.item[{position}]",
                )
            )
    return notes
