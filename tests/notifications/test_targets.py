"""Webhook and Subscription targets: refused at registration when the spelling hides an address,
checked again after DNS resolution at send time, and sent to the address that was checked."""

from __future__ import annotations

import ipaddress
import socket
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from app.notifications import outbound
from app.notifications.targets import UnsafeTarget, check_url, pinned_request, resolve_target
from app.runtime import Runtime
from tests.support.pas import FHIR_JSON
from tests.support.receiver import running_receiver
from tests.support.subscriptions import subscription
from tests.support.worker import drain

DISGUISED = [
    "http://2130706433/hook",  # 127.0.0.1 as one decimal number
    "http://0x7f000001/hook",  # ... as hex
    "http://127.1/hook",  # ... abbreviated
    "http://0177.0.0.1/hook",  # ... octal
    "http://017700000001/hook",  # ... one octal number
    "http://example.org./hook",  # trailing-dot name
    "http://127.0.0.1./hook",
]


@pytest.mark.parametrize("url", DISGUISED)
@pytest.mark.parametrize("allow_private", [False, True])
def test_a_disguised_host_is_refused_whatever_the_settings(url: str, allow_private: bool) -> None:
    with pytest.raises(UnsafeTarget):
        check_url(url, development=True, allow_private=allow_private)


@pytest.mark.parametrize("url", DISGUISED)
async def test_disguised_hosts_are_refused_when_a_webhook_or_subscription_is_registered(
    client: httpx.AsyncClient, url: str
) -> None:
    webhook = await client.post("/webhooks", json={"url": url, "event_types": ["*"]})
    assert webhook.status_code == 400, webhook.text
    created = await client.post("/fhir/Subscription", content=orjson.dumps(subscription(url)), headers=FHIR_JSON)
    assert created.status_code == 400, created.text
    assert (await client.get("/webhooks")).json()["endpoints"] == []


def test_loopback_is_allowed_in_development_and_refused_outside_naming_the_settings() -> None:
    assert check_url("http://127.0.0.1:9/h", development=True, allow_private=False) == "http://127.0.0.1:9/h"
    with pytest.raises(UnsafeTarget) as refused:
        check_url("https://127.0.0.1:9/h", development=False, allow_private=False)
    assert "EPA_DEVELOPMENT=true" in refused.value.message
    assert "EPA_WEBHOOK_ALLOW_PRIVATE_TARGETS=true" in refused.value.message
    with pytest.raises(UnsafeTarget) as private:
        check_url("http://10.1.2.3/h", development=True, allow_private=False)
    assert "EPA_WEBHOOK_ALLOW_PRIVATE_TARGETS=true" in private.value.message
    assert check_url("https://10.1.2.3/h", development=False, allow_private=True) == "https://10.1.2.3/h"
    with pytest.raises(UnsafeTarget) as scheme:
        check_url("http://hooks.example.org/h", development=False, allow_private=False)
    assert "EPA_DEVELOPMENT=true" in scheme.value.message


@pytest.mark.parametrize(
    "url", ["ftp://example.org/x", "https://user:pw@example.org/x", "https://example.org/x#f", "http://[ff02::1]/x"]
)
def test_every_refusal_says_which_setting_if_any_would_allow_it(url: str) -> None:
    with pytest.raises(UnsafeTarget) as refused:
        check_url(url, development=True, allow_private=False)
    assert "EPA_" in refused.value.message or "no setting allows this" in refused.value.message


def test_the_request_goes_to_the_checked_address_with_the_name_kept_for_host_and_tls() -> None:
    http = httpx.AsyncClient()
    address = ipaddress.ip_address("203.0.113.7")
    request = pinned_request(
        http, "https://hooks.example.org:8443/in?x=1", address, content=b"{}", headers={}, timeout=httpx.Timeout(2)
    )
    assert request.url.host == "203.0.113.7"
    assert request.url.port == 8443
    assert request.url.raw_path == b"/in?x=1"
    assert request.headers["host"] == "hooks.example.org:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.org"


def _local_name() -> str:
    """A DNS name (not an IP literal, not `localhost`) that resolves to a loopback or private address here."""
    name = socket.gethostname()
    try:
        addresses = {ipaddress.ip_address(info[4][0]) for info in socket.getaddrinfo(name, 80)}
    except OSError:
        pytest.skip("the host name does not resolve")
    if not addresses or any(a.is_global for a in addresses):
        pytest.skip("the host name does not resolve to a private address only")
    return name


async def test_a_name_that_resolves_to_a_private_address_is_refused_at_send_time() -> None:
    name = _local_name()
    async with running_receiver() as receiver:
        url = f"https://{name}:{receiver.port}/hook"
        assert check_url(url, development=False, allow_private=False) == url  # a name: its shape is fine
        async with httpx.AsyncClient() as http:
            result = await outbound.post(
                http,
                url,
                b"{}",
                {},
                attempt_seconds=2,
                development=False,
                allow_private=False,
                now=datetime.now(UTC),
            )
        assert result.refused
        assert result.error is not None
        assert "EPA_WEBHOOK_ALLOW_PRIVATE_TARGETS=true" in result.error
        assert receiver.requests == []
    with pytest.raises(UnsafeTarget):
        await resolve_target(url, development=False, allow_private=False)


async def test_a_webhook_on_a_local_name_is_delivered_to_the_resolved_address_with_its_host_header(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    name = _local_name()
    object.__setattr__(runtime.settings, "webhook_allow_private_targets", False)  # the send-time check decides
    async with running_receiver() as receiver:
        url = f"http://{name}:{receiver.port}/hook"
        response = await client.post("/webhooks", json={"url": url, "event_types": ["*"]})
        assert response.status_code == 201, response.text
        await client.post(f"/webhooks/{response.json()['id']}/ping")
        await drain(runtime)
        requests = list(receiver.requests)
    loopback = all(ipaddress.ip_address(i[4][0]).is_loopback for i in socket.getaddrinfo(name, 80))
    if loopback:  # development mode allows loopback targets, private ones stay refused
        assert [r.headers["host"] for r in requests] == [f"{name}:{receiver.port}"]
    else:
        assert requests == []
