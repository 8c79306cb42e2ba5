"""FHIR XML on every /fhir route: XML in, XML out (validated with the R4B models), `_format`, Accept, 406/415."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.claimresponse import ClaimResponse
from fhir.resources.R4B.operationoutcome import OperationOutcome
from lxml import etree

from tests.support.bundles import inquiry_for, pas_request
from tests.support.pas import FHIR_JSON, claim_response, submit

XML = "application/fhir+xml"
XML_IN = {"content-type": XML, "accept": XML}


def as_xml(document: dict[str, Any]) -> bytes:
    xml: bytes | str = get_fhir_model_class(document["resourceType"]).model_validate(document).model_dump_xml()
    return xml.encode() if isinstance(xml, str) else xml


def read_xml(response: httpx.Response, model: Any) -> Any:
    assert response.headers["content-type"].startswith(XML), response.text
    return model.model_validate_xml(response.content)


async def test_submit_in_xml_answers_the_pas_response_bundle_in_xml(client: httpx.AsyncClient) -> None:
    response = await client.post("/fhir/Claim/$submit", content=as_xml(pas_request("99212", tag="x1")), headers=XML_IN)
    assert response.status_code == 200, response.text
    bundle = read_xml(response, Bundle)
    assert bundle.entry[0].resource.get_resource_type() == "ClaimResponse"


async def test_an_xml_submit_reaches_the_core_as_the_json_request(client: httpx.AsyncClient) -> None:
    bundle = pas_request("99212", tag="x2")
    first = await client.post("/fhir/Claim/$submit", content=as_xml(bundle), headers={"content-type": XML})
    again = await client.post("/fhir/Claim/$submit", content=as_xml(bundle), headers={"content-type": XML})
    assert first.status_code == again.status_code == 200  # a retry: the same stored request
    assert claim_response(first.json())["id"] == claim_response(again.json())["id"]
    answer = claim_response(first.json())
    assert answer["request"]["identifier"]["value"] == "CLAIM-x2"
    assert (await submit(client, pas_request("99212", tag="x2b"))).status_code == 200


async def test_inquire_in_xml_answers_xml(client: httpx.AsyncClient) -> None:
    bundle = pas_request("99212", tag="x3")
    assert (await submit(client, bundle)).status_code == 200
    response = await client.post("/fhir/Claim/$inquire", content=as_xml(inquiry_for(bundle)), headers=XML_IN)
    assert response.status_code == 200, response.text
    root = etree.QName(etree.fromstring(response.content)).localname  # Parameters (return) or the Bundle itself
    parsed = read_xml(response, get_fhir_model_class(root))
    bundle = parsed.parameter[0].resource if root == "Parameters" else parsed
    assert bundle.get_resource_type() == "Bundle"
    assert bundle.entry[0].resource.get_resource_type() == "ClaimResponse"


@pytest.mark.parametrize(
    ("params", "headers"),
    [({"_format": "xml"}, {}), ({"_format": XML}, {}), ({}, {"accept": XML}), ({}, {"accept": "text/xml"})],
)
async def test_reads_answer_xml_by_format_or_accept(
    client: httpx.AsyncClient, params: dict[str, str], headers: dict[str, str]
) -> None:
    submitted = await submit(client, pas_request("99212", tag="x4"))
    response_id = claim_response(submitted.json())["id"]
    response = await client.get(f"/fhir/ClaimResponse/{response_id}", params=params, headers=headers)
    assert response.status_code == 200
    assert read_xml(response, ClaimResponse).id == response_id


async def test_the_capability_statement_in_xml_validates(client: httpx.AsyncClient) -> None:
    statement = read_xml(await client.get("/fhir/metadata", params={"_format": "xml"}), CapabilityStatement)
    assert statement.fhirVersion.startswith("4.0")
    assert {"application/fhir+xml", "xml"} <= set(statement.format)


async def test_format_wins_over_accept(client: httpx.AsyncClient) -> None:
    response = await client.get("/fhir/metadata", params={"_format": "json"}, headers={"accept": XML})
    assert response.headers["content-type"].startswith("application/fhir+json")


async def test_accept_is_honoured_by_quality(client: httpx.AsyncClient) -> None:
    accept = "application/fhir+json;q=0.5, application/fhir+xml;q=0.9"
    response = await client.get("/fhir/metadata", headers={"accept": accept})
    assert response.headers["content-type"].startswith(XML)


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({"_format": "html"}, {}),
        ({}, {"accept": "text/html"}),
        ({}, {"accept": "application/fhir+json; fhirVersion=5.0"}),
        ({}, {"accept": "application/fhir+xml; fhirVersion=3.0"}),
    ],
)
async def test_a_format_or_version_that_cannot_be_given_is_406(
    client: httpx.AsyncClient, params: dict[str, str], headers: dict[str, str]
) -> None:
    response = await client.get("/fhir/metadata", params=params, headers=headers)
    assert response.status_code == 406
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_errors_are_operation_outcomes_in_xml_when_xml_is_asked(client: httpx.AsyncClient) -> None:
    response = await client.get("/fhir/ClaimResponse/nope", headers={"accept": XML})
    assert response.status_code == 404
    outcome = read_xml(response, OperationOutcome)
    assert outcome.issue[0].code == "not-found"


@pytest.mark.parametrize(
    "body",
    [
        b"<Bundle xmlns='http://hl7.org/fhir'><type value='collection'/>",  # not well-formed
        b"<Bundle><type value='collection'/></Bundle>",  # not in the FHIR namespace
        b"<Nothing xmlns='http://hl7.org/fhir'/>",  # not a resource
        b"<Bundle xmlns='http://hl7.org/fhir'><type value='not-a-type'/></Bundle>",  # invalid value
        b"<?xml version='1.0'?><!DOCTYPE b [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
        b"<Bundle xmlns='http://hl7.org/fhir'><id value='&x;'/></Bundle>",  # an external entity is not read
    ],
)
async def test_bad_xml_is_400_with_an_operation_outcome_in_xml(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post("/fhir/Claim/$submit", content=body, headers=XML_IN)
    assert response.status_code == 400
    outcome = read_xml(response, OperationOutcome)
    assert "root:" not in response.text
    assert outcome.issue


async def test_a_body_neither_json_nor_xml_is_415(client: httpx.AsyncClient) -> None:
    bundle = orjson.dumps(pas_request("99212", tag="x5"))
    response = await client.post("/fhir/Claim/$submit", content=bundle, headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_a_subscription_is_created_and_read_in_xml(client: httpx.AsyncClient) -> None:
    from tests.support.subscriptions import subscription

    resource = subscription("https://ehr.example.org/hook")
    created = await client.post("/fhir/Subscription", content=as_xml(resource), headers=XML_IN)
    assert created.status_code == 201, created.text
    parsed: Any = get_fhir_model_class("Subscription").model_validate_xml(created.content)
    read = await client.get(f"/fhir/Subscription/{parsed.id}", headers={"accept": XML})
    reread: Any = get_fhir_model_class("Subscription").model_validate_xml(read.content)
    assert reread.id == parsed.id
    assert (await client.get(f"/fhir/Subscription/{parsed.id}", headers=FHIR_JSON)).json()["id"] == parsed.id


async def test_the_same_request_sent_as_xml_then_as_json_is_a_replay(client: httpx.AsyncClient) -> None:
    bundle = pas_request("99212", tag="x-then-json")
    first = await client.post("/fhir/Claim/$submit", content=as_xml(bundle), headers={"content-type": XML})
    again = await submit(client, bundle)  # the JSON as the EHR wrote it
    assert first.status_code == again.status_code == 200, again.text
    assert claim_response(first.json())["id"] == claim_response(again.json())["id"]
    other = await client.post("/fhir/Claim/$submit", content=as_xml(pas_request("99213", tag="json-then-xml")))
    assert other.status_code in (400, 415)  # (no content type: not read as XML)
    json_first = pas_request("99213", tag="json-then-xml")
    assert (await submit(client, json_first)).status_code == 200
    xml_again = await client.post("/fhir/Claim/$submit", content=as_xml(json_first), headers={"content-type": XML})
    assert xml_again.status_code == 200, xml_again.text
