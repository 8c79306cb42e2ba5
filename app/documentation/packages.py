"""`Questionnaire/$questionnaire-package`: which questionnaires a request needs, and their packages.

The questionnaires are the union, each once and in this order, of those named by `questionnaire`,
those the payer's coverage rules name for the ordered codes, and those `context` names: the rule
behind a CRD coverage assertion, or the questionnaire of a payer's open information request (a PAS
ClaimResponse / CDex Task id: the authorization's id, bare or `ClaimResponse/<id>` or `Task/<id>`).
An unknown questionnaire is a warning in `Outcome`; a Coverage no payer answers for, or an unknown
`context`, is a 4xx. The package contents are static (`catalog.Package`, built at load); each call
only adds its QuestionnaireResponse.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.coverage.book import RulesHolder
from app.documentation.catalog import CatalogHolder, Package, PayerQuestionnaires
from app.documentation.queries import assertion_rule, information_request
from app.errors import InvalidRequest, Issue, NotFound, Unprocessable
from app.fhir.crd import hook_coverage
from app.fhir.dtr_package import PackageRequest, order_codes, package_bundle, package_output, questionnaire_response
from app.fhir.outcome import operation_outcome
from app.payers import PayerRegistry
from app.payers.contract import Clock
from app.payers.registry import NoPayerMatches
from app.security.principal import Principal


class PackageDeps(Protocol):
    @property
    def payers(self) -> PayerRegistry: ...

    @property
    def coverage(self) -> RulesHolder: ...

    @property
    def questionnaires(self) -> CatalogHolder: ...

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...

    @property
    def clock(self) -> Clock: ...


def _payer_of(deps: PackageDeps, request: PackageRequest) -> str:
    coverage = hook_coverage({"coverage": [request.coverage]})
    if coverage is None:
        text = "the coverage must be an active Coverage"
        raise InvalidRequest(text, issues=[Issue(text, "value", expression=f"{request.coverage_at}.status")])
    if not request.coverage.get("beneficiary"):
        text = "the coverage must name its beneficiary (the QuestionnaireResponse's subject)"
        raise InvalidRequest(text, issues=[Issue(text, "required", expression=f"{request.coverage_at}.beneficiary")])
    try:
        entry = deps.payers.route((), coverage.payor)
    except NoPayerMatches:
        text = "no payer is configured for the Coverage's payor"
        raise InvalidRequest(
            text, issues=[Issue(text, "not-found", expression=f"{request.coverage_at}.payor")]
        ) from None
    if entry.dtr_endpoint:  # the payer answers DTR itself (its CRD cards link there)
        text = f"this payer answers DTR itself, at {entry.dtr_endpoint}"
        raise Unprocessable(text, issues=[Issue(text, "business-rule", expression=f"{request.coverage_at}.payor")])
    return entry.id


def _by_orders(deps: PackageDeps, payer_id: str, request: PackageRequest) -> list[str]:
    rules = deps.coverage.current.for_payer(payer_id)
    if rules is None:
        return []
    found: list[str] = []
    for order in request.orders:
        codes = order_codes(order)
        for rule, specs in zip(rules.rules.rule, rules.specs, strict=True):
            if rule.questionnaire and any(spec.contains(code) for spec in specs for code in codes):
                found += rule.questionnaire
    return found


def _authorization_id(context: str) -> uuid.UUID | None:
    """The authorization a PAS/CDex context names: its ClaimResponse (or Task) id, bare or as a reference."""
    try:
        return uuid.UUID(context.removeprefix("ClaimResponse/").removeprefix("Task/"))
    except ValueError:
        return None


async def _by_context(deps: PackageDeps, principal: Principal, payer_id: str, request: PackageRequest) -> list[str]:
    """The questionnaires of the CRD coverage assertion, or of the payer's open information request (PAS/CDex),
    that `context` names."""
    if request.context is None:
        return []
    context, where = request.context
    authorization = _authorization_id(context)
    async with deps.sessions() as session:
        found = await assertion_rule(session, principal.scope_client_id, context)
        asked = None
        if found is None and authorization is not None:
            asked = await information_request(session, principal.scope_client_id, authorization)
    if asked is not None and asked[0] == payer_id:
        questionnaire = asked[1].get("questionnaire")
        return [questionnaire] if isinstance(questionnaire, str) else []
    if found is None or found[0] != payer_id:
        text = "context names no coverage assertion or open information request of this client and payer"
        raise NotFound(text, issues=[Issue(text, "not-found", expression=where)])
    rules = deps.coverage.current.for_payer(payer_id)
    rule = next((r for r in rules.rules.rule if r.id == found[1]), None) if rules is not None else None
    return list(rule.questionnaire) if rule is not None else []


async def questionnaire_package(deps: PackageDeps, principal: Principal, request: PackageRequest) -> dict[str, Any]:
    """The output Parameters (packages and outcome) for one `$questionnaire-package` call."""
    payer_id = _payer_of(deps, request)
    catalog = deps.questionnaires.current.for_payer(payer_id) or PayerQuestionnaires(payer_id, "", {}, {}, {})
    packages: dict[str, Package] = {}
    warnings: list[Issue] = []
    for canonical, where in request.questionnaires:
        package = catalog.resolve(canonical)
        if package is None:
            warnings.append(Issue(f"no questionnaire {canonical} for this payer", "not-found", "warning", where))
        else:
            packages.setdefault(package.canonical, package)
    for canonical in [*_by_orders(deps, payer_id, request), *await _by_context(deps, principal, payer_id, request)]:
        package = catalog.resolve(canonical)
        if package is not None:
            packages.setdefault(package.canonical, package)
    if not packages and not warnings and request.changedsince is None:
        warnings.append(Issue("the payer needs no questionnaire for these orders", "informational", "information"))
    now = deps.clock()
    bundles = [
        package_bundle(
            p.entries,
            questionnaire_response(p.questionnaire, request.coverage, request.orders, now, str(uuid.uuid4())),
            now,
        )
        for p in packages.values()
        if request.changedsince is None or p.changed > request.changedsince
    ]
    return package_output(bundles, operation_outcome(warnings) if warnings else None)
