"""The 278 request encoder: loops, segments and envelope, every output re-read by pyx12's reader."""

from __future__ import annotations

from dataclasses import replace

import orjson
import pytest

from app.domain.codes import AuthorizationKind
from app.domain.model import Identifier, PriorAuthRequest
from app.payers.testing import sample_request
from app.payers.x12_278 import Purpose, X12SyntaxError, X12ValueError, read_interchange
from app.payers.x12_278.segments import Segment
from tests.payers.x12_278.support import TRACE, encoded, item, rich_request


def body(text: str) -> tuple[Segment, ...]:
    interchange = read_interchange(text)
    assert len(interchange.transactions) == 1
    return interchange.transactions[0].segments


def tags(text: str, tag: str) -> list[Segment]:
    return [s for s in body(text) if s.tag == tag]


def update_of(request: PriorAuthRequest) -> PriorAuthRequest:
    return replace(request, related_claim=Identifier("urn:claims", "claim-0"))


@pytest.mark.parametrize(
    "request_",
    [sample_request(), rich_request(), update_of(sample_request()), replace(sample_request(), items=())],
    ids=["kit", "rich", "update", "no-items"],
)
def test_every_emitted_278_is_reread_with_its_counts_and_control_numbers(request_: PriorAuthRequest) -> None:
    text = encoded(request_)
    interchange = read_interchange(text)  # pyx12 checks SE/GE/IEA counts and matching control numbers
    assert (interchange.control_number, interchange.group_control_numbers) == ("000000012", ("7",))
    assert interchange.sender_id == "EPAHUB"
    assert interchange.receiver_id == "CLEARHOUSE"
    segments = text.split("~")[:-1]
    assert segments[-1] == "IEA*1*000000012"
    assert segments[-2] == "GE*1*7"
    assert segments[-3] == f"SE*{len(segments) - 4}*0001"  # ST..SE inclusive
    assert segments[1].endswith("*7*X*005010X217")
    assert segments[1].startswith("GS*HI*")
    assert segments[3].startswith(f"BHT*0007*13*{TRACE}*")


def test_a_wrong_segment_count_is_caught_by_the_reader() -> None:
    text = encoded().replace("SE*27*0001", "SE*26*0001")
    with pytest.raises(X12SyntaxError, match="ST:4"):
        read_interchange(text)


def test_the_loops_come_in_order_with_their_entities() -> None:
    segments = body(encoded(rich_request()))
    levels = [(s.get(1), s.get(2), s.get(3), s.get(4)) for s in segments if s.tag == "HL"]
    assert levels == [
        ("1", "", "20", "1"),
        ("2", "1", "21", "1"),
        ("3", "2", "22", "1"),
        ("4", "3", "EV", "1"),
        ("5", "4", "SS", "0"),
        ("6", "4", "SS", "0"),
        ("7", "4", "SS", "0"),
    ]
    names = [(s.get(1), s.get(8), s.get(9)) for s in segments if s.tag == "NM1"]
    assert names == [("X3", "PI", "PAYER01"), ("1P", "XX", "1234567890"), ("IL", "MI", "KIT-MEMBER-1")]
    traces = [s.get(2) for s in segments if s.tag == "TRN"]
    assert traces == [TRACE, f"{TRACE}-1", f"{TRACE}-2", f"{TRACE}-3"]


def test_the_event_carries_category_certification_service_type_place_level_dates_and_diagnoses() -> None:
    segments = body(encoded(rich_request()))
    event_um = next(s for s in segments if s.tag == "UM")
    assert event_um.elements == (("HS",), ("I",), ("12",), ("12", "B"), ("",), ("U",))
    assert next(s for s in segments if s.tag == "DTP").elements == (("AAH",), ("RD8",), ("20270104-20270331",))
    hi = next(s for s in segments if s.tag == "HI")
    assert hi.elements == (("ABK", "G894"), ("ABF", "M5450"))  # by sequence, no dots


def test_services_carry_codes_modifiers_quantities_and_dates() -> None:
    segments = body(encoded(rich_request()))
    sv1 = [s for s in segments if s.tag == "SV1"]
    assert sv1[0].elements == (("HC", "E0100", "RR"), ("0",), ("UN",), ("4",))
    assert [s.elements for s in segments if s.tag == "HSD"] == [(("FL",), ("4",))] * 3
    assert ("472",) in [s.elements[0] for s in segments if s.tag == "DTP"]


def test_institutional_and_dental_codes_go_in_sv2_and_sv3() -> None:
    request = replace(
        sample_request(),
        items=(
            item(1, "https://www.nubc.org/CodeSystem/RevenueCodes", "0120", 3),
            item(2, "http://ada.org/cdt", "D2740"),
        ),
    )
    segments = body(encoded(request))
    assert next(s for s in segments if s.tag == "SV2").elements == (("0120",), ("",), ("0",), ("UN",), ("3",))
    assert next(s for s in segments if s.tag == "SV3").elements == (("AD", "D2740"), ("0",))


@pytest.mark.parametrize(
    ("change", "purpose", "expected"),
    [
        ({}, Purpose(), "I"),
        ({"related_claim": Identifier("urn:claims", "claim-0")}, Purpose(), "S"),
        ({"certification_type": "3"}, Purpose(), "3"),
        ({}, Purpose(cancel=True), "3"),
        ({"kind": AuthorizationKind.CONCURRENT}, Purpose(), "4"),
    ],
    ids=["initial", "update-is-revision", "cancel-request", "cancel-purpose", "concurrent-extension"],
)
def test_certification_type(change: dict[str, object], purpose: Purpose, expected: str) -> None:
    request = replace(sample_request(), **change)  # type: ignore[arg-type]
    ums = tags(encoded(request, purpose), "UM")
    assert {um.get(2) for um in ums} == {expected}


def test_a_cancelled_item_alone_is_certification_type_3_and_references_go_in_ref() -> None:
    base = sample_request()
    request = replace(base, items=(replace(base.items[0], certification_type="3"), *base.items[1:]))
    text = encoded(request, Purpose(previous_authorization="AUTH-7", administrative_reference="ADM-9"))
    assert [um.get(2) for um in tags(text, "UM")] == ["I", "3", "I", "I"]
    assert [(r.get(1), r.get(2)) for r in tags(text, "REF")] == [("BB", "AUTH-7"), ("NT", "ADM-9")]


def _bundle(relationship: str) -> bytes:
    patient = {"resourceType": "Patient", "id": "p", "name": [{"family": "Doe", "given": ["Jo"]}]}
    patient |= {"birthDate": "2015-04-02", "gender": "female"}
    subscriber = {"resourceType": "Patient", "id": "s", "name": [{"family": "Doe", "given": ["Sam"]}]}
    subscriber |= {"birthDate": "1980-01-31", "gender": "male"}
    coverage = {
        "resourceType": "Coverage",
        "id": "c",
        "subscriber": {"reference": "Patient/s"},
        "relationship": {"coding": [{"code": relationship}]},
    }
    claim = {
        "resourceType": "Claim",
        "patient": {"reference": "Patient/p"},
        "provider": {"reference": "urn:uuid:org"},
        "insurance": [{"focal": True, "coverage": {"reference": "Coverage/c"}}],
    }
    org = {"resourceType": "Organization", "name": "Good*Clinic"}
    entries = [{"resource": claim}, {"resource": patient}, {"resource": subscriber}, {"resource": coverage}]
    return orjson.dumps({"resourceType": "Bundle", "entry": [*entries, {"fullUrl": "urn:uuid:org", "resource": org}]})


def test_a_dependent_patient_gets_loop_2000d_with_demographics() -> None:
    text = encoded(bundle=_bundle("child"))
    segments = body(text)
    assert [s.get(3) for s in segments if s.tag == "HL"][:5] == ["20", "21", "22", "23", "EV"]
    names = {s.get(1): (s.get(2), s.get(3), s.get(4)) for s in segments if s.tag == "NM1"}
    assert names["IL"] == ("1", "Doe", "Sam")
    assert names["QC"] == ("1", "Doe", "Jo")
    assert names["1P"] == ("2", "Good Clinic", "")  # the delimiter in the name became a space
    assert [s.elements for s in segments if s.tag == "DMG"] == [(("D8",), ("20150402",), ("F",))]


def test_the_subscriber_as_patient_has_no_2000d() -> None:
    segments = body(encoded(bundle=_bundle("self")))
    assert "23" not in [s.get(3) for s in segments if s.tag == "HL"]
    assert [s.elements for s in segments if s.tag == "DMG"] == [(("D8",), ("20150402",), ("F",))]


def test_an_identifier_holding_a_delimiter_is_refused() -> None:
    request = replace(sample_request(), member_id=Identifier(None, "M~1"))
    with pytest.raises(X12ValueError):
        encoded(request)


def test_unknown_code_systems_fall_back_to_professional_hc() -> None:
    request = replace(sample_request(), items=(item(1, "urn:local", "X1"),))
    assert tags(encoded(request), "SV1")[0].composite(1) == ("HC", "X1")
