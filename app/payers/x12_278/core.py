"""CAQH CORE Connectivity Rule vC2.2.0, real time: the two envelopes a 278 travels in.

- HTTP MIME multipart (`multipart/form-data`): one part per field, credentials in `UserName` / `Password`.
- SOAP 1.2 with a WS-Security UsernameToken (PasswordText) in the header and
  `COREEnvelopeRealTimeRequest` / `...Response` in the body.

Fields: `PayloadType` (as the CORE registry names it), `ProcessingMode` (`RealTime`), `PayloadID`
(a UUID), `TimeStamp`, `SenderID`, `ReceiverID`, `CORERuleVersion` (`2.2.0`), `Payload`; responses add
`ErrorCode` (`Success` or a CORE error code) and `ErrorMessage`. Both directions are built and read
here: the adapter sends requests and reads responses, the fake clearinghouse of the tests the reverse.
"""

from __future__ import annotations

import email.parser
import email.policy
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any, Literal

from lxml import etree

RULE_VERSION = "2.2.0"
REAL_TIME = "RealTime"
SUCCESS = "Success"
PAYLOAD_278_REQUEST = "X12_278_Request_005010X217E1_2"
PAYLOAD_278_RESPONSE = "X12_278_Response_005010X217E1_2"
PAYLOAD_INQUIRY_REQUEST = "X12_278_Request_005010X215E1_2"
PAYLOAD_INQUIRY_RESPONSE = "X12_278_Response_005010X215E1_2"
PAYLOAD_999 = "X12_999_Response_005010X231A1"
PAYLOAD_TA1 = "X12_TA1_Response_00501X231A1"
SOAP_NS = "http://www.w3.org/2003/05/soap-envelope"
CORE_NS = "http://www.caqh.org/SOAP/WSDL/CORERule2.2.0.xsd"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PLAIN_TOKEN_TYPE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"  # noqa: S105 (a WS-Security type URI, not a secret)
SOAP_CONTENT_TYPE = 'application/soap+xml; charset=utf-8; action="RealTimeTransaction"'
Envelope = Literal["mime", "soap"]
FIELDS = ("PayloadType", "ProcessingMode", "PayloadID", "TimeStamp", "SenderID", "ReceiverID", "CORERuleVersion")


class CoreEnvelopeError(ValueError):
    """A CORE message that cannot be read (message: what is missing, never the payload)."""


@dataclass(frozen=True, slots=True)
class CoreMessage:
    """One CORE real-time message: its fields, its payload, and (requests) the credentials."""

    payload_type: str
    payload: str
    sender_id: str
    receiver_id: str
    payload_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timestamp: str = ""
    processing_mode: str = REAL_TIME
    rule_version: str = RULE_VERSION
    username: str | None = None
    password: str | None = None
    error_code: str | None = None  # responses only
    error_message: str | None = None

    @property
    def failed(self) -> bool:
        return self.error_code is not None and self.error_code != SUCCESS

    def fields(self) -> dict[str, str]:
        return {
            "PayloadType": self.payload_type,
            "ProcessingMode": self.processing_mode,
            "PayloadID": self.payload_id,
            "TimeStamp": self.timestamp,
            "SenderID": self.sender_id,
            "ReceiverID": self.receiver_id,
            "CORERuleVersion": self.rule_version,
        }


def timestamp(at: datetime) -> str:
    """CORE `TimeStamp`: XML dateTime in UTC."""
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _message(values: dict[str, str], *, response: bool) -> CoreMessage:
    missing = [name for name in ("PayloadType", "PayloadID") if not values.get(name)]
    if missing or ("Payload" not in values and not response):
        raise CoreEnvelopeError(f"the CORE message lacks {', '.join(missing) or 'Payload'}")
    return CoreMessage(
        payload_type=values["PayloadType"],
        payload=values.get("Payload", ""),
        sender_id=values.get("SenderID", ""),
        receiver_id=values.get("ReceiverID", ""),
        payload_id=values["PayloadID"],
        timestamp=values.get("TimeStamp", ""),
        processing_mode=values.get("ProcessingMode", ""),
        rule_version=values.get("CORERuleVersion", ""),
        username=values.get("UserName"),
        password=values.get("Password"),
        error_code=values.get("ErrorCode"),
        error_message=values.get("ErrorMessage"),
    )


# --- MIME multipart -------------------------------------------------------------------------


def mime_encode(message: CoreMessage, *, response: bool = False) -> tuple[str, bytes]:
    """(Content-Type, body) of the message as `multipart/form-data`."""
    values = message.fields()
    if response:
        values |= {"ErrorCode": message.error_code or SUCCESS, "ErrorMessage": message.error_message or ""}
    else:
        values |= {"UserName": message.username or "", "Password": message.password or ""}
    values["Payload"] = message.payload
    boundary = f"core-{uuid.uuid4().hex}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in values.items()
    ]
    body = "".join(parts) + f"--{boundary}--\r\n"
    return f"multipart/form-data; boundary={boundary}", body.encode("utf-8")


def mime_decode(content_type: str, body: bytes, *, response: bool = True) -> CoreMessage:
    """The CORE message in a `multipart/form-data` body."""
    if "multipart/" not in content_type.lower():
        raise CoreEnvelopeError("the answer is not multipart")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not parsed.is_multipart():
        raise CoreEnvelopeError("the multipart body has no parts")
    values: dict[str, str] = {}
    for part in parsed.iter_parts():
        assert isinstance(part, EmailMessage)
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            content = part.get_payload(decode=True)
            values[name] = content.decode("utf-8", "replace") if isinstance(content, bytes) else ""
    return _message({k: v.strip() if k != "Payload" else v for k, v in values.items()}, response=response)


# --- SOAP 1.2 + WS-Security -----------------------------------------------------------------


def _sub(parent: Any, tag: str, text: str | None = None) -> Any:
    child = etree.SubElement(parent, tag)
    if text is not None:
        child.text = text
    return child


def soap_encode(message: CoreMessage, *, response: bool = False) -> tuple[str, bytes]:
    """(Content-Type, body) of the message as a SOAP 1.2 envelope (UsernameToken on requests)."""
    root = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"soapenv": SOAP_NS, "cor": CORE_NS})
    header = _sub(root, f"{{{SOAP_NS}}}Header")
    if not response:
        security = etree.SubElement(header, f"{{{WSSE_NS}}}Security", nsmap={"wsse": WSSE_NS})
        security.set(f"{{{SOAP_NS}}}mustUnderstand", "true")
        token = _sub(security, f"{{{WSSE_NS}}}UsernameToken")
        _sub(token, f"{{{WSSE_NS}}}Username", message.username or "")
        password = _sub(token, f"{{{WSSE_NS}}}Password", message.password or "")
        password.set("Type", PLAIN_TOKEN_TYPE)
    body = _sub(root, f"{{{SOAP_NS}}}Body")
    name = "COREEnvelopeRealTimeResponse" if response else "COREEnvelopeRealTimeRequest"
    envelope = _sub(body, f"{{{CORE_NS}}}{name}")
    for key, value in message.fields().items():
        _sub(envelope, key, value)
    _sub(envelope, "Payload", message.payload)
    if response:
        _sub(envelope, "ErrorCode", message.error_code or SUCCESS)
        _sub(envelope, "ErrorMessage", message.error_message or "")
    return SOAP_CONTENT_TYPE, etree.tostring(root, xml_declaration=True, encoding="UTF-8")


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)


def _local(element: Any) -> str:
    return str(etree.QName(element).localname)


def soap_decode(body: bytes, *, response: bool = True) -> CoreMessage:
    """The CORE message in a SOAP 1.2 envelope; a SOAP Fault becomes a failed message."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        raise CoreEnvelopeError("the answer is not XML") from None
    values: dict[str, str] = {}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        local = _local(element)
        if local in (*FIELDS, "Payload", "ErrorCode", "ErrorMessage", "Username", "Password"):
            values[{"Username": "UserName"}.get(local, local)] = element.text or ""
        elif local == "Fault":
            reason = " ".join(t.strip() for t in element.itertext() if t.strip())[:200]
            values |= {"ErrorCode": "SOAPFault", "ErrorMessage": reason, "PayloadType": "-", "PayloadID": "-"}
    return _message(values, response=response)


def encode(envelope: Envelope, message: CoreMessage, *, response: bool = False) -> tuple[str, bytes]:
    return (mime_encode if envelope == "mime" else soap_encode)(message, response=response)


def decode(envelope: Envelope, content_type: str, body: bytes, *, response: bool = True) -> CoreMessage:
    if envelope == "mime":
        return mime_decode(content_type, body, response=response)
    return soap_decode(body, response=response)
