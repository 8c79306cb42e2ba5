"""The cheapest meaningful handling of a PAS request: R4B validation alone.

Benchmarks compare `$submit` against this (bench/submit.py); nothing in the service calls it.
"""

from __future__ import annotations

from fhir.resources.R4B.bundle import Bundle


def validate_bundle_json(body: bytes) -> str:
    """Validate the bytes as an R4B Bundle; returns its type."""
    return str(Bundle.model_validate_json(body).type)
