"""FHIR XML at the edge: XML request bodies become the JSON the core reads, JSON answers become XML.

Both directions go through the R4B models of fhir.resources (its XML support needs lxml), so
what the core sees from an XML client is the JSON it would have got from a JSON client. An XML
body is therefore validated twice (here to read it, then by the core's JSON path, which takes
bytes); XML clients are few and the cost is one extra model build. The parser resolves no
entities, loads no DTD and never touches the network.
"""

from __future__ import annotations

import logging
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource
from lxml import etree
from pydantic import ValidationError

from app.errors import InvalidRequest, Issue

logger = logging.getLogger(__name__)

FHIR_NAMESPACE = "http://hl7.org/fhir"


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


def xml_to_json(body: bytes) -> bytes:
    """The JSON form of a FHIR XML resource, or InvalidRequest (400) naming what is wrong."""
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
