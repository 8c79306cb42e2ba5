"""CPU of the x12-278 codec per request against the PAS validation of the same request.

    .venv/bin/python -m bench.x12 [--rounds 300] [--items 3]

For the benchmark's PAS Bundle (bench/payload.py): `parse_submit` (R4B validation + PAS rules, what
every `$submit` pays) as the baseline, then encode (people from the Bundle + the 278 request), decode
(pyx12 read + loop walk + `to_reply` of a scripted response), and encode + decode together. Process
CPU time (time.process_time), best and median of `--rounds`; goal: encode + decode under 0.5x the
validation. A request that is not scripted needs no network: nothing is sent.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import orjson

from app.fhir.submit import parse_submit
from app.payers.x12_278 import Control, Parties, check_answers, decode_response, encode_request, people_of, to_reply
from app.payers.x12_278.respond import Script, Scripted, respond
from bench.payload import pas_bundle

HUB = Parties("EPAHUB", "CLEARHOUSE", "PAYER01", payer_name="ACME HEALTH")
PAYER = Parties("CLEARHOUSE", "EPAHUB", "PAYER01")
TRACE = "EPABENCH0001"


def measure(work: Callable[[], object], rounds: int) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        start = time.process_time()
        work()
        samples.append(time.process_time() - start)
    return min(samples), statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--items", type=int, default=3)
    args = parser.parse_args()
    body = orjson.dumps(pas_bundle(items=args.items))
    parsed = parse_submit(body)
    request = parsed.request
    control = Control(1, 1, datetime.now(UTC))

    def encode() -> str:
        return encode_request(request, HUB, control, trace=TRACE, people=people_of(parsed.bundle_bytes))

    script = Script(event=Scripted("A1", "AUTH-1"), items={1: Scripted("A2", "AUTH-2", reason="0U")})
    response = respond(encode(), script, PAYER, Control(2, 2, datetime.now(UTC)))

    def decode() -> object:
        decoded = decode_response(response)
        check_answers(decoded, TRACE)
        return to_reply(decoded, request)

    def both() -> object:
        encode()
        return decode()

    baseline_best, baseline_median = measure(lambda: parse_submit(body), args.rounds)
    print(f"x12-278 codec vs PAS validation, {args.items}-item request ({len(body):,} bytes), {args.rounds} rounds")
    label = "PAS validation (parse_submit)"
    print(f"  {label:32} best {baseline_best * 1e3:7.3f} ms  median {baseline_median * 1e3:7.3f} ms")
    for name, work in (("encode (278 request)", encode), ("decode (278 response)", decode), ("encode + decode", both)):
        best, median = measure(work, args.rounds)
        ratio = median / baseline_median
        print(f"  {name:32} best {best * 1e3:7.3f} ms  median {median * 1e3:7.3f} ms  {ratio:5.2f}x validation")


if __name__ == "__main__":
    main()
