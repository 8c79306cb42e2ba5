"""The columns and the input rules cannot drift: both read `app.domain.bounds`, and this checks it.

Each stored value is tied to its column: the model's length (read from the model, not from the
constant) is what the FHIR rules accept, and one character more is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Numeric, String

from app.domain import bounds
from app.errors import InvalidRequest
from app.fhir.submit import parse_submit
from app.store.models import (
    Authorization,
    AuthorizationIdentifier,
    AuthorizationItem,
    Base,
    CoverageAssertion,
    FhirSubscription,
    WebhookEndpoint,
)
from tests.support.bundles import make_pas_bundle, to_bytes

Json = dict[str, Any]

COLUMNS: dict[str, tuple[Any, int]] = {
    "authorizations.bundle_identifier": (Authorization.bundle_identifier, bounds.IDENTIFIER_KEY_LENGTH),
    "authorizations.claim_identifier": (Authorization.claim_identifier, bounds.IDENTIFIER_KEY_LENGTH),
    "authorizations.patient_member_id": (Authorization.patient_member_id, bounds.MEMBER_ID_LENGTH),
    "authorizations.provider_identifier": (Authorization.provider_identifier, bounds.PROVIDER_KEY_LENGTH),
    "authorizations.preauth_ref": (Authorization.preauth_ref, bounds.PREAUTH_REF_LENGTH),
    "authorizations.payer_reference": (Authorization.payer_reference, bounds.PAYER_REFERENCE_LENGTH),
    "authorization_items.product_system": (AuthorizationItem.product_system, bounds.CODE_SYSTEM_LENGTH),
    "authorization_items.product_code": (AuthorizationItem.product_code, bounds.CODE_LENGTH),
    "authorization_items.authorization_number": (AuthorizationItem.authorization_number, bounds.PREAUTH_REF_LENGTH),
    "authorization_items.authorized_code": (AuthorizationItem.authorized_code, bounds.CODE_LENGTH),
    "authorization_identifiers.system": (AuthorizationIdentifier.system, bounds.IDENTIFIER_KEY_LENGTH),
    "authorization_identifiers.value": (AuthorizationIdentifier.value, bounds.IDENTIFIER_KEY_LENGTH),
    "webhook_endpoints.url": (WebhookEndpoint.url, bounds.URL_LENGTH),
    "webhook_endpoints.secret": (WebhookEndpoint.secret, bounds.SEALED_SECRET_LENGTH),
    "fhir_subscriptions.endpoint": (FhirSubscription.endpoint, bounds.URL_LENGTH),
    "fhir_subscriptions.org_identifier": (FhirSubscription.org_identifier, bounds.IDENTIFIER_KEY_LENGTH),
    "coverage_assertions.product_system": (CoverageAssertion.product_system, bounds.CODE_SYSTEM_LENGTH),
    "coverage_assertions.product_code": (CoverageAssertion.product_code, bounds.CODE_LENGTH),
    "coverage_assertions.order_reference": (CoverageAssertion.order_reference, bounds.ORDER_REFERENCE_LENGTH),
}


def _length(attribute: Any) -> int:
    column_type = attribute.property.columns[0].type
    assert isinstance(column_type, String)
    assert column_type.length is not None
    return column_type.length


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_each_bounded_column_is_sized_by_its_constant(name: str) -> None:
    attribute, constant = COLUMNS[name]
    assert _length(attribute) == constant


def test_every_client_id_column_is_sized_by_one_constant() -> None:
    found = {
        f"{table.name}.client_id": column.type.length
        for table in Base.metadata.tables.values()
        for column in table.columns
        if column.name == "client_id" and isinstance(column.type, String)
    }
    assert found
    assert set(found.values()) == {bounds.CLIENT_ID_LENGTH}


def test_quantity_columns_are_the_numeric_the_rules_bound() -> None:
    for attribute in (AuthorizationItem.quantity, AuthorizationItem.authorized_quantity, AuthorizationItem.units_used):
        column_type = attribute.property.columns[0].type
        assert isinstance(column_type, Numeric)
        assert (column_type.precision, column_type.scale) == (bounds.QUANTITY_PRECISION, bounds.QUANTITY_SCALE)
    digits = bounds.QUANTITY_PRECISION - bounds.QUANTITY_SCALE
    assert str(bounds.QUANTITY_MAX) == "9" * digits + "." + "9" * bounds.QUANTITY_SCALE


def _resource(bundle: Json, resource_type: str) -> Json:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type)


def _member(bundle: Json, length: int) -> None:
    _resource(bundle, "Coverage")["subscriberId"] = "M" * length


def _bundle_key(bundle: Json, length: int) -> None:
    bundle["identifier"] = {"system": "urn:b", "value": "B" * (length - len("urn:b|"))}


def _claim_key(bundle: Json, length: int) -> None:
    bundle["entry"][0]["resource"]["identifier"] = [{"system": "urn:c", "value": "C" * (length - len("urn:c|"))}]


def _patient_key(bundle: Json, length: int) -> None:
    _resource(bundle, "Patient")["identifier"] = [{"system": "urn:p", "value": "P" * (length - len("urn:p|"))}]


def _patient_system(bundle: Json, length: int) -> None:
    _resource(bundle, "Patient")["identifier"] = [{"system": "s" * (length - len("|P")), "value": "P"}]


def _member_key(bundle: Json, length: int) -> None:
    coverage = _resource(bundle, "Coverage")
    del coverage["subscriberId"]
    mb = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MB"}]}
    coverage["identifier"] = [{"type": mb, "system": "s" * (length - len("|M")), "value": "M"}]


def _product_code(bundle: Json, length: int) -> None:
    bundle["entry"][0]["resource"]["item"][0]["productOrService"]["coding"][0]["code"] = "9" * length


def _product_system(bundle: Json, length: int) -> None:
    bundle["entry"][0]["resource"]["item"][0]["productOrService"]["coding"][0]["system"] = "s" * length


RULES: dict[str, tuple[Any, Callable[[Json, int], None]]] = {
    "member id": (Authorization.patient_member_id, _member),
    "Bundle identifier": (Authorization.bundle_identifier, _bundle_key),
    "Claim identifier": (Authorization.claim_identifier, _claim_key),
    "Patient identifier": (AuthorizationIdentifier.value, _patient_key),
    "Patient identifier system": (AuthorizationIdentifier.system, _patient_system),
    "member identifier with its system": (AuthorizationIdentifier.system, _member_key),
    "product code": (AuthorizationItem.product_code, _product_code),
    "product system": (AuthorizationItem.product_system, _product_system),
}


@pytest.mark.parametrize("name", sorted(RULES))
def test_the_rules_accept_exactly_what_the_column_holds(name: str) -> None:
    attribute, set_length = RULES[name]
    fits = make_pas_bundle()
    set_length(fits, _length(attribute))
    parse_submit(to_bytes(fits))
    too_long = make_pas_bundle()
    set_length(too_long, _length(attribute) + 1)
    with pytest.raises(InvalidRequest):
        parse_submit(to_bytes(too_long))
