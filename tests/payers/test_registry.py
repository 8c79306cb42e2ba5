"""The payer registry: configuration errors in one line, routing by identifiers, immutability."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.domain.model import Identifier, PayerReply
from app.errors import Unprocessable
from app.payers.config import PayerConfigError
from app.payers.contract import (
    CONTRACT_VERSION,
    AdapterContext,
    AdapterFactory,
    PayerAdapter,
    PayerReference,
    PayerSubmission,
)
from app.payers.registry import NoPayerMatches, build_registry, load_factories
from app.payers.sandbox import create_adapter as sandbox_factory
from tests.payers.builders import NPI


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


FACTORIES: dict[str, AdapterFactory] = {"sandbox": sandbox_factory}


def payer(id: str, **extra: Any) -> dict[str, Any]:
    return {"id": id, "adapter": "sandbox", **extra}


def config(*payers: dict[str, Any]) -> dict[str, Any]:
    return {"payer": list(payers)}


def one_line_error(source: Any, http: httpx.AsyncClient, factories: Mapping[str, AdapterFactory] = FACTORIES) -> str:
    with pytest.raises(PayerConfigError) as caught:
        build_registry(source, http, factories=factories)
    message = str(caught.value)
    assert "\n" not in message
    return message


async def test_default_configuration_routes_everything_to_the_sandbox(http: httpx.AsyncClient) -> None:
    registry = build_registry(None, http)
    entry = registry.route((Identifier("urn:x", "nobody"),), ())
    assert entry.id == "sandbox"
    assert entry.default
    assert registry.get("sandbox") is entry
    await registry.aclose()


async def test_routes_by_insurer_then_payor_with_value_only_patterns(http: httpx.AsyncClient) -> None:
    registry = build_registry(
        config(payer("acme", match=[f"{NPI}|111"]), payer("globex", match=["222"])), http, factories=FACTORIES
    )
    assert registry.route((Identifier(NPI, "111"),)).id == "acme"
    assert registry.route((Identifier("urn:any", "222"),)).id == "globex"
    assert registry.route((Identifier("urn:other", "111"),), (Identifier("urn:p", "222"),)).id == "globex"
    assert [e.id for e in registry.entries] == ["acme", "globex"]


async def test_no_match_is_a_422_naming_the_insurer(http: httpx.AsyncClient) -> None:
    registry = build_registry(config(payer("acme", match=["111"])), http, factories=FACTORIES)
    with pytest.raises(NoPayerMatches) as caught:
        registry.route((Identifier(NPI, "999"),), (Identifier(None, "888"),))
    assert isinstance(caught.value, Unprocessable)
    assert caught.value.status_code == 422
    assert f"{NPI}|999" in caught.value.message
    assert caught.value.issues[0].code == "not-found"


async def test_reads_a_toml_file_and_resolves_paths_next_to_it(tmp_path: Path, http: httpx.AsyncClient) -> None:
    (tmp_path / "rules.toml").write_text('default = "deny"\n')
    payers = tmp_path / "payers.toml"
    payers.write_text(
        '[[payer]]\nid = "acme"\nadapter = "sandbox"\nmatch = ["111"]\nstandard_window_days = 14\n'
        '[payer.settings]\nrules_file = "rules.toml"\n'
    )
    entry = build_registry(payers, http, factories=FACTORIES).get("acme")
    assert entry.windows.standard.days == 14
    assert entry.approval_validity.days == 180


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (config(payer("acme", adapter="x12")), "payer 'acme': unknown adapter 'x12' (installed: sandbox)"),
        (config(payer("acme"), payer("acme")), "payer 'acme' is configured twice"),
        (
            config(payer("acme", settings={"validity_days": -1})),
            "payer 'acme' (adapter 'sandbox'): invalid setting validity_days",
        ),
        (config(payer("acme", settings={"colour": "red"})), "invalid setting colour: Extra inputs are not permitted"),
        (config(payer("acme", match=["1"]), payer("b", match=["1"])), "payers 'acme' and 'b' both match identifier 1"),
        (config(payer("a", default=True), payer("b", default=True)), "more than one default payer: a, b"),
        (config(payer("acme", colour="red")), "payer 'acme': payer.0.colour: Extra inputs are not permitted"),
        ({"payer": []}, "payer: Tuple should have at least 1 item"),
    ],
)
async def test_configuration_errors_are_one_clear_line(
    http: httpx.AsyncClient, source: dict[str, Any], expected: str
) -> None:
    assert expected in one_line_error(source, http)


async def test_unreadable_and_malformed_files_name_the_file(tmp_path: Path, http: httpx.AsyncClient) -> None:
    assert "cannot be read" in one_line_error(tmp_path / "missing.toml", http)
    bad = tmp_path / "bad.toml"
    bad.write_text("[[payer]\n")
    assert f"payers file {bad}: invalid TOML" in one_line_error(bad, http)


async def test_a_factory_that_crashes_or_returns_junk_is_named(http: httpx.AsyncClient) -> None:
    def crashing(settings: Mapping[str, Any], context: AdapterContext) -> PayerAdapter:
        raise RuntimeError("no licence file")

    def junk(settings: Mapping[str, Any], context: AdapterContext) -> PayerAdapter:
        return object()  # type: ignore[return-value]

    crash = one_line_error(config(payer("acme", adapter="crash")), http, {"crash": crashing})
    assert crash == "payer 'acme' (adapter 'crash'): failed to start: RuntimeError: no licence file"
    assert "not a PayerAdapter" in one_line_error(config(payer("acme", adapter="junk")), http, {"junk": junk})


class _EntryPoint:
    def __init__(self, name: str, value: str, dist: str) -> None:
        self.name, self.value = name, value
        self.dist = type("Dist", (), {"name": dist})()

    def load(self) -> Any:
        module, _, attr = self.value.partition(":")
        imported = __import__(module, fromlist=[attr])
        return getattr(imported, attr)


def test_entry_points_include_the_built_in_adapters() -> None:
    factories = load_factories()
    assert {"sandbox", "fhir-pas"} <= set(factories)


def test_broken_entry_point_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    points = [_EntryPoint("acme", "acme_epa_adapter_missing:create_adapter", "acme-epa")]
    monkeypatch.setattr("app.payers.registry.entry_points", lambda group: points)
    with pytest.raises(PayerConfigError) as caught:
        load_factories()
    assert str(caught.value) == (
        "payer adapter 'acme' (acme_epa_adapter_missing:create_adapter from acme-epa) failed to load: "
        "ModuleNotFoundError: No module named 'acme_epa_adapter_missing'"
    )


def test_duplicate_adapter_names_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    points = [
        _EntryPoint("sandbox", "app.payers.sandbox:create_adapter", "epa-hub"),
        _EntryPoint("sandbox", "app.payers.sandbox:create_adapter", "other-dist"),
    ]
    monkeypatch.setattr("app.payers.registry.entry_points", lambda group: points)
    with pytest.raises(PayerConfigError, match=r"'sandbox' is registered twice \(by epa-hub and by other-dist\)"):
        load_factories()


async def test_registry_is_immutable(http: httpx.AsyncClient) -> None:
    registry = build_registry(None, http)
    with pytest.raises(AttributeError):
        registry.extra = 1  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        registry.entries[0].id = "other"  # type: ignore[misc]


async def test_a_broken_plug_in_no_payer_uses_is_a_warning_not_a_stop(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, http: httpx.AsyncClient
) -> None:
    points = [
        _EntryPoint("sandbox", "app.payers.sandbox:create_adapter", "epa-hub"),
        _EntryPoint("acme", "acme_epa_adapter_missing:create_adapter", "acme-epa"),
        _EntryPoint("twice", "app.payers.sandbox:create_adapter", "one-dist"),
        _EntryPoint("twice", "app.payers.sandbox:create_adapter", "other-dist"),
    ]
    monkeypatch.setattr("app.payers.registry.entry_points", lambda group: points)
    with caplog.at_level("WARNING", logger="app.payers.registry"):
        registry = build_registry(config(payer("p", default=True)), http)
    assert [e.adapter_name for e in registry.entries] == ["sandbox"]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 2
    assert "'acme' (acme_epa_adapter_missing:create_adapter from acme-epa) failed to load" in warnings[0]
    assert "'twice' is registered twice (by one-dist and by other-dist)" in warnings[1]
    assert all("no payer uses it" in w for w in warnings)


async def test_a_broken_plug_in_a_payer_uses_still_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, http: httpx.AsyncClient
) -> None:
    points = [
        _EntryPoint("sandbox", "app.payers.sandbox:create_adapter", "epa-hub"),
        _EntryPoint("acme", "acme_epa_adapter_missing:create_adapter", "acme-epa"),
    ]
    monkeypatch.setattr("app.payers.registry.entry_points", lambda group: points)
    with pytest.raises(PayerConfigError, match=r"^payer adapter 'acme' \(.*\) failed to load: ModuleNotFoundError"):
        build_registry(config(payer("p"), payer("q", adapter="acme")), http)
    with pytest.raises(PayerConfigError, match=r"unknown adapter 'x12' \(installed: sandbox\)"):
        build_registry(config(payer("q", adapter="x12")), http)


class _Adapter:
    """A minimal adapter declaring the contract version `contract_version`."""

    contract_version: Any = CONTRACT_VERSION

    def __init__(self, settings: Mapping[str, Any], context: AdapterContext) -> None:
        pass

    async def submit(self, submission: PayerSubmission) -> PayerReply:
        return PayerReply(decisions=())

    async def inquire(self, reference: PayerReference) -> PayerReply:
        return PayerReply(decisions=())

    async def cancel(self, reference: PayerReference) -> PayerReply:
        return PayerReply(decisions=())

    async def aclose(self) -> None:
        return None


def _built_for(version: Any) -> AdapterFactory:
    def factory(settings: Mapping[str, Any], context: AdapterContext) -> PayerAdapter:
        adapter = _Adapter(settings, context)
        adapter.contract_version = version
        return adapter

    return factory


async def test_an_adapter_built_for_the_hubs_contract_version_starts(http: httpx.AsyncClient) -> None:
    assert isinstance(_Adapter({}, AdapterContext("p", http)), PayerAdapter)
    registry = build_registry(config(payer("p", adapter="new")), http, factories={"new": _built_for(CONTRACT_VERSION)})
    assert registry.get("p").adapter.contract_version == CONTRACT_VERSION


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        (
            CONTRACT_VERSION + 1,
            f"payer 'acme' (adapter 'old'): built for payer adapter contract {CONTRACT_VERSION + 1}, but this hub "
            f"speaks contract {CONTRACT_VERSION}; install a release of the adapter built for contract "
            f"{CONTRACT_VERSION}",
        ),
        ("1", "built for payer adapter contract '1', but this hub speaks contract 1"),
        (None, "payer 'acme' (adapter 'old'): declares no contract_version; this hub speaks payer adapter contract 1"),
    ],
)
async def test_an_adapter_built_for_another_contract_version_is_one_line(
    http: httpx.AsyncClient, declared: Any, expected: str
) -> None:
    assert expected in one_line_error(config(payer("acme", adapter="old")), http, {"old": _built_for(declared)})


async def test_an_adapter_class_for_another_contract_is_refused_before_it_runs(http: httpx.AsyncClient) -> None:
    class Old(_Adapter):
        contract_version = 0

        def __init__(self, settings: Mapping[str, Any], context: AdapterContext) -> None:
            raise AssertionError("an adapter built for another contract must not be started")

    message = one_line_error(config(payer("acme", adapter="old")), http, {"old": Old})
    assert message.startswith("payer 'acme' (adapter 'old'): built for payer adapter contract 0")
