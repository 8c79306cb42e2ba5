"""Where the service may send: outbound URL checks against server-side request forgery (SSRF).

A target URL is checked twice. When it is registered (`check_url`): https outside development
mode, no credentials, no fragment, a host that is either a canonical IP literal or a plain DNS
name (no trailing dot, no numeric spelling of an address such as `2130706433`, `0x7f000001`,
`127.1` or octal, which resolvers read as IPv4), and no literal address that is not allowed.
Right before each delivery (`resolve_target`): the host is resolved, every address must be
allowed, and the request is then sent to the address that was checked (`pinned_request`), with
the original Host header and TLS server name, so a name that is re-pointed between the check
and the connection (DNS rebinding) cannot reach a private address.

Allowed: global addresses always; loopback in development mode (`EPA_DEVELOPMENT`); loopback,
link-local and private addresses with `EPA_WEBHOOK_ALLOW_PRIVATE_TARGETS=true`. Multicast and
unspecified addresses never. Every refusal says which setting, if any, would allow it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from app.errors import InvalidRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

PRIVATE_SETTING = "EPA_WEBHOOK_ALLOW_PRIVATE_TARGETS=true"
DEVELOPMENT_SETTING = "EPA_DEVELOPMENT=true"
NO_SETTING = "no setting allows this"
# WHATWG URL: a host whose last label is a number (decimal or 0x-hex) is read as an IPv4 address.
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)
_NAME = re.compile(r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class UnsafeTarget(InvalidRequest):
    """The URL may not be sent to (scheme, credentials, host spelling, or an address that is not allowed)."""


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    """Which addresses may be sent to: global ones, plus loopback in development, plus private when allowed."""

    development: bool
    allow_private: bool

    def allows(self, address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            return self.allows(address.ipv4_mapped)
        if address.is_multicast or address.is_unspecified:
            return False
        if address.is_global or self.allow_private:
            return True
        return self.development and address.is_loopback

    def refusal(self, address: IPAddress, verb: str) -> UnsafeTarget:
        if address.is_multicast or address.is_unspecified:
            return UnsafeTarget(f"the URL {verb} a multicast or unspecified address ({NO_SETTING})")
        if address.is_loopback and not self.development:
            hint = f"set {DEVELOPMENT_SETTING} (loopback only) or {PRIVATE_SETTING} to allow it"
        else:
            hint = f"set {PRIVATE_SETTING} to allow it"
        return UnsafeTarget(f"the URL {verb} a loopback, link-local or private address; {hint}")


def _host_address(host: str) -> IPAddress | None:
    """The canonical IP literal `host` is, None for a DNS name; UnsafeTarget for any other spelling."""
    if host.endswith("."):
        raise UnsafeTarget(f"the URL's host may not end with a dot ({NO_SETTING})")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_LABEL.fullmatch(host.rsplit(".", 1)[-1]):
        raise UnsafeTarget(f"the URL's host is not a canonical IPv4 address (write it as a.b.c.d; {NO_SETTING})")
    if not _NAME.fullmatch(host):
        raise UnsafeTarget(f"the URL's host is not a valid DNS name ({NO_SETTING})")
    return None


def check_url(url: str, *, development: bool, allow_private: bool) -> str:
    """The URL, normalised, or UnsafeTarget saying why it is refused (and which setting would allow it)."""
    policy = TargetPolicy(development=development, allow_private=allow_private)
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UnsafeTarget(f"malformed URL ({type(exc).__name__}; {NO_SETTING})") from None
    if development and parsed.scheme not in ("https", "http"):
        raise UnsafeTarget(f"the URL scheme must be https or http ({NO_SETTING})")
    if not development and parsed.scheme != "https":
        raise UnsafeTarget(f"the URL scheme must be https (http is allowed with {DEVELOPMENT_SETTING})")
    if not parsed.host:
        raise UnsafeTarget(f"the URL has no host ({NO_SETTING})")
    if parsed.userinfo:
        raise UnsafeTarget(f"credentials in the URL are not allowed; use a header ({NO_SETTING})")
    if parsed.fragment:
        raise UnsafeTarget(f"the URL may not carry a fragment ({NO_SETTING})")
    host = parsed.host
    address = _host_address(host)
    if address is None and (host == "localhost" or host.endswith(".localhost")):
        address = ipaddress.IPv4Address("127.0.0.1")
    if address is not None and not policy.allows(address):
        raise policy.refusal(address, "points at")
    return str(parsed)


async def resolve_target(url: str, *, development: bool, allow_private: bool) -> IPAddress:
    """The address to connect to for `url`: resolved now, every address checked (raises UnsafeTarget)."""
    policy = TargetPolicy(development=development, allow_private=allow_private)
    parsed = httpx.URL(url)
    address = _host_address(parsed.host)
    if address is not None:
        addresses = [address]
    else:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(parsed.host, port, type=socket.SOCK_STREAM)
        except OSError:
            raise UnsafeTarget("the URL's host does not resolve") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise UnsafeTarget("the URL's host does not resolve")
    for candidate in addresses:
        if not policy.allows(candidate):
            raise policy.refusal(candidate, "resolves to")
    return addresses[0]


def pinned_request(
    http: httpx.AsyncClient,
    url: str,
    address: IPAddress,
    *,
    content: bytes,
    headers: Mapping[str, str],
    timeout: httpx.Timeout,
) -> httpx.Request:
    """A POST to `url` that connects to `address`, keeping the Host header and (https) the TLS server name."""
    parsed = httpx.URL(url)
    extensions: dict[str, Any] = {"timeout": timeout.as_dict()}
    if parsed.scheme == "https":
        extensions["sni_hostname"] = parsed.host  # the certificate is checked against the name, not the address
    sent = {**headers, "Host": parsed.netloc.decode("ascii")}
    target = parsed.copy_with(host=str(address))
    return http.build_request("POST", target, content=content, headers=sent, timeout=timeout, extensions=extensions)
