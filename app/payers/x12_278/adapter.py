"""The `x12-278` adapter: a payer reached through a clearinghouse with 278s over CAQH CORE real time.

- submit: the request as a 005010X217 278 (updates as revisions `S`, cancelling items as `3`).
- inquire: a 005010X215 inquiry naming the request (its trace and the payer's references), for
  pended requests on the worker's schedule; documents cannot travel in a 278 (a 275 would carry them).
- cancel: the request again with certification type `3`, with the payer's references; idempotent
  (the payer answers `C` again).

Every answer is read by the codec: a TA1 or 999 rejection, a CORE error, a 278 that does not parse,
names another request or carries unknown codes are `PayerProtocolError`s or `PayerUnavailable`
(nothing decided: pended, retried, shown to operations with the codes); AAA segments are the payer
refusing the request (`PayerRejected`, one issue per AAA naming the loop). `payer_reference` carries
what a follow-up needs (trace, REF*NT, certification number) as compact JSON: no state in memory.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

from app.domain.model import PayerReply, PriorAuthRequest
from app.payers.config import PayerConfigError
from app.payers.contract import AdapterContext, PayerReference, PayerSubmission
from app.payers.errors import PayerProtocolError, PayerRejected
from app.payers.x12_278 import core
from app.payers.x12_278.acks import acknowledgment_of
from app.payers.x12_278.control import ControlNumbers
from app.payers.x12_278.decode import decode_response
from app.payers.x12_278.encode import Purpose, encode_request, trace_for
from app.payers.x12_278.envelope import Control
from app.payers.x12_278.errors import X12ProtocolError, X12SyntaxError, X12ValueError
from app.payers.x12_278.people import people_of
from app.payers.x12_278.reader import read_interchange
from app.payers.x12_278.reply import check_answers, rejection_issues, to_reply
from app.payers.x12_278.settings import X12Settings
from app.payers.x12_278.transport import CoreTransport

log = logging.getLogger("epa.payers.x12")


def reference_of(text: str | None) -> dict[str, str]:
    """The follow-up facts kept in `payer_reference` (a bare string is the payer's own reference)."""
    if not text:
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {"nt": text}
    return {k: v for k, v in value.items() if isinstance(v, str)} if isinstance(value, dict) else {"nt": text}


class X12Adapter:
    """A payer that takes 278s through a CORE clearinghouse."""

    contract_version = 1

    def __init__(
        self, settings: X12Settings, transport: CoreTransport, controls: ControlNumbers, context: AdapterContext
    ):
        self._settings = settings
        self._parties = settings.parties()
        self._transport = transport
        self._controls = controls
        self._clock = context.clock
        self._payer = context.payer_id

    async def submit(self, submission: PayerSubmission) -> PayerReply:
        trace = _submit_trace(submission.authorization_id, submission.request)
        return await self._exchange(submission.request, submission.bundle, trace, Purpose(), inquiry=False)

    async def inquire(self, reference: PayerReference) -> PayerReply:
        known = reference_of(reference.payer_reference)
        purpose = Purpose(previous_authorization=known.get("bb"), administrative_reference=known.get("nt"))
        trace = known.get("trace") or _submit_trace(reference.authorization_id, reference.request)
        return await self._exchange(reference.request, reference.bundle, trace, purpose, inquiry=True)

    async def cancel(self, reference: PayerReference) -> PayerReply:
        known = reference_of(reference.payer_reference)
        purpose = Purpose(cancel=True, previous_authorization=known.get("bb"), administrative_reference=known.get("nt"))
        trace = trace_for(f"{reference.authorization_id}:cancel")
        return await self._exchange(reference.request, reference.bundle, trace, purpose, inquiry=False)

    async def aclose(self) -> None:
        return None  # the http client is shared and closed by its owner

    async def _exchange(
        self, request: PriorAuthRequest, bundle: bytes, trace: str, purpose: Purpose, *, inquiry: bool
    ) -> PayerReply:
        number = await self._controls.next()
        control = Control(number, number, self._clock())
        try:
            text = encode_request(
                request, self._parties, control, trace=trace, people=people_of(bundle), purpose=purpose, inquiry=inquiry
            )
        except X12ValueError as exc:
            raise PayerRejected(f"the request cannot be written as a 278: {exc}") from exc
        payload_type = core.PAYLOAD_INQUIRY_REQUEST if inquiry else core.PAYLOAD_278_REQUEST
        log.info("x12 278 sent", extra={"payer": self._payer, "control_number": number, "trace": trace})
        answer = await self._transport.exchange(text, payload_type)
        reply = self._interpret(answer.payload, request, trace, number)
        return PayerReply(
            decisions=reply.decisions,
            payer_reference=reply.payer_reference,
            preauth_ref=reply.preauth_ref,
            preauth_period=reply.preauth_period,
            retry_after=self._follow_up(reply),
            raw={
                "format": "x12-278",
                "request": text,
                "response": answer.payload,
                "trace": trace,
                "control_number": number,
            },
        )

    def _follow_up(self, reply: PayerReply) -> timedelta | None:
        pended = any(not d.action.is_final for d in reply.decisions)
        return timedelta(seconds=self._settings.follow_up_seconds) if pended else None

    def _interpret(self, payload: str, request: PriorAuthRequest, trace: str, number: int) -> PayerReply:
        try:
            interchange = read_interchange(payload)
            ack = acknowledgment_of(interchange)
            if ack is not None and (not ack.accepted or not any(t.code == "278" for t in interchange.transactions)):
                log.warning(
                    "x12 acknowledgment", extra={"payer": self._payer, "control_number": number, "ack": ack.code}
                )
                raise PayerProtocolError(f"the clearinghouse answered {ack.describe()} to interchange {number:09d}")
            decoded = decode_response(payload)
            check_answers(decoded, trace)
        except (X12SyntaxError, X12ProtocolError) as exc:
            log.warning("x12 answer refused", extra={"payer": self._payer, "control_number": number})
            raise PayerProtocolError(f"the 278 answer to interchange {number:09d} is unusable: {exc}") from exc
        if decoded.rejections:
            raise PayerRejected(
                "the payer refused the 278 request", issues=rejection_issues(decoded.rejections, request)
            )
        event = decoded.event
        kept = {"trace": trace}
        if event is not None and event.administrative_reference:
            kept["nt"] = event.administrative_reference
        if event is not None and event.number:
            kept["bb"] = event.number
        try:
            return to_reply(decoded, request, payer_reference=orjson.dumps(kept).decode())
        except X12ProtocolError as exc:
            raise PayerProtocolError(f"the 278 answer to interchange {number:09d} is unusable: {exc}") from exc


def _submit_trace(authorization_id: str, request: PriorAuthRequest) -> str:
    """The trace of the 278 that submitted `request`: an inquiry without the payer's answer names it too."""
    return trace_for(f"{authorization_id}:submit:{request.bundle_identifier.key()}")


def _password(settings: X12Settings, context: AdapterContext) -> str:
    if settings.password is not None:
        return settings.password.get_secret_value()
    assert settings.password_file is not None
    try:
        return context.resolve(settings.password_file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise PayerConfigError(f"password_file: cannot be read ({exc.strerror or type(exc).__name__})") from None


def create_adapter(settings: Mapping[str, Any], context: AdapterContext) -> X12Adapter:
    """Entry point `x12-278`: validate the settings, read the password, open the control numbers."""
    parsed = X12Settings.model_validate(settings)
    password = _password(parsed, context)
    path = parsed.control_numbers_file or Path(f"{context.payer_id}.x12-control")
    controls = ControlNumbers(context.resolve(path))
    transport = CoreTransport(parsed, password, context.http, context.clock, context.payer_id)
    return X12Adapter(parsed, transport, controls, context)
