"""The Da Vinci PAS HTTP adapter (entry point `fhir-pas`)."""

from app.payers.fhir_pas.adapter import FhirPasAdapter, cancellation_bundle, create_adapter
from app.payers.fhir_pas.parse import parse_response
from app.payers.fhir_pas.settings import FhirPasSettings, OAuthSettings

__all__ = [
    "FhirPasAdapter",
    "FhirPasSettings",
    "OAuthSettings",
    "cancellation_bundle",
    "create_adapter",
    "parse_response",
]
