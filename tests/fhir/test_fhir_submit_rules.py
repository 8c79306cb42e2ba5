"""One test per PAS validation rule: each bad Bundle gives one InvalidRequest naming the expression."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.domain.codes import AuthorizationKind, Priority
from app.errors import InvalidRequest
from app.fhir.limits import ParseLimits
from app.fhir.submit import parse_submit
from tests.support.bundles import as_parameters, make_item, make_pas_bundle, to_bytes

C = "Bundle.entry[0].resource"
Json = dict[str, Any]


def _claim(bundle: Json) -> Json:
    claim: Json = bundle["entry"][0]["resource"]
    return claim


def _expressions(body: bytes, limits: ParseLimits | None = None) -> list[str | None]:
    with pytest.raises(InvalidRequest) as caught:
        parse_submit(body, limits or ParseLimits())
    return [issue.expression for issue in caught.value.issues]


def _set(path: str, value: Any) -> Callable[[Json], None]:
    def mutate(bundle: Json) -> None:
        target: Any = _claim(bundle)
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value

    return mutate


def _reversed_period(bundle: Json) -> None:
    item = _claim(bundle)["item"][0]
    item.pop("servicedDate")
    item["servicedPeriod"] = {"start": "2030-06-02", "end": "2030-06-01"}


def _drop(key: str) -> Callable[[Json], None]:
    return lambda bundle: _claim(bundle).pop(key)


CASES: list[tuple[str, Callable[[Json], None], str]] = [
    ("bundle type collection", lambda b: b.update(type="batch"), "Bundle.type"),
    ("bundle identifier", lambda b: b.pop("identifier"), "Bundle.identifier"),
    ("bundle timestamp", lambda b: b.pop("timestamp"), "Bundle.timestamp"),
    ("entries present", lambda b: b.update(entry=[]), "Bundle.entry"),
    ("first entry is a Claim", lambda b: b["entry"].reverse(), C),
    ("use preauthorization", _set("use", "claim"), f"{C}.use"),
    ("status active", _set("status", "draft"), f"{C}.status"),
    ("claim identifier", _drop("identifier"), f"{C}.identifier"),
    ("insurer present", _drop("insurer"), f"{C}.insurer"),
    ("provider present", _drop("provider"), f"{C}.provider"),
    ("patient present", _drop("patient"), f"{C}.patient"),
    ("patient is a Patient", _set("patient", {"reference": "Organization/insurer-1"}), f"{C}.patient"),
    ("focal insurance", _set("insurance.0.focal", False), f"{C}.insurance"),
    (
        "claim references resolve",
        _set("careTeam.0.provider", {"reference": "Practitioner/nope"}),
        f"{C}.careTeam[0].provider",
    ),
    ("item sequence unique", _set("item.1.sequence", 1), f"{C}.item[1].sequence"),
    ("item sequence positive", _set("item.2.sequence", 0), f"{C}.item[2].sequence"),
    (
        "supportingInfo sequence unique",
        lambda b: _claim(b)["supportingInfo"].append(dict(_claim(b)["supportingInfo"][0])),
        f"{C}.supportingInfo[1].sequence",
    ),
    ("at least one item", _drop("item"), f"{C}.item"),
    (
        "ICD-10-CM well-formed",
        _set("diagnosis.1.diagnosisCodeableConcept.coding.0.code", "54.50"),
        f"{C}.diagnosis[1].diagnosisCodeableConcept.coding[0].code",
    ),
    (
        "diagnosisSequence points at a diagnosis",
        _set("item.0.diagnosisSequence", [9]),
        f"{C}.item[0].diagnosisSequence[0]",
    ),
    ("created complete", _set("created", "2030"), f"{C}.created"),
    ("servicedDate complete", _set("item.1.servicedDate", "2030-05"), f"{C}.item[1].servicedDate"),
    (
        "servicedPeriod ordered",
        _reversed_period,
        f"{C}.item[0].servicedPeriod",
    ),
    ("R4B: unknown element", _set("bogus", 1), f"{C}.bogus"),
    ("R4B: wrong type", _set("item.0.quantity", {"value": "many"}), f"{C}.item[0].quantity.value"),
    (
        "unknown resourceType in an entry",
        lambda b: b["entry"][3]["resource"].update(resourceType="Nope"),
        "Bundle.entry[3].resource.resourceType",
    ),
    ("ambiguous reference", lambda b: b["entry"].append(dict(b["entry"][4])), f"{C}.patient"),
]


@pytest.mark.parametrize(("mutate", "expression"), [(m, e) for _, m, e in CASES], ids=[n for n, _, _ in CASES])
def test_rule_violation_is_reported_at_its_expression(mutate: Callable[[Json], None], expression: str) -> None:
    bundle = make_pas_bundle()
    mutate(bundle)
    assert expression in _expressions(to_bytes(bundle))


def test_all_issues_are_reported_together() -> None:
    bundle = make_pas_bundle()
    bundle.pop("timestamp")
    _claim(bundle)["use"] = "claim"
    _claim(bundle)["item"][1]["sequence"] = 1
    found = _expressions(to_bytes(bundle))
    assert {"Bundle.timestamp", f"{C}.use", f"{C}.item[1].sequence"} <= set(found)


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'"Bundle"', to_bytes({"resourceType": "Claim"}), b""],
    ids=["malformed", "array", "string", "wrong-type", "empty"],
)
def test_undecodable_or_wrong_bodies_are_invalid(body: bytes) -> None:
    with pytest.raises(InvalidRequest):
        parse_submit(body)


def test_limits_bound_depth_arrays_strings_items_and_entries() -> None:
    deep: Any = "x"
    for _ in range(200):
        deep = {"a": deep}
    bundle = make_pas_bundle()
    _claim(bundle)["extension"].append({"url": "http://x", "valueString": "y", "extension": [deep]})
    assert _expressions(to_bytes(bundle))[0] is not None
    small = ParseLimits(max_items=2, max_entries=50, max_string_length=100_000, max_array_length=100)
    assert _expressions(to_bytes(make_pas_bundle(3)), small) == [f"{C}.item"]
    many = make_pas_bundle()
    many["entry"] += [many["entry"][1]] * 60
    assert _expressions(to_bytes(many), small) == ["Bundle.entry"]
    long = make_pas_bundle()
    _claim(long)["supportingInfo"][0]["valueString"] = "x" * 200_000
    assert _expressions(to_bytes(long), small) == [f"{C}.supportingInfo[0]"]


def test_cancel_all_update_may_have_no_items() -> None:
    bundle = make_pas_bundle()
    claim = _claim(bundle)
    claim.pop("item")
    claim["extension"].append(
        {
            "url": "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-certificationType",
            "valueCodeableConcept": {"coding": [{"system": "https://codesystem.x12.org/005010/1322", "code": "3"}]},
        }
    )
    parsed = parse_submit(to_bytes(bundle))
    assert parsed.request.cancels_all
    assert parsed.request.items == ()


def test_parameters_wrapper_is_accepted_and_bundle_bytes_are_the_bundle() -> None:
    bundle = make_pas_bundle()
    parsed = parse_submit(to_bytes(as_parameters(bundle)))
    assert parsed.bundle == bundle
    assert parsed.bundle_bytes == to_bytes(bundle)
    plain = to_bytes(bundle)
    assert parse_submit(plain).bundle_bytes is plain


def test_domain_request_from_the_factory_bundle() -> None:
    request = parse_submit(to_bytes(make_pas_bundle())).request
    assert request.bundle_identifier.value == "BUNDLE-0001"
    assert request.claim_identifiers[0].value == "CLAIM-0001"
    assert request.provider[0].system == "http://hl7.org/fhir/sid/us-npi"
    assert request.insurer == request.payor
    assert request.member_id is not None
    assert request.member_id.value == "MEMBER-123"
    assert [i.sequence for i in request.items] == [1, 2, 3]
    assert request.items[0].performer is not None
    assert request.items[0].performer.value == "1111111112"
    assert request.items[0].serviced is not None
    assert request.items[0].serviced.start is not None
    assert request.kind is AuthorizationKind.PRIOR
    assert request.priority is Priority.STANDARD  # levelOfServiceCode E is "Elective"


@pytest.mark.parametrize(
    ("mutate", "kind"),
    [
        (lambda c: c["item"].__setitem__(0, make_item(1, certification="4")), AuthorizationKind.CONCURRENT),
        (lambda c: c["item"][0].update(servicedDate="2030-04-01"), AuthorizationKind.RETROSPECTIVE),
        (lambda c: c["item"].__setitem__(0, make_item(1, request_type="SC")), AuthorizationKind.SPECIALTY),
    ],
    ids=["concurrent", "retrospective", "specialty"],
)
def test_kind_recognition(mutate: Callable[[Json], None], kind: AuthorizationKind) -> None:
    bundle = make_pas_bundle()
    mutate(_claim(bundle))
    assert parse_submit(to_bytes(bundle)).request.kind is kind


@pytest.mark.parametrize(
    ("level", "priority_code", "expected"),
    [("U", "normal", Priority.EXPEDITED), ("03", "normal", Priority.EXPEDITED), ("E", "stat", Priority.EXPEDITED)],
)
def test_expedited_priority(level: str, priority_code: str, expected: Priority) -> None:
    bundle = make_pas_bundle()
    claim = _claim(bundle)
    claim["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] = level
    claim["priority"]["coding"][0]["code"] = priority_code
    assert parse_submit(to_bytes(bundle)).request.priority is expected


def test_dangling_reference_below_the_claim_is_a_warning() -> None:
    bundle = make_pas_bundle()
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Practitioner"]
    parsed = parse_submit(to_bytes(bundle))
    assert [(w.severity, w.expression) for w in parsed.warnings] == [
        ("warning", "Bundle.entry[5].resource.practitioner")
    ]


def test_urn_uuid_references_resolve() -> None:
    bundle = make_pas_bundle()
    for entry in bundle["entry"]:
        entry["fullUrl"] = f"urn:uuid:00000000-0000-0000-0000-{abs(hash(entry['resource']['id'])) % 10**12:012d}"
    by_id = {f"{e['resource']['resourceType']}/{e['resource']['id']}": e["fullUrl"] for e in bundle["entry"]}
    claim = _claim(bundle)
    for key in ("patient", "insurer", "provider"):
        claim[key]["reference"] = by_id[claim[key]["reference"]]
    assert parse_submit(to_bytes(bundle)).request.patient_identifiers
