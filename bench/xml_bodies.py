"""How the FHIR XML conversion grows with the body: time per element should stay flat (linear cost).

`.venv/bin/python -m bench.xml_bodies` converts Bundles of 1,000 to 19,000 elements (within the
default limits: repeats of one element under one parent capped at 1,000) and prints seconds and
microseconds per element.
"""

from __future__ import annotations

import time

from app.fhir.xml import XmlLimits, xml_to_json


def bundle(patients: int, identifiers: int) -> bytes:
    ids = "".join(f'<identifier><value value="v{i}"/></identifier>' for i in range(identifiers))
    entry = f'<entry><resource><Patient xmlns="http://hl7.org/fhir">{ids}</Patient></resource></entry>'
    return f'<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/>{entry * patients}</Bundle>'.encode()


def main() -> None:
    limits = XmlLimits()
    print("FHIR XML to JSON (elements, bytes, seconds, microseconds per element)")
    for patients in (1, 2, 5, 10, 19):
        body = bundle(patients, 500)
        elements = body.count(b"<") - body.count(b"</")
        started = time.perf_counter()
        xml_to_json(body, limits)
        took = time.perf_counter() - started
        print(f"  {elements:>6} {len(body):>9} {took:7.3f} s {took / elements * 1e6:7.1f} us")


if __name__ == "__main__":
    main()
