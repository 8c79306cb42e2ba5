"""One CORE real-time exchange with the clearinghouse, its faults translated to `PayerError`s.

    connect error, 5xx, 429, 503, refused credentials, CORE "busy"/"unauthorized"  -> PayerUnavailable
    no answer in time                                                            -> PayerTimeout
    an answer that is not a CORE envelope, any other CORE error code             -> PayerProtocolError

Logs carry the payer id, PayloadID, HTTP status and CORE error code only.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx

from app.payers.contract import Clock
from app.payers.errors import PayerProtocolError, PayerTimeout, PayerUnavailable
from app.payers.x12_278 import core
from app.payers.x12_278.settings import X12Settings

log = logging.getLogger("epa.payers.x12")
UNAVAILABLE_CODES = ("unauthorized", "busy", "unavailable", "timeout", "retry")


def _retry_after(value: str | None) -> timedelta | None:
    if value and value.strip().isdigit():
        return timedelta(seconds=int(value.strip()))
    return None


class CoreTransport:
    def __init__(self, settings: X12Settings, password: str, http: httpx.AsyncClient, clock: Clock, payer: str) -> None:
        self._settings = settings
        self._password = password
        self._http = http
        self._clock = clock
        self._payer = payer

    async def exchange(self, payload: str, payload_type: str) -> core.CoreMessage:
        """Send `payload` as `payload_type`; the clearinghouse's CORE answer (ErrorCode Success)."""
        s = self._settings
        message = core.CoreMessage(
            payload_type=payload_type,
            payload=payload,
            sender_id=s.sender_id,
            receiver_id=s.receiver_id,
            timestamp=core.timestamp(self._clock()),
            username=s.username,
            password=self._password,
        )
        content_type, body = core.encode(s.envelope, message)
        timeout = httpx.Timeout(s.timeout_seconds, connect=s.connect_timeout_seconds)
        try:
            response = await self._http.post(
                str(s.url), content=body, headers={"Content-Type": content_type}, timeout=timeout
            )
        except httpx.ConnectTimeout as exc:
            raise PayerUnavailable(f"the clearinghouse did not accept a connection ({type(exc).__name__})") from exc
        except httpx.TimeoutException as exc:
            log.warning("x12 exchange timed out", extra={"payer": self._payer, "payload_id": message.payload_id})
            raise PayerTimeout("the clearinghouse did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise PayerUnavailable(f"the clearinghouse could not be reached ({type(exc).__name__})") from exc
        log.info(
            "x12 exchange",
            extra={"payer": self._payer, "payload_id": message.payload_id, "status": response.status_code},
        )
        return self._answer(response, message)

    def _answer(self, response: httpx.Response, message: core.CoreMessage) -> core.CoreMessage:
        status = response.status_code
        retry_after = _retry_after(response.headers.get("Retry-After"))
        if status in (401, 403):
            raise PayerUnavailable(f"the clearinghouse refused the credentials (HTTP {status})")
        if status == 429 or status >= 500:
            answer = self._decoded(response) if status == 500 else None
            if answer is not None and answer.failed:
                self._check(answer)
            raise PayerUnavailable(f"the clearinghouse failed (HTTP {status})", retry_after=retry_after)
        if status >= 400:
            raise PayerProtocolError(f"the clearinghouse refused the CORE request (HTTP {status})")
        answer = self._decoded(response)
        if answer is None:
            raise PayerProtocolError(f"the clearinghouse's answer is not a CORE {self._settings.envelope} envelope")
        self._check(answer)
        return answer

    def _decoded(self, response: httpx.Response) -> core.CoreMessage | None:
        try:
            return core.decode(self._settings.envelope, response.headers.get("Content-Type", ""), response.content)
        except core.CoreEnvelopeError:
            return None

    def _check(self, answer: core.CoreMessage) -> None:
        if not answer.failed:
            return
        code = answer.error_code or ""
        log.warning("x12 CORE error", extra={"payer": self._payer, "core_error": code})
        if any(word in code.lower() for word in UNAVAILABLE_CODES):
            raise PayerUnavailable(f"the clearinghouse answered CORE error {code}")
        raise PayerProtocolError(f"the clearinghouse answered CORE error {code}")
