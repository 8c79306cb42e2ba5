"""HTTP to a payer: auth header, retries where safe, and translation into the payer error tree.

Retried (with exponential backoff and jitter, or the payer's Retry-After): connect errors
(the request never left) and 429/503 carrying a Retry-After no longer than
`max_retry_after_seconds`. Never retried: read timeouts and 5xx (the payer may have
acted on the request). A 401 refreshes the token once.

Bounded: the whole call (attempts, waits, token refresh) ends by `deadline_seconds` (httpx's
timeouts are per read, so a payer trickling an endless answer would otherwise hold the request
or the worker slot for ever), and an answer is read as a stream, refused past `max_answer_bytes`.

    2xx                          -> the response
    deadline passed              -> PayerTimeout
    answer over max_answer_bytes -> PayerProtocolError
    connect error                -> retried, then PayerUnavailable
    read/write/pool timeout, 408, 504 -> PayerTimeout
    401 twice                    -> PayerUnavailable (our credentials are refused)
    429, 503                     -> retried when Retry-After allows, then PayerUnavailable(retry_after)
    other 5xx                    -> PayerUnavailable
    other 4xx + OperationOutcome -> PayerRejected(issues)
    anything else                -> PayerProtocolError
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from email.utils import parsedate_to_datetime

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from app.payers.contract import Clock, Sleep
from app.payers.errors import PayerError, PayerProtocolError, PayerRejected, PayerTimeout, PayerUnavailable
from app.payers.fhir_pas.auth import TokenProvider
from app.payers.fhir_pas.outcome import operation_outcome_issues
from app.payers.fhir_pas.settings import FhirPasSettings

FHIR_JSON = "application/fhir+json"
_DECODED = ("content-encoding", "content-length", "transfer-encoding")  # the body kept is decoded and whole

logger = logging.getLogger(__name__)


class _Retryable(Exception):
    def __init__(self, error: PayerError) -> None:
        super().__init__(error.message)
        self.error = error


def parse_retry_after(value: str | None, clock: Clock) -> timedelta | None:
    """Retry-After as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(timedelta(0), when - clock())


class PayerTransport:
    """Posts FHIR JSON to one payer and returns only 2xx responses; everything else raises a PayerError."""

    def __init__(
        self,
        settings: FhirPasSettings,
        http: httpx.AsyncClient,
        tokens: TokenProvider | None,
        clock: Clock,
        sleep: Sleep,
        payer_id: str,
    ) -> None:
        self._settings = settings
        self._http = http
        self._tokens = tokens
        self._clock = clock
        self._sleep = sleep
        self._payer_id = payer_id
        self._timeout = httpx.Timeout(settings.timeout_seconds, connect=settings.connect_timeout_seconds)
        self._backoff = wait_random_exponential(
            multiplier=settings.backoff_initial_seconds, max=settings.backoff_max_seconds
        )

    async def post(self, path: str, body: bytes) -> httpx.Response:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._settings.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            async with asyncio.timeout(self._settings.deadline_seconds):
                async for attempt in retrying:
                    with attempt:
                        return await self._attempt(self._settings.url(path), body)
        except _Retryable as exc:
            raise exc.error from exc.__cause__
        except TimeoutError as exc:
            raise PayerTimeout(f"payer call passed its deadline of {self._settings.deadline_seconds:g} s") from exc
        raise PayerUnavailable("no attempt was made")  # unreachable: tenacity always attempts once

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, _Retryable) and error.error.retry_after is not None:
            return error.error.retry_after.total_seconds()
        return float(self._backoff(state))

    async def _attempt(self, url: str, body: bytes) -> httpx.Response:
        response = await self._send(url, body, refresh=False)
        if response.status_code == 401 and self._tokens is not None:
            self._tokens.invalidate()
            response = await self._send(url, body, refresh=True)
        return self._check(response)

    async def _send(self, url: str, body: bytes, *, refresh: bool) -> httpx.Response:
        headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON, **self._settings.headers}
        if self._tokens is not None:
            headers["Authorization"] = f"Bearer {await self._tokens.token()}"
        try:
            response = await self._read(url, body, headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise _Retryable(PayerUnavailable(f"payer unreachable ({type(exc).__name__})")) from exc
        except httpx.TimeoutException as exc:
            raise PayerTimeout(f"payer did not answer in time ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise PayerUnavailable(f"payer connection failed ({type(exc).__name__})") from exc
        logger.info(
            "payer answered",
            extra={"payer_id": self._payer_id, "status_code": response.status_code, "token_refreshed": refresh},
        )
        return response

    async def _read(self, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """POST and read the answer as a stream, at most `max_answer_bytes` of it."""
        limit = self._settings.max_answer_bytes
        request = self._http.build_request("POST", url, content=body, headers=headers, timeout=self._timeout)
        streamed = await self._http.send(request, stream=True)
        try:
            chunks: list[bytes] = []
            size = 0
            async for chunk in streamed.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise PayerProtocolError(f"payer answer is larger than {limit} bytes")
                chunks.append(chunk)
        finally:
            await streamed.aclose()
        kept = [(k, v) for k, v in streamed.headers.multi_items() if k.lower() not in _DECODED]
        return httpx.Response(streamed.status_code, headers=kept, content=b"".join(chunks), request=request)

    def _check(self, response: httpx.Response) -> httpx.Response:
        status = response.status_code
        if 200 <= status < 300:
            return response
        retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock)
        if status in (429, 503):
            error = PayerUnavailable(f"payer answered HTTP {status}", retry_after=retry_after)
            limit = timedelta(seconds=self._settings.max_retry_after_seconds)
            if retry_after is not None and retry_after <= limit:
                raise _Retryable(error)
            raise error
        if status == 401:
            raise PayerUnavailable("payer refused our credentials (HTTP 401)", kind="refused")
        if status in (408, 504):
            raise PayerTimeout(f"payer answered HTTP {status}", retry_after=retry_after)
        if status >= 500:
            raise PayerUnavailable(f"payer answered HTTP {status}", retry_after=retry_after)
        if 400 <= status < 500:
            issues = operation_outcome_issues(response.content)
            if issues is not None:
                raise PayerRejected(f"payer rejected the request (HTTP {status})", issues=issues, status_code=status)
        raise PayerProtocolError(f"payer answered HTTP {status} without an OperationOutcome")
