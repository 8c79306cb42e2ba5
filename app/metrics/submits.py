"""Counts one `$submit` answer by payer and the request's status."""

from __future__ import annotations

from app.metrics.instruments import Instruments

REPLAYED = "replayed"


def record_submit(instruments: Instruments, payer_id: str, status: str, *, replayed: bool) -> None:
    """`epa_submit_outcomes{payer, decision}`: decision is the stored status, or "replayed" for a repeat.

    The service hands over what it stored, so counting costs no read-back."""
    instruments.submit_outcomes.labels(payer_id, REPLAYED if replayed else status).inc()
