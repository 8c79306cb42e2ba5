"""The `fhir-pas` adapter: forwards the PAS Bundle to a payer's own `Claim/$submit`.

- submit: POST the Bundle the EHR sent, unchanged, to `Claim/$submit`.
- inquire: POST that Bundle to `Claim/$inquire` (the payer matches it by its identifiers).
- cancel: POST to `Claim/$submit` a copy whose items all carry certificationType "3"
  (X12 1322 Cancel); a Bundle that already cancels is forwarded unchanged.

Transport errors, retries and tokens: `app.payers.fhir_pas.transport`, `.auth`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from app.domain.model import PayerReply, PriorAuthRequest
from app.payers.config import PayerConfigError
from app.payers.contract import CONTRACT_VERSION, AdapterContext, PayerReference, PayerSubmission
from app.payers.errors import PayerProtocolError, PayerRejected
from app.payers.fhir_pas.auth import TokenProvider, load_private_key
from app.payers.fhir_pas.information import submit_attachment_parameters
from app.payers.fhir_pas.outcome import issues_from_operation_outcome
from app.payers.fhir_pas.parse import parse_response
from app.payers.fhir_pas.settings import FhirPasSettings
from app.payers.fhir_pas.transport import PayerTransport, parse_retry_after
from app.payers.reason_codes import map_reason_codes

CERTIFICATION_TYPE_URL = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-certificationType"
X12_1322_SYSTEM = "https://codesystem.x12.org/005010/1322"


def cancellation_bundle(bundle: bytes, request: PriorAuthRequest) -> bytes:
    """The Bundle that cancels `request`: every Claim item marked certificationType 3."""
    if request.cancels_all or all(item.cancelled for item in request.items):
        return bundle
    try:
        document = orjson.loads(bundle)
        claim = next(e["resource"] for e in document["entry"] if e.get("resource", {}).get("resourceType") == "Claim")
    except (orjson.JSONDecodeError, KeyError, TypeError, StopIteration) as exc:
        raise PayerProtocolError("the stored request Bundle has no Claim to cancel") from exc
    cancel = {
        "url": CERTIFICATION_TYPE_URL,
        "valueCodeableConcept": {"coding": [{"system": X12_1322_SYSTEM, "code": "3"}]},
    }
    for item in claim.get("item") or ():
        others = [e for e in item.get("extension") or () if e.get("url") != CERTIFICATION_TYPE_URL]
        item["extension"] = [*others, cancel]
    return orjson.dumps(document)


class FhirPasAdapter:
    """A payer that speaks Da Vinci PAS over HTTP."""

    contract_version = CONTRACT_VERSION  # built in-tree, so always the hub's own

    def __init__(self, settings: FhirPasSettings, transport: PayerTransport, context: AdapterContext) -> None:
        self._settings = settings
        self._transport = transport
        self._clock = context.clock

    async def submit(self, submission: PayerSubmission) -> PayerReply:
        return await self._exchange(self._settings.submit_path, submission.bundle, submission.request)

    async def inquire(self, reference: PayerReference) -> PayerReply:
        return await self._exchange(self._settings.inquire_path, reference.bundle, reference.request)

    async def cancel(self, reference: PayerReference) -> PayerReply:
        body = cancellation_bundle(reference.bundle, reference.request)
        return await self._exchange(self._settings.submit_path, body, reference.request)

    async def submit_attachment(self, reference: PayerReference) -> PayerReply:
        """CDex `$submit-attachment` with the documents, tracked by the payer's reference (or the
        authorization number); then the payer's current answer by inquiry."""
        request = reference.request
        tracking = reference.payer_reference or reference.authorization_id
        payer = next((i.value for i in (*request.insurer, *request.payor)), None)
        member = request.member_id.value if request.member_id else None
        body = submit_attachment_parameters(tracking, reference.attachments, member_id=member, payer_id=payer)
        response = await self._transport.post(self._settings.attachment_path, body)
        refused = _refusal(response.content)
        if refused is not None:
            raise refused
        return await self.inquire(reference)

    async def aclose(self) -> None:
        return None  # the http client is shared and closed by its owner

    async def _exchange(self, path: str, body: bytes, request: PriorAuthRequest) -> PayerReply:
        response = await self._transport.post(path, body)
        retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock)
        return map_reason_codes(parse_response(response.content, request, retry_after), self._settings.reason_codes)


def _refusal(body: bytes) -> PayerRejected | None:
    """A 2xx OperationOutcome answer to `$submit-attachment` that carries errors."""
    try:
        document = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None
    if isinstance(document, dict) and document.get("resourceType") == "OperationOutcome":
        issues = issues_from_operation_outcome(document)
        if any(issue.severity in ("error", "fatal") for issue in issues):
            return PayerRejected("the payer refused the attachments", issues=issues)
    return None


def create_adapter(settings: Mapping[str, Any], context: AdapterContext) -> FhirPasAdapter:
    """Entry point `fhir-pas`: build the adapter; the private key is loaded now so a bad one fails start-up."""
    parsed = FhirPasSettings.model_validate(settings)
    tokens = None
    if parsed.auth is not None:
        auth = parsed.auth
        try:
            if auth.private_key is not None:
                pem = auth.private_key.get_secret_value().encode()
            else:
                assert auth.private_key_file is not None
                pem = context.resolve(auth.private_key_file).read_bytes()
            key = load_private_key(pem, auth.algorithm)
        except (OSError, ValueError, TypeError) as exc:
            raise PayerConfigError(f"auth.private_key: cannot be used ({type(exc).__name__}: {exc})") from None
        tokens = TokenProvider(auth, key, context.http, context.clock, context.payer_id)
    transport = PayerTransport(parsed, context.http, tokens, context.clock, context.sleep, context.payer_id)
    return FhirPasAdapter(parsed, transport, context)
