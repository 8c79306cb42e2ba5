"""CDex `$submit-attachment`: the Parameters a provider sends with the documents a payer asked for.

    Parameters
      TrackingId   valueIdentifier   the authorization's tracking number: its preAuthRef, or the Claim identifier
      AttachTo     valueCode         preauthorization (or claim)
      PayerId      valueIdentifier   the payer (optional here: the tracking id finds the request)
      MemberId     valueIdentifier   the member (checked against the request when given)
      OrganizationId / ProviderId  valueIdentifier  the submitting organization or provider (CDex requires
                                     one from the client; the shipped example sends the organization's NPI)
      Attachment   part[]            LineItem (valueString), Code (valueCodeableConcept) and Content
                                     (resource: DocumentReference, QuestionnaireResponse, Binary, ...);
                                     a `resource` directly on the Attachment parameter is accepted too

Validated once (R4B Parameters, then these rules); every problem is one 400 OperationOutcome whose
issues name the FHIRPath `expression`. Each attachment's content becomes canonical JSON bytes with
their sha256, so the same document sent twice is stored once. Nothing here is logged.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import orjson
from fhir.resources.R4B.parameters import Parameters
from pydantic import ValidationError

from app.domain.model import Attachment, Identifier
from app.errors import Issue
from app.fhir.elements import as_dict, as_list, codings
from app.fhir.limits import ParseLimits, check_json_limits
from app.fhir.loading import invalid, is_resource_type
from app.fhir.references import BundleIndex

logger = logging.getLogger(__name__)

ATTACH_TO = frozenset({"preauthorization", "claim"})
DEFAULT_MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_ATTACHMENTS = 50


@dataclass(frozen=True, slots=True)
class AttachmentSubmission:
    """A validated `$submit-attachment`."""

    tracking_id: Identifier
    attach_to: str
    payer: Identifier | None
    member: Identifier | None
    attachments: tuple[Attachment, ...]


def _identifier(value: Any) -> Identifier | None:
    if not isinstance(value, dict) or not isinstance(value.get("value"), str) or not value["value"]:
        return None
    system = value.get("system")
    return Identifier(system if isinstance(system, str) else None, value["value"])


def _decode(body: bytes) -> dict[str, Any]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise invalid([Issue(text="the body is not valid JSON", code="structure")]) from None
    if not isinstance(document, dict) or document.get("resourceType") != "Parameters":
        text = "$submit-attachment takes a Parameters resource"
        raise invalid([Issue(text=text, code="structure", expression="Parameters")])
    return document


def _validate_r4b(document: dict[str, Any]) -> None:
    try:
        Parameters.model_validate(document)
    except ValidationError as exc:
        issues = []
        for error in exc.errors(include_url=False, include_input=False):
            path = "Parameters" + "".join(
                f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.get("loc", ()) if part != ""
            )
            message = str(error.get("msg", "invalid value")).split("\n", 1)[0].strip()
            issues.append(Issue(text=message, code="structure", expression=path))
        raise invalid(issues) from None
    except Exception as exc:  # fhir.resources raises KeyError/TypeError/... for some malformed input
        logger.info("R4B validation raised %s", type(exc).__name__)
        raise invalid([Issue(text="the Parameters is not valid FHIR R4", expression="Parameters")]) from None


def _content(parameter: dict[str, Any], path: str) -> tuple[dict[str, Any], str]:
    """The resource an Attachment parameter carries, and its FHIRPath."""
    if isinstance(parameter.get("resource"), dict):
        return parameter["resource"], f"{path}.resource"
    for index, part in enumerate(parameter.get("part") or []):
        if isinstance(part, dict) and part.get("name") == "Content" and isinstance(part.get("resource"), dict):
            return part["resource"], f"{path}.part[{index}].resource"
    text = "an Attachment must carry its document as a resource (part 'Content')"
    raise invalid([Issue(text=text, code="required", expression=f"{path}.part")])


def _attachment(resource: dict[str, Any], path: str, max_bytes: int) -> Attachment:
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str) or not is_resource_type(resource_type):
        raise invalid([Issue(text="the attachment is not a FHIR resource", code="structure", expression=path)])
    content = orjson.dumps(resource, option=orjson.OPT_SORT_KEYS)
    if len(content) > max_bytes:
        text = f"the attachment is larger than {max_bytes} bytes"
        raise invalid([Issue(text=text, code="too-costly", expression=path)])
    return Attachment(resource_type, content, hashlib.sha256(content).hexdigest())


def parse_submit_attachment(
    body: bytes, *, max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES, limits: ParseLimits = ParseLimits()
) -> AttachmentSubmission:
    """The validated `$submit-attachment` Parameters, or InvalidRequest naming every problem's expression."""
    document = _decode(body)
    check_json_limits(document, limits, "Parameters")
    _validate_r4b(document)
    named: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for index, parameter in enumerate(document.get("parameter") or []):
        named.setdefault(str(parameter.get("name")), []).append((index, parameter))
    issues: list[Issue] = []
    tracking = None
    if len(named.get("TrackingId", [])) != 1:
        issues.append(
            Issue(text="exactly one TrackingId is required", code="required", expression="Parameters.parameter")
        )
    else:
        index, parameter = named["TrackingId"][0]
        tracking = _identifier(parameter.get("valueIdentifier"))
        if tracking is None:
            text = "TrackingId must be a valueIdentifier with a value"
            issues.append(
                Issue(text=text, code="required", expression=f"Parameters.parameter[{index}].valueIdentifier")
            )
    attach_to = "preauthorization"
    for index, parameter in named.get("AttachTo", [])[:1]:
        attach_to = str(parameter.get("valueCode"))
        if attach_to not in ATTACH_TO:
            text = "AttachTo must be 'preauthorization' or 'claim'"
            issues.append(Issue(text=text, code="value", expression=f"Parameters.parameter[{index}].valueCode"))
    found = named.get("Attachment", [])
    if not found:
        issues.append(
            Issue(text="at least one Attachment is required", code="required", expression="Parameters.parameter")
        )
    elif len(found) > MAX_ATTACHMENTS:
        text = f"at most {MAX_ATTACHMENTS} Attachments at a time"
        issues.append(Issue(text=text, code="too-costly", expression="Parameters.parameter"))
    if issues:
        raise invalid(issues)
    attachments: dict[str, Attachment] = {}
    for index, parameter in found:
        resource, path = _content(parameter, f"Parameters.parameter[{index}]")
        attachment = _attachment(resource, path, max_attachment_bytes)
        attachments.setdefault(attachment.sha256, attachment)
    assert tracking is not None
    payer = next((_identifier(p.get("valueIdentifier")) for _i, p in named.get("PayerId", [])), None)
    member = next((_identifier(p.get("valueIdentifier")) for _i, p in named.get("MemberId", [])), None)
    return AttachmentSubmission(tracking, attach_to, payer, member, tuple(attachments.values()))


ADDITIONAL_INFORMATION = "additionalInformation"


def supporting_documents(bundle: dict[str, Any], index: BundleIndex | None = None) -> tuple[Attachment, ...]:
    """The documents a PAS request (e.g. a PASClaimUpdate answering an information request) carries in
    `Claim.supportingInfo` with category `additionalInformation`: a `valueReference` to a resource in
    the Bundle, or a `valueAttachment` (kept as a DocumentReference). The Bundle was validated already;
    `index`: its references, when the caller resolved them already."""
    index = index if index is not None else BundleIndex(bundle)
    if not index.entries:
        return ()
    claim = index.entries[0][1]
    found: dict[str, Attachment] = {}
    for info in as_list(claim.get("supportingInfo")):
        info = as_dict(info)
        if ADDITIONAL_INFORMATION not in {c.code for c in codings(info.get("category"))}:
            continue
        resource = index.resolve_ref(info.get("valueReference"), 0)
        if resource is None and isinstance(info.get("valueAttachment"), dict):
            resource = {
                "resourceType": "DocumentReference",
                "status": "current",
                "content": [{"attachment": info["valueAttachment"]}],
            }
        if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
            content = orjson.dumps(resource, option=orjson.OPT_SORT_KEYS)
            document = Attachment(resource["resourceType"], content, hashlib.sha256(content).hexdigest())
            found.setdefault(document.sha256, document)
    return tuple(found.values())
