"""The features of one requested item, read from what the hub stores (pure: no I/O).

Per item: the payer, the service code and its family (the first three characters of a CPT/HCPCS
code), the kind and level of service, the place of service, whether a diagnosis is present and its
ICD-10 chapter (first letter), whether documentation and a referral were sent, and the
pre-submission findings about the item. Never names, birth dates, identifiers or free text: the
request's `BundleFacts` are read for document *codes* and referral *presence* only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from app.domain.facts import BundleFacts
from app.domain.model import PriorAuthRequest, ServiceItem

FAMILY_LENGTH = 3
# supportingInfo categories that carry free text, not a document: a note is not documentation
NOT_DOCUMENTS = frozenset({"freeFormMessage"})
FACTORS = ("documentation", "referral", "diagnosis")


def family_of(code: str) -> str:
    """The service family of a CPT/HCPCS code: its first three characters ("72148" -> "721")."""
    return code.strip().upper()[:FAMILY_LENGTH]


@dataclass(frozen=True, slots=True)
class ItemFeatures:
    """What is known of one requested item before it is sent (nothing that names the patient)."""

    payer: str
    code: str
    kind: str
    documentation: bool
    referral: bool
    diagnosis: bool
    diagnosis_chapter: str | None = None
    level_of_service: str | None = None
    place_of_service: str | None = None
    findings: tuple[str, ...] = ()

    @property
    def family(self) -> str:
        return family_of(self.code)

    def has(self, factor: str) -> bool:
        """Whether the item had `factor` (one of FACTORS)."""
        return bool(getattr(self, factor))


@dataclass(frozen=True, slots=True)
class Observation:
    """One decided item of the hub's history: its features, when it was sent and what came back."""

    features: ItemFeatures
    at: datetime
    denied: bool
    reasons: tuple[str, ...] = ()  # the payer's reason codes ("system|code") when denied
    appealed: bool = False
    overturned: bool = False  # the denial was overturned on appeal


def documented(facts: BundleFacts, attachments: int = 0) -> bool:
    """Documentation was sent: a document in the Bundle or a supportingInfo code other than a note, or an
    attachment sent for the request afterwards."""
    return bool(facts.document_codes - NOT_DOCUMENTS) or attachments > 0


def _diagnosis_codes(request: PriorAuthRequest, item: ServiceItem) -> list[str]:
    pointed = [d for d in request.diagnoses if d.sequence in item.diagnosis_sequences]
    return [d.code.code for d in (pointed or list(request.diagnoses)) if d.code.code]


def item_features(
    payer: str,
    request: PriorAuthRequest,
    facts: BundleFacts,
    *,
    attachments: int = 0,
    findings: Mapping[int, tuple[str, ...]] | None = None,
) -> dict[int, ItemFeatures]:
    """The features of each item the request asks for (cancelled items left out), by item sequence."""
    sent_documents = documented(facts, attachments)
    found: dict[int, ItemFeatures] = {}
    for item in request.items:
        if item.cancelled or not item.product_or_service.code:
            continue
        diagnoses = _diagnosis_codes(request, item)
        found[item.sequence] = ItemFeatures(
            payer=payer,
            code=item.product_or_service.code,
            kind=str(request.kind),
            documentation=sent_documents,
            referral=facts.referral_present,
            diagnosis=bool(diagnoses),
            diagnosis_chapter=diagnoses[0][:1].upper() if diagnoses else None,
            level_of_service=request.level_of_service,
            place_of_service=item.place_of_service.code if item.place_of_service else None,
            findings=tuple((findings or {}).get(item.sequence, ())),
        )
    return found
