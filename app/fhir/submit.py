"""`Claim/$submit` input: parse and validate a PAS request Bundle into a `PriorAuthRequest`.

Cost is one R4B validation of the Bundle plus cheap walks of the orjson-decoded dict; nothing
is validated twice and no model is serialized.

Accepted leniently (with a warning): PAS 2.0.1 inputs, including the 2.0.1 "differential"
(meta.security SUBSETTED) update, which is read as sent. Rejected with an OperationOutcome that
names the rule: pre-2.x reference-implementation Bundles (no Bundle.identifier/timestamp, draft
Claims, no items, bare-UUID fullUrls that references cannot resolve).
"""

from __future__ import annotations

import logging
from dataclasses import InitVar, dataclass, field
from typing import Any

from app.domain.facts import BundleFacts
from app.domain.model import PriorAuthRequest
from app.errors import InvalidRequest, Issue
from app.fhir.bounds import check_request_bounds
from app.fhir.coverage_facts import bundle_facts
from app.fhir.extract import build_request
from app.fhir.limits import ParseLimits
from app.fhir.loading import canonical_json, invalid, load_bundle
from app.fhir.references import BundleIndex
from app.fhir.rules import check_bundle_header, check_claim, check_differential, check_references, first_claim

logger = logging.getLogger(__name__)

DEFAULT_LIMITS = ParseLimits()
INTERNAL_FAILURE_TEXT = "the request could not be interpreted as a PAS request Bundle"


@dataclass(frozen=True, slots=True)
class ParsedSubmission:
    """A valid `$submit` request.

    `bundle` is the request Bundle as decoded JSON (never mutated by this layer); `bundle_bytes`
    the Bundle alone (the bytes as sent unless it came wrapped in Parameters); `warnings` the
    non-fatal issues (to echo as ClaimResponse.processNote); `canonical()` the Bundle as the R4B
    model writes it (what a replay compares, whatever format it came in; written on demand only);
    `index` the Bundle's references, resolved once while parsing and handed on to every later
    reader of the Bundle (coverage facts, documents, the response), so none builds it again.
    """

    request: PriorAuthRequest
    bundle: dict[str, Any]
    bundle_bytes: bytes
    warnings: list[Issue] = field(default_factory=list)
    bundle_index: InitVar[BundleIndex | None] = None
    index: BundleIndex = field(init=False, repr=False, compare=False)
    model: Any = field(default=None, repr=False, compare=False)  # the validated R4B Bundle (LoadedBundle.model)

    def __post_init__(self, bundle_index: BundleIndex | None) -> None:
        object.__setattr__(self, "index", bundle_index if bundle_index is not None else BundleIndex(self.bundle))

    def canonical(self) -> bytes:
        """The Bundle as the R4B model writes it (`loading.canonical_json`): written now, so ask only when comparing."""
        return canonical_json(self.model)

    def facts(self) -> BundleFacts:
        """The request's coverage facts (read from the Bundle with the index built while parsing)."""
        return bundle_facts(self.bundle, self.index)


def parse_submit(body: bytes, limits: ParseLimits = DEFAULT_LIMITS) -> ParsedSubmission:
    """Parse and validate a `$submit` body: a PAS request Bundle, or a Parameters with `resource` = the Bundle.

    Raises InvalidRequest carrying every issue found (each with a FHIRPath expression), and
    nothing else, whatever the input.
    """
    loaded = load_bundle(body, limits)
    try:
        issues = list(loaded.issues)
        request = None
        index = None
        bundle = loaded.bundle
        issues += check_bundle_header(bundle)
        claim, claim_issues = first_claim(bundle)
        issues += claim_issues
        if claim is not None:
            index = BundleIndex(bundle)
            issues += check_claim(claim, index)
            issues += check_request_bounds(bundle, claim, index)
            issues += check_references(index)
            issues += check_differential(claim)
            if not any(issue.severity in ("error", "fatal") for issue in issues):
                request = build_request(bundle, claim, index)
    except InvalidRequest:
        raise
    except Exception as exc:  # a rule that trips on odd input must still answer 400, never 500
        logger.error("PAS rules failed on a request: %s", type(exc).__name__)
        raise invalid([Issue(text=INTERNAL_FAILURE_TEXT, code="exception")]) from None
    errors = _deduplicated([i for i in issues if i.severity in ("error", "fatal")])
    if errors or request is None:
        raise invalid(errors or [Issue(text=INTERNAL_FAILURE_TEXT, code="exception")])
    warnings = [i for i in issues if i.severity not in ("error", "fatal")]
    return ParsedSubmission(request, bundle, loaded.bundle_bytes, warnings, index, model=loaded.model)


def _deduplicated(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple[str | None, str]] = set()
    kept: list[Issue] = []
    for issue in issues:
        key = (issue.expression, issue.text)
        if key not in seen:
            seen.add(key)
            kept.append(issue)
    return kept
