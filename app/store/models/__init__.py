"""The tables, one module per room; every model is importable from here, as it always was.

    base.py            Base (naming convention), BigIntId, QuantityNumeric
    authorizations.py  authorizations, their items, identifiers, timeline events, usage; CRD coverage assertions
    appeals.py         appeals and their documents
    attachments.py     documents sent for an authorization
    documentation.py   questionnaire errors DTR clients logged
    jobs.py            the job queue, the workers' heartbeats
    notifications.py   webhook endpoints, deliveries and attempts; FHIR Subscriptions and their notifications
    security.py        client registrations, used client assertions, audit records
    risk.py            the denial-risk models, versioned, as data

Importing this package registers every table on `Base.metadata` (what Alembic compares).
"""

from app.store.models.appeals import Appeal, AppealDocument
from app.store.models.attachments import Attachment
from app.store.models.authorizations import (
    Authorization,
    AuthorizationIdentifier,
    AuthorizationItem,
    AuthorizationUsage,
    CoverageAssertion,
    Event,
)
from app.store.models.base import NAMING_CONVENTION, Base, BigIntId, QuantityNumeric
from app.store.models.documentation import QuestionnaireError
from app.store.models.jobs import Job, WorkerHeartbeat
from app.store.models.notifications import (
    DeliveryState,
    FhirSubscription,
    SubscriptionNotification,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.store.models.risk import RiskModelVersion
from app.store.models.security import AuditRecord, ClientRegistration, RevokedConsoleSession, UsedAssertion

__all__ = [
    "NAMING_CONVENTION",
    "Appeal",
    "AppealDocument",
    "Attachment",
    "AuditRecord",
    "Authorization",
    "AuthorizationIdentifier",
    "AuthorizationItem",
    "AuthorizationUsage",
    "Base",
    "BigIntId",
    "ClientRegistration",
    "CoverageAssertion",
    "DeliveryState",
    "Event",
    "FhirSubscription",
    "Job",
    "QuantityNumeric",
    "QuestionnaireError",
    "RevokedConsoleSession",
    "RiskModelVersion",
    "SubscriptionNotification",
    "UsedAssertion",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WorkerHeartbeat",
]
