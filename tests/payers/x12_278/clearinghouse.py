"""A fake CAQH CORE clearinghouse on 127.0.0.1 (uvicorn, both envelopes) that answers 278s as scripted:
a 278 response written by `respond.py`, a TA1 or 999 rejection, a CORE error, an HTTP failure,
garbage, or slowly. It checks the credentials and records every CORE message it received."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.payers.x12_278 import Control, Parties, core, read_interchange
from app.payers.x12_278.respond import Script, respond

USERNAME, PASSWORD = "epa-hub", "s3cret&<pw>"
Kind = Literal["respond", "ta1", "999", "core-error", "http", "garbage", "slow"]


@dataclass(frozen=True, slots=True)
class Answer:
    kind: Kind = "respond"
    script: Script = field(default_factory=Script)
    code: str = ""  # TA1 note / 999 error / CORE error code
    status: int = 200
    delay: float = 0.0


@dataclass
class Clearinghouse:
    envelope: core.Envelope = "mime"
    submit: Answer = field(default_factory=Answer)
    inquiry: Answer | None = None  # None: as `submit`
    received: list[core.CoreMessage] = field(default_factory=list)
    port: int = 0
    counter: int = 0
    workdir: Path | None = None  # where the hub's control-number counter goes (never the working directory)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/core/278"

    def settings(self, **overrides: object) -> dict[str, object]:
        base: dict[str, object] = {
            "url": self.url,
            "envelope": self.envelope,
            "username": USERNAME,
            "password": PASSWORD,
            "sender_id": "EPAHUB",
            "receiver_id": "CLEARHOUSE",
            "payer_id": "PAYER01",
            "timeout_seconds": 2,
        }
        if self.workdir is not None:
            base["control_numbers_file"] = str(self.workdir / "payer.x12-control")
        return base | overrides

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        try:
            message = core.decode(self.envelope, request.headers.get("content-type", ""), body, response=False)
        except core.CoreEnvelopeError:
            return Response(status_code=400)
        self.received.append(message)
        if (message.username, message.password) != (USERNAME, PASSWORD):
            return self._core(message, "", "UnAuthorized")
        inquiry = message.payload_type == core.PAYLOAD_INQUIRY_REQUEST
        answer = (self.inquiry or self.submit) if inquiry else self.submit
        if answer.delay:
            await asyncio.sleep(answer.delay)
        if answer.kind == "http":
            return Response(status_code=answer.status)
        if answer.kind == "core-error":
            return self._core(message, "", answer.code)
        if answer.kind == "garbage":
            return self._core(message, "this is not X12 at all")
        return self._core(message, self._payload(answer, message.payload))

    def _payload(self, answer: Answer, request_text: str) -> str:
        self.counter += 1
        at = datetime.now(UTC)
        if answer.kind == "ta1":
            return ta1(request_text, answer.code or "024", self.counter)
        if answer.kind == "999":
            return ack_999(request_text, answer.code or "8", self.counter)
        return respond(
            request_text,
            answer.script,
            Parties("CLEARHOUSE", "EPAHUB", "PAYER01"),
            Control(self.counter, self.counter, at),
        )

    def _core(self, request: core.CoreMessage, payload: str, error: str = core.SUCCESS) -> Response:
        response_type = (
            core.PAYLOAD_278_RESPONSE
            if request.payload_type == core.PAYLOAD_278_REQUEST
            else core.PAYLOAD_INQUIRY_RESPONSE
        )
        if payload.startswith("ISA") and "TA1*" in payload:
            response_type = core.PAYLOAD_TA1
        elif "ST*999*" in payload:
            response_type = core.PAYLOAD_999
        message = core.CoreMessage(
            response_type,
            payload,
            request.receiver_id,
            request.sender_id,
            payload_id=request.payload_id,
            timestamp=core.timestamp(datetime.now(UTC)),
            error_code=error,
            error_message="" if error == core.SUCCESS else "scripted error",
        )
        content_type, body = core.encode(self.envelope, message, response=True)
        return Response(body, media_type=content_type)


def _isa(sender: str, receiver: str, control: int) -> str:
    at = datetime.now(UTC)
    return (
        f"ISA*00*          *00*          *ZZ*{sender.ljust(15)}*ZZ*{receiver.ljust(15)}*"
        f"{at:%y%m%d}*{at:%H%M}*^*00501*{control:09d}*0*T*:~"
    )


def ta1(request_text: str, note: str, control: int) -> str:
    """An interchange acknowledgment rejecting the request's interchange."""
    isa13 = read_interchange(request_text).control_number
    at = datetime.now(UTC)
    return f"{_isa('CLEARHOUSE', 'EPAHUB', control)}TA1*{isa13}*{at:%y%m%d}*{at:%H%M}*R*{note}~IEA*0*{control:09d}~"


def ack_999(request_text: str, error: str, control: int) -> str:
    """A 999 rejecting the request's transaction set (an element error in its UM segment)."""
    group = read_interchange(request_text).group_control_numbers[0]
    at = datetime.now(UTC)
    body = [
        "ST*999*0001*005010X231A1",
        f"AK1*HI*{group}*005010X217",
        "AK2*278*0001*005010X217",
        "IK3*UM*13**8",
        f"IK4*2*1322*{error}",
        "IK5*R*5",
        "AK9*R*1*1*0",
    ]
    body.append(f"SE*{len(body) + 1}*0001")
    segments = [f"GS*FA*CLEARHOUSE*EPAHUB*{at:%Y%m%d}*{at:%H%M}*{control}*X*005010X231A1", *body, f"GE*1*{control}"]
    return _isa("CLEARHOUSE", "EPAHUB", control) + "~".join(segments) + f"~IEA*1*{control:09d}~"


@asynccontextmanager
async def running(house: Clearinghouse) -> AsyncIterator[Clearinghouse]:
    """Serve `house` on a free loopback port until the block ends."""
    app = Starlette(routes=[Route("/core/278", house.handle, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    workdir = tempfile.TemporaryDirectory(prefix="x12-house-")
    house.workdir = Path(workdir.name)
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
        house.port = server.servers[0].sockets[0].getsockname()[1]
        yield house
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        workdir.cleanup()
