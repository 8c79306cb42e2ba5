"""Vocabularies of the lifecycle: kinds, priorities, X12 306 review actions, statuses."""

from __future__ import annotations

from enum import StrEnum


class AuthorizationKind(StrEnum):
    """What sort of authorization a request asks for (recognized from the request)."""

    PRIOR = "prior"
    CONCURRENT = "concurrent"  # extension / renewal of an existing authorization
    RETROSPECTIVE = "retrospective"  # service already given
    REFERRAL = "referral"
    SPECIALTY = "specialty"
    CARRIED_OVER = "carried-over"  # imported from the patient's previous plan (continuity of care)


class Priority(StrEnum):
    """Decision clock class. Urgent requests (levelOfServiceCode U/E, priority stat) are expedited."""

    STANDARD = "standard"
    EXPEDITED = "expedited"


class ReviewAction(StrEnum):
    """X12 306 action codes carried by PAS in extension-reviewActionCode."""

    CERTIFIED = "A1"  # certified in total
    PARTIAL = "A2"  # certified partial
    NOT_CERTIFIED = "A3"
    PENDED = "A4"
    MODIFIED = "A6"
    CANCELLED = "C"
    CONTACT_PAYER = "CT"
    NO_ACTION_REQUIRED = "NA"

    @property
    def is_final(self) -> bool:
        return self not in (ReviewAction.PENDED, ReviewAction.CONTACT_PAYER)


class AuthorizationStatus(StrEnum):
    """Status of a whole request, one vocabulary whatever the payer speaks."""

    RECEIVED = "received"
    NOT_REQUIRED = "not-required"
    PENDED = "pended"
    APPROVED = "approved"
    PARTIALLY_APPROVED = "partially-approved"
    MODIFIED = "modified"
    DENIED = "denied"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    ERROR = "error"
    APPEAL_SUBMITTED = "appeal-submitted"  # a denial (or partial approval, or modification) is appealed
    APPEAL_APPROVED = "appeal-approved"  # the payer overturned its decision on appeal
    APPEAL_DENIED = "appeal-denied"  # the payer upheld its decision on appeal
    INFO_REQUESTED = "info-requested"  # the payer asked for documents (items stay A4) by a due time

    @property
    def grants(self) -> bool:
        """What the payer certified may be given: an approval, a partial one, a modification, or an
        approval won on appeal (usage counts against it; a duplicate request meets it)."""
        return self in (
            AuthorizationStatus.APPROVED,
            AuthorizationStatus.PARTIALLY_APPROVED,
            AuthorizationStatus.MODIFIED,
            AuthorizationStatus.APPEAL_APPROVED,
        )

    @property
    def is_open(self) -> bool:
        """Still waiting for a payer decision (an information request too: the payer decides after it)."""
        return self in (AuthorizationStatus.RECEIVED, AuthorizationStatus.PENDED, AuthorizationStatus.INFO_REQUESTED)


X12_306_SYSTEM = "https://codesystem.x12.org/005010/306"
X12_886_SYSTEM = "https://codesystem.x12.org/external/886"
"""X12 External Code Source 886, the 278 review decision reason codes (HCR03): the required binding of
PAS extension-reviewAction.reasonCode."""
X12_UNITS_SYSTEM = "https://codesystem.x12.org/005010/673"
"""X12 unit or basis for measurement codes (element 355 in 005010; PAS names the code list 673)."""
X12_UNIT = "UN"  # "Unit": the unit a count of services or items is given in
X12_1322_CANCEL = "3"  # certificationType "Cancel"
X12_1322_APPEAL_IMMEDIATE = "1"  # certificationType "Appeal - Immediate": an expedited appeal
X12_1322_APPEAL_STANDARD = "2"  # certificationType "Appeal - Standard"
X12_1322_APPEALS = frozenset({X12_1322_APPEAL_IMMEDIATE, X12_1322_APPEAL_STANDARD})

# The timeline entries of a payer call that failed (app/authorizations/payer_call.py names them "payer-<kind>");
# an authorization whose latest entry is one needs an operator's attention (a partial index keeps them findable).
PAYER_ERROR_EVENTS = tuple(
    f"payer-{kind}" for kind in ("unreachable", "timed-out", "refused", "rejected", "unreadable", "adapter-failed")
)
