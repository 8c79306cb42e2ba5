"""FHIR XML at the edge: XML request bodies become the JSON the core reads, JSON answers become XML.

Both directions go through the R4B models of fhir.resources (its XML support needs lxml), so
what the core sees from an XML client is the JSON it would have got from a JSON client. An XML
body is therefore validated twice (here to read it, then by the core's JSON path, which takes
bytes); XML clients are few and the cost is one extra model build. The parser resolves no
entities, loads no DTD and never touches the network.

Before the models see a body, one streaming pass (`check_shape`) counts its elements, its depth
and how often one element repeats under one parent, and refuses a body past `XmlLimits`: too many
elements or repeats is 413, too deep is 400. The pass is linear; the models' reader is linear in
the elements but quadratic in the repeats of one element under one parent, so the repeat cap keeps
the whole conversion within a constant factor of the input's size. The conversion is CPU work:
the API runs it in a worker thread, never on the event loop.
"""

from __future__ import annotations

import io
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource
from lxml import etree
from pydantic import ValidationError

from app.errors import InvalidRequest, Issue, PayloadTooLarge

logger = logging.getLogger(__name__)

FHIR_NAMESPACE = "http://hl7.org/fhir"


@dataclass(frozen=True)
class XmlLimits:
    """What one XML body may hold (settings `EPA_MAX_XML_ELEMENTS`, `_DEPTH`, `_REPEATS`)."""

    elements: int = 20_000
    depth: int = 48
    repeats: int = 1_000


def _refuse(error: type[InvalidRequest] | type[PayloadTooLarge], text: str, path: list[str]) -> None:
    raise error(text, issues=[Issue(text, code="too-costly", expression=".".join(path))])


def check_shape(body: bytes, limits: XmlLimits) -> None:
    """Refuse, in one streaming pass that stops at the first excess, a body past the limits."""
    path: list[str] = []  # the open elements' names: the FHIRPath of an issue
    open_children: list[Counter[str]] = []
    elements = 0
    events = etree.iterparse(
        io.BytesIO(body), events=("start", "end"), resolve_entities=False, no_network=True, load_dtd=False
    )
    try:
        for event, element in events:
            if event == "end":
                open_children.pop()
                path.pop()
                element.clear()
                continue
            elements += 1
            name = etree.QName(element).localname
            if elements > limits.elements:
                _refuse(PayloadTooLarge, f"the XML body has more than {limits.elements} elements", [*path, name])
            if len(open_children) >= limits.depth:
                _refuse(InvalidRequest, f"the XML body nests elements deeper than {limits.depth}", path)
            if open_children:
                siblings = open_children[-1]
                siblings[element.tag] += 1
                if siblings[element.tag] > limits.repeats:
                    text = f"the XML body repeats {name} more than {limits.repeats} times in one element"
                    _refuse(PayloadTooLarge, text, [*path, name])
            path.append(name)
            open_children.append(Counter())
    except etree.XMLSyntaxError:
        raise InvalidRequest("the body is not well-formed XML") from None


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _resource_model(name: str) -> type[Resource]:
    try:
        model = get_fhir_model_class(name)
    except (ValueError, KeyError, AttributeError):
        model = None
    if model is None or not issubclass(model, Resource):
        raise InvalidRequest(
            f"{name} is not a FHIR R4 resource", issues=[Issue(f"{name} is not a FHIR R4 resource", expression=name)]
        )
    return model


def _issue(root: str, error: Any) -> Issue:
    path = root
    for part in error.get("loc", ()):
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and part and part != "resource_type":
            path += f".{part}"
    message = str(error.get("msg", "invalid value")).split("\n", 1)[0].strip()
    return Issue(text=message, code="required" if error.get("type") == "missing" else "value", expression=path)


def xml_to_json(body: bytes, limits: XmlLimits | None = None) -> bytes:
    """The JSON form of a FHIR XML resource, or InvalidRequest (400) / PayloadTooLarge (413) saying what is wrong."""
    check_shape(body, limits or XmlLimits())
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError:
        raise InvalidRequest("the body is not well-formed XML") from None
    name = etree.QName(root)
    if name.namespace != FHIR_NAMESPACE:
        raise InvalidRequest(f"the root element must be in the FHIR namespace {FHIR_NAMESPACE}")
    model = _resource_model(name.localname)
    try:
        resource = model.model_validate_xml(body, xmlparser=_parser())
    except ValidationError as exc:
        issues = [_issue(name.localname, e) for e in exc.errors(include_url=False, include_input=False)]
        raise InvalidRequest(issues[0].text if issues else "invalid FHIR XML", issues=issues or None) from None
    except Exception as exc:  # the XML reader raises plain errors on some malformed input
        logger.info("FHIR XML could not be read: %s", type(exc).__name__)
        raise InvalidRequest(f"the body is not a valid FHIR R4 {name.localname} in XML") from None
    return resource.model_dump_json(by_alias=True, exclude_none=True).encode()


def json_to_xml(document: dict[str, Any]) -> bytes:
    """The XML form of a FHIR resource the service answers (rendered as a dict elsewhere)."""
    model = _resource_model(str(document.get("resourceType")))
    xml: bytes | str = model.model_validate(document).model_dump_xml()
    return xml.encode() if isinstance(xml, str) else xml
