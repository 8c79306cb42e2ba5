"""Regenerate the request/response pairs of this folder (run from the repository root):

    PYTHONPATH=. .venv/bin/python examples/x12/generate.py

Each `<case>.request.x12` is the 278 request `epa x12 encode` makes of a PAS example Bundle; each
`<case>.response.x12` is the answer the scripted payer of the tests (`app.payers.x12_278.respond`)
gives to it; `inquiry` is the 005010X215 inquiry that follows `pended` up. Fixed control numbers and
times, so the files only change when the codec does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from app.domain.model import Period
from app.fhir.submit import parse_submit
from app.payers.x12_278 import Control, Parties, Purpose, encode_request, people_of, trace_for
from app.payers.x12_278.respond import Script, Scripted, respond

HERE = Path(__file__).parent
PAS = HERE.parent / "pas"
HUB = Parties("EPAHUB", "CLEARHOUSE", "ACME01", payer_name="ACME HEALTH")
PAYER = Parties("CLEARHOUSE", "EPAHUB", "ACME01")
AT = datetime(2030, 5, 1, 9, 30, tzinfo=UTC)
PERIOD = Period(date(2030, 5, 10), date(2030, 11, 9))

INQUIRY = Purpose(administrative_reference="ADM-1004")
CASES: dict[str, tuple[str, Purpose, Script]] = {
    "certified": ("approve.json", Purpose(), Script(event=Scripted("A1", "AUTH-1001", period=PERIOD))),
    "partial": ("drug-expedited.json", Purpose(), Script(items={1: Scripted("A2", "AUTH-1002", quantity=Decimal(6))})),
    "denied": ("deny.json", Purpose(), Script(event=Scripted("A3", reason="0U"))),
    "pended": ("pend.json", Purpose(), Script(event=Scripted("A4"), administrative_reference="ADM-1004")),
    "modified": ("approve.json", Purpose(), Script(items={1: Scripted("A6", "AUTH-1005", service="99213")})),
    "contact-payer": ("approve.json", Purpose(), Script(event=Scripted("CT"))),
    "no-action-required": ("gold-card.json", Purpose(), Script(event=Scripted("NA"))),
    "rejected": ("approve.json", Purpose(), Script(rejections={"2010C": ("72", "C")})),
    "update": ("update.json", Purpose(previous_authorization="AUTH-1001"), Script(event=Scripted("A1", "AUTH-1001"))),
    "cancel": ("cancel.json", Purpose(previous_authorization="AUTH-1001"), Script(event=Scripted("C"))),
    "inquiry": ("pend.json", INQUIRY, Script(event=Scripted("A1", "AUTH-1004", period=PERIOD))),  # X215, after "pended"
}


def main() -> None:
    for n, (case, (source, purpose, script)) in enumerate(sorted(CASES.items()), start=1):
        parsed = parse_submit((PAS / source).read_bytes())
        trace = trace_for(parsed.request.bundle_identifier.key())
        request = encode_request(
            parsed.request,
            HUB,
            Control(1000 + n, 1000 + n, AT),
            trace=trace,
            people=people_of(parsed.bundle_bytes),
            purpose=purpose,
            inquiry=case == "inquiry",
        )
        response = respond(request, script, PAYER, Control(5000 + n, 5000 + n, AT))
        (HERE / f"{case}.request.x12").write_text(request.replace("~", "~\n"), encoding="ascii")
        (HERE / f"{case}.response.x12").write_text(response.replace("~", "~\n"), encoding="ascii")


if __name__ == "__main__":
    main()
