"""The payer registry: built once at start-up from the payer configuration, immutable after.

    registry = build_registry(settings.payers_file, http)      # PayerConfigError if broken
    entry = registry.route(request.insurer, request.payor)     # NoPayerMatches (422) if none
    reply = await entry.adapter.submit(...)
    await registry.aclose()

Adapter factories come from the `epa.payers` entry-point group (see `load_factories`);
tests pass `factories=` directly. Nothing is global: each call builds a new registry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

import httpx
from pydantic import ValidationError

from app.domain.clocks import APPEAL_WINDOWS, DecisionWindows
from app.domain.model import Identifier
from app.errors import Issue, Unprocessable
from app.payers.config import (
    LoadedConfig,
    MatchPattern,
    PayerConfigError,
    appeal_windows,
    describe_validation_error,
    load_config,
)
from app.payers.contract import CONTRACT_VERSION, AdapterContext, AdapterFactory, Clock, PayerAdapter, Sleep, utc_now

ENTRY_POINT_GROUP = "epa.payers"

logger = logging.getLogger(__name__)


class NoPayerMatches(Unprocessable):
    """No configured payer takes the Claim's insurer (or the Coverage payor). Renders as 422."""

    def __init__(self, insurer: Sequence[Identifier], payor: Sequence[Identifier]) -> None:
        names = ", ".join(i.key() for i in insurer) or "(none given)"
        message = f"no payer is configured for the Claim's insurer identifier {names}"
        if payor:
            message += f" nor the Coverage payor identifier {', '.join(i.key() for i in payor)}"
        super().__init__(message, issues=[Issue(text=message, code="not-found", expression="Claim.insurer")])
        self.insurer = tuple(insurer)
        self.payor = tuple(payor)


@dataclass(frozen=True, slots=True)
class PayerEntry:
    """One configured payer: its adapter, how requests are routed to it, and its clocks."""

    id: str
    adapter_name: str
    adapter: PayerAdapter
    match: tuple[MatchPattern, ...]
    windows: DecisionWindows
    approval_validity: timedelta
    default: bool = False
    appeal_windows: DecisionWindows = APPEAL_WINDOWS  # the payer's appeal deadlines
    dtr_endpoint: str | None = None  # the payer's own DTR service (FHIR base): the hub does not answer DTR for it

    def matches(self, identifiers: Sequence[Identifier]) -> bool:
        return any(p.matches(i) for p in self.match for i in identifiers)


class PayerRegistry:
    """The configured payers, fixed after construction."""

    __slots__ = ("_by_id", "_entries")

    def __init__(self, entries: Sequence[PayerEntry]) -> None:
        by_id: dict[str, PayerEntry] = {}
        for entry in entries:
            if entry.id in by_id:
                raise PayerConfigError(f"payer {entry.id!r} is configured twice")
            by_id[entry.id] = entry
        defaults = [e.id for e in entries if e.default]
        if len(defaults) > 1:
            raise PayerConfigError(f"more than one default payer: {', '.join(defaults)}")
        self._entries = tuple(entries)
        self._by_id = MappingProxyType(by_id)

    @property
    def entries(self) -> tuple[PayerEntry, ...]:
        return self._entries

    def get(self, payer_id: str) -> PayerEntry:
        """The payer with this id; KeyError if none (stored requests name payers that must exist)."""
        return self._by_id[payer_id]

    def __contains__(self, payer_id: object) -> bool:
        return payer_id in self._by_id

    def route(self, insurer: Sequence[Identifier], payor: Sequence[Identifier] = ()) -> PayerEntry:
        """The payer for a request: insurer identifiers first, then payor, then the default payer."""
        for identifiers in (insurer, payor):
            for entry in self._entries:
                if entry.matches(identifiers):
                    return entry
        for entry in self._entries:
            if entry.default:
                return entry
        raise NoPayerMatches(insurer, payor)

    async def aclose(self) -> None:
        """Close every adapter; one failing adapter does not keep the others open."""
        for entry in self._entries:
            try:
                await entry.adapter.aclose()
            except Exception:
                logger.exception("payer adapter failed to close", extra={"payer_id": entry.id})


def load_factories(
    group: str = ENTRY_POINT_GROUP, *, wanted: Collection[str] | None = None
) -> dict[str, AdapterFactory]:
    """The adapter factories registered under the entry-point group.

    `wanted` names the adapters the payers file uses: a broken or twice-registered one of
    those is a `PayerConfigError`; any other broken plug-in is left out with a warning, so
    an adapter no payer uses cannot stop the hub. Without `wanted`, every plug-in must load.
    """
    points: dict[str, list[EntryPoint]] = {}
    for ep in entry_points(group=group):
        points.setdefault(ep.name, []).append(ep)
    found: dict[str, AdapterFactory] = {}
    for name, candidates in points.items():
        try:
            found[name] = _load_one(name, candidates)
        except PayerConfigError as exc:
            if wanted is None or name in wanted:
                raise
            logger.warning("payer adapter plug-in left out (no payer uses it): %s", exc, extra={"adapter": name})
    return found


def _load_one(name: str, candidates: Sequence[EntryPoint]) -> AdapterFactory:
    dists = [ep.dist.name if ep.dist is not None else "unknown distribution" for ep in candidates]
    if len(candidates) > 1:
        raise PayerConfigError(f"payer adapter {name!r} is registered twice (by {dists[0]} and by {dists[1]})")
    ep, dist = candidates[0], dists[0]
    try:
        factory = ep.load()
    except Exception as exc:
        raise PayerConfigError(
            f"payer adapter {name!r} ({ep.value} from {dist}) failed to load: {type(exc).__name__}: {exc}"
        ) from exc
    if not callable(factory):
        raise PayerConfigError(f"payer adapter {name!r} ({ep.value}) is not callable")
    return cast(AdapterFactory, factory)


def build_registry(
    config: Path | str | Mapping[str, Any] | None,
    http: httpx.AsyncClient,
    *,
    factories: Mapping[str, AdapterFactory] | None = None,
    clock: Clock = utc_now,
    sleep: Sleep | None = None,
) -> PayerRegistry:
    """Build the registry from a payers file, a parsed configuration, or None (the development default).

    Raises `PayerConfigError` (one line naming the payer, adapter or field) for a broken
    configuration, an unknown or broken adapter, an adapter built for another contract
    version, invalid adapter settings, or a duplicate id. Only the adapters the payers
    name are loaded (see `load_factories`).
    """
    loaded = load_config(config)
    wanted = {payer.adapter for payer in loaded.payers}
    available = load_factories(wanted=wanted) if factories is None else dict(factories)
    return _build(loaded, http, available, clock, sleep)


def _build(
    loaded: LoadedConfig,
    http: httpx.AsyncClient,
    factories: Mapping[str, AdapterFactory],
    clock: Clock,
    sleep: Sleep | None,
) -> PayerRegistry:
    seen: set[str] = set()
    claimed: dict[str, str] = {}
    for payer in loaded.payers:
        if payer.id in seen:
            raise PayerConfigError(f"payers file {loaded.source}: payer {payer.id!r} is configured twice")
        seen.add(payer.id)
        if payer.adapter not in factories:
            installed = ", ".join(sorted(factories)) or "none"
            raise PayerConfigError(f"payer {payer.id!r}: unknown adapter {payer.adapter!r} (installed: {installed})")
        for pattern in payer.patterns:
            other = claimed.setdefault(str(pattern), payer.id)
            if other != payer.id:
                raise PayerConfigError(f"payers {other!r} and {payer.id!r} both match identifier {pattern}")
    entries: list[PayerEntry] = []
    for payer in loaded.payers:
        context = AdapterContext(
            payer_id=payer.id, http=http, clock=clock, sleep=sleep or asyncio.sleep, config_dir=loaded.config_dir
        )
        adapter = _create(payer.id, payer.adapter, factories[payer.adapter], payer.settings, context)
        entries.append(
            PayerEntry(
                id=payer.id,
                adapter_name=payer.adapter,
                adapter=adapter,
                match=payer.patterns,
                windows=payer.windows,
                approval_validity=timedelta(days=payer.approval_validity_days),
                default=payer.default,
                appeal_windows=appeal_windows(payer),
                dtr_endpoint=payer.dtr_endpoint,
            )
        )
    logger.info("payer registry built", extra={"payers": [e.id for e in entries]})
    return PayerRegistry(entries)


def _create(
    payer_id: str, adapter_name: str, factory: AdapterFactory, settings: Mapping[str, Any], context: AdapterContext
) -> PayerAdapter:
    where = f"payer {payer_id!r} (adapter {adapter_name!r})"
    declared = getattr(factory, "contract_version", None)
    if declared is not None:  # an adapter class as its own factory: checked before it runs
        _check_contract(where, declared)
    try:
        adapter = factory(settings, context)
    except ValidationError as exc:
        raise PayerConfigError(f"{where}: invalid setting {describe_validation_error(exc)}") from None
    except PayerConfigError as exc:
        raise PayerConfigError(f"{where}: {exc}") from None
    except Exception as exc:
        raise PayerConfigError(f"{where}: failed to start: {type(exc).__name__}: {exc}") from exc
    has_methods = all(callable(getattr(adapter, name, None)) for name in _ADAPTER_METHODS)
    if has_methods:
        _check_contract(where, getattr(adapter, "contract_version", None))
    if not has_methods or not isinstance(adapter, PayerAdapter):
        raise PayerConfigError(f"{where}: the factory returned {type(adapter).__name__}, not a PayerAdapter")
    return adapter


_ADAPTER_METHODS = ("submit", "inquire", "cancel", "aclose")


def _check_contract(where: str, declared: object) -> None:
    if declared is None:
        raise PayerConfigError(
            f"{where}: declares no contract_version; this hub speaks payer adapter contract {CONTRACT_VERSION}"
        )
    if declared != CONTRACT_VERSION:
        raise PayerConfigError(
            f"{where}: built for payer adapter contract {declared!r}, but this hub speaks contract "
            f"{CONTRACT_VERSION}; install a release of the adapter built for contract {CONTRACT_VERSION}"
        )
