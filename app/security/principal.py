"""The authenticated caller of a request and what it may do."""

from __future__ import annotations

from dataclasses import dataclass

from app.security.scopes import granted_by_any

CLAIM_WRITE = "system/Claim.write"
CLAIM_RESPONSE_READ = "system/ClaimResponse.read"
SUBSCRIPTION_ALL = "system/Subscription.*"
# What each FHIR interaction needs, in SMART v2 letters; the v1 scopes above grant them too.
CLAIM_CREATE = "system/Claim.c"
CLAIM_RESPONSE_R = "system/ClaimResponse.r"
CLAIM_RESPONSE_S = "system/ClaimResponse.s"
SUBSCRIPTION_C = "system/Subscription.c"
SUBSCRIPTION_R = "system/Subscription.r"
SUBSCRIPTION_U = "system/Subscription.u"
SUBSCRIPTION_D = "system/Subscription.d"
SUBSCRIPTION_S = "system/Subscription.s"
# DTR payer service (docs/dtr.md): $questionnaire-package reads questionnaires
QUESTIONNAIRE_READ = "system/Questionnaire.read"
QUESTIONNAIRE_R = "system/Questionnaire.r"
VALUESET_READ = "system/ValueSet.read"
VALUESET_R = "system/ValueSet.r"
AUTHORIZATIONS_READ = "ops/authorizations.read"
AUTHORIZATIONS_WRITE = "ops/authorizations.write"
WEBHOOKS_READ = "ops/webhooks.read"
WEBHOOKS_WRITE = "ops/webhooks.write"
JOBS_READ = "ops/jobs.read"
JOBS_WRITE = "ops/jobs.write"
ADMIN = "ops/admin"

ALL_SCOPES = frozenset(
    {
        CLAIM_WRITE,
        CLAIM_RESPONSE_READ,
        SUBSCRIPTION_ALL,
        QUESTIONNAIRE_READ,
        VALUESET_READ,
        AUTHORIZATIONS_READ,
        AUTHORIZATIONS_WRITE,
        WEBHOOKS_READ,
        WEBHOOKS_WRITE,
        JOBS_READ,
        JOBS_WRITE,
    }
)


@dataclass(frozen=True, slots=True)
class Principal:
    """A registered client (EHR, operations tool) acting through a token, or the development user.

    Every stored row belongs to a client; repositories scope reads to `client_id` unless the
    principal is an admin (`admin` sees every client).
    """

    client_id: str
    scopes: frozenset[str]
    admin: bool = False

    def has(self, scope: str) -> bool:
        """Whether a held scope grants `scope` (v1 or v2, wildcards: see app.security.scopes)."""
        return self.admin or granted_by_any(self.scopes, scope)

    @property
    def scope_client_id(self) -> str | None:
        """The client id reads are limited to, or None for an admin."""
        return None if self.admin else self.client_id


DEVELOPMENT_PRINCIPAL = Principal(client_id="development", scopes=ALL_SCOPES)
