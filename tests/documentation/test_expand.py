"""`ValueSet/$expand` for the value sets the questionnaire packages use (GET and POST, both backends)."""

from __future__ import annotations

import httpx
import orjson
import pytest

VS = "https://epa-hub.example.org/fhir/dtr/sandbox/ValueSet/power-mobility-diagnoses"
EXPAND = "/fhir/ValueSet/$expand"
FHIR = {"content-type": "application/fhir+json"}


async def test_a_package_value_set_expands_to_its_codes(client: httpx.AsyncClient) -> None:
    response = await client.get(EXPAND, params={"url": VS, "valueSetVersion": "1.0.0"})
    assert response.status_code == 200
    value_set = response.json()
    assert value_set["resourceType"] == "ValueSet"
    assert value_set["url"] == VS
    assert value_set["expansion"]["total"] == 8
    assert {c["code"] for c in value_set["expansion"]["contains"]} >= {"G35", "G12.21"}


async def test_filter_and_paging(client: httpx.AsyncClient) -> None:
    value_set = (await client.get(EXPAND, params={"url": f"{VS}|1.0.0", "filter": "hemiplegia"})).json()
    assert [c["code"] for c in value_set["expansion"]["contains"]] == ["I69.351", "I69.354"]
    paged = (await client.get(EXPAND, params={"url": VS, "offset": 2, "count": 3})).json()["expansion"]
    assert paged["total"] == 8
    assert [c["code"] for c in paged["contains"]] == ["G20", "G80.9", "I69.351"]


async def test_post_parameters_expands_too(client: httpx.AsyncClient) -> None:
    body = {
        "resourceType": "Parameters",
        "parameter": [{"name": "url", "valueUri": VS}, {"name": "count", "valueInteger": 1}],
    }
    response = await client.post(EXPAND, content=orjson.dumps(body), headers=FHIR)
    assert response.status_code == 200
    assert len(response.json()["expansion"]["contains"]) == 1


async def test_an_unknown_value_set_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(EXPAND, params={"url": "https://example.org/ValueSet/none"})
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    ("body", "expression"),
    [
        ({"resourceType": "Parameters"}, "url"),
        (
            {"resourceType": "Parameters", "parameter": [{"name": "url", "valueUri": "not a url"}]},
            "Parameters.parameter[0].valueUri",
        ),
        (
            {
                "resourceType": "Parameters",
                "parameter": [{"name": "url", "valueUri": VS}, {"name": "count", "valueInteger": -1}],
            },
            "Parameters.parameter[1].valueInteger",
        ),
    ],
)
async def test_bad_parameters_are_400_naming_the_parameter(
    client: httpx.AsyncClient, body: dict[str, object], expression: str
) -> None:
    response = await client.post(EXPAND, content=orjson.dumps(body), headers=FHIR)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == [expression]
