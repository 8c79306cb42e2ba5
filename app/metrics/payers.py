"""A payer adapter wrapper that times every call and counts its errors, by payer id and error class."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable
from typing import TypeVar

from app.domain.model import PayerReply
from app.metrics.instruments import Instruments
from app.payers import PayerRegistry
from app.payers.appeals import AppealingAdapter, AppealReference, AppealReply, PayerAppeal
from app.payers.contract import (
    AttachmentReceiver,
    PayerAdapter,
    PayerReference,
    PayerSubmission,
    answers_in_process,
    receives_attachments,
)
from app.payers.errors import PayerError

T = TypeVar("T")


def error_class(exc: BaseException) -> str:
    """A bounded label: the payer error subclass, else "cancelled" (the sync budget ran out) or "unexpected"."""
    if isinstance(exc, PayerError):
        return type(exc).__name__
    if isinstance(exc, TimeoutError | asyncio.CancelledError):
        return "cancelled"
    return "unexpected"


class InstrumentedAdapter:
    """Delegates to `inner`; observes `epa_payer_call_duration_seconds` and `epa_payer_call_errors`."""

    def __init__(self, inner: PayerAdapter, payer_id: str, instruments: Instruments) -> None:
        self.inner = inner
        self.payer_id = payer_id
        self.instruments = instruments
        self.contract_version = inner.contract_version
        # The wrapper does no I/O of its own: an in-process adapter stays in-process (one-commit $submit).
        self.answers_in_process = answers_in_process(inner)

    async def _timed(self, operation: str, call: Awaitable[T]) -> T:
        started = time.perf_counter()
        try:
            return await call
        except BaseException as exc:
            self.instruments.payer_errors.labels(self.payer_id, operation, error_class(exc)).inc()
            raise
        finally:
            self.instruments.payer_calls.labels(self.payer_id, operation).observe(time.perf_counter() - started)

    async def submit(self, submission: PayerSubmission) -> PayerReply:
        return await self._timed("submit", self.inner.submit(submission))

    async def inquire(self, reference: PayerReference) -> PayerReply:
        return await self._timed("inquire", self.inner.inquire(reference))

    async def cancel(self, reference: PayerReference) -> PayerReply:
        return await self._timed("cancel", self.inner.cancel(reference))

    async def aclose(self) -> None:
        await self.inner.aclose()


class InstrumentedAppealingAdapter(InstrumentedAdapter):
    """The wrapper of an adapter that also sends appeals (`app.payers.appeals`)."""

    def __init__(self, inner: PayerAdapter, payer_id: str, instruments: Instruments) -> None:
        super().__init__(inner, payer_id, instruments)
        assert isinstance(inner, AppealingAdapter)
        self.appealing: AppealingAdapter = inner

    async def appeal(self, appeal: PayerAppeal) -> AppealReply:
        return await self._timed("appeal", self.appealing.appeal(appeal))

    async def appeal_status(self, reference: AppealReference) -> AppealReply:
        return await self._timed("appeal_status", self.appealing.appeal_status(reference))


class InstrumentedAttachmentAdapter(InstrumentedAdapter):
    """The wrapper of an adapter that has the optional `submit_attachment` (so the wrapper has it too)."""

    async def submit_attachment(self, reference: PayerReference) -> PayerReply:
        inner = self.inner
        assert isinstance(inner, AttachmentReceiver)
        return await self._timed("submit_attachment", inner.submit_attachment(reference))


class InstrumentedAppealingAttachmentAdapter(InstrumentedAppealingAdapter, InstrumentedAttachmentAdapter):
    """The wrapper of an adapter that takes both appeals and attachments."""


def _wrap(adapter: PayerAdapter, payer_id: str, instruments: Instruments) -> InstrumentedAdapter:
    """The wrapper with the same optional methods as `adapter` (callers test for them with isinstance)."""
    appeals, attachments = isinstance(adapter, AppealingAdapter), receives_attachments(adapter)
    if appeals and attachments:
        return InstrumentedAppealingAttachmentAdapter(adapter, payer_id, instruments)
    if appeals:
        return InstrumentedAppealingAdapter(adapter, payer_id, instruments)
    if attachments:
        return InstrumentedAttachmentAdapter(adapter, payer_id, instruments)
    return InstrumentedAdapter(adapter, payer_id, instruments)


def instrumented_registry(registry: PayerRegistry, instruments: Instruments) -> PayerRegistry:
    """The same payers, each adapter wrapped (closing stays with whoever owns `registry`)."""
    return PayerRegistry(
        [dataclasses.replace(entry, adapter=_wrap(entry.adapter, entry.id, instruments)) for entry in registry.entries]
    )
