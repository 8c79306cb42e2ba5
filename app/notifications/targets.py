"""Where the service may send: outbound URL checks against server-side request forgery (SSRF).

A target URL is checked twice: its shape when it is registered (`check_url`: https outside
development mode, no credentials in the URL, no literal private address), and the addresses its
host resolves to right before each delivery (`check_resolved`), so a name that later points at
a private address is refused too. Loopback, link-local, private and other non-global addresses
are refused unless `webhook_allow_private_targets` is set (tests, receivers on the same host).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import httpx

from app.errors import InvalidRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTarget(InvalidRequest):
    """The URL may not be sent to (scheme, credentials, or an address that is not public)."""


def _is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _is_public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


def _allowed(address: IPAddress, *, allow_private: bool) -> bool:
    if address.is_multicast or address.is_unspecified:
        return False
    return allow_private or _is_public(address)


def check_url(url: str, *, development: bool, allow_private: bool) -> str:
    """The URL, normalised, or UnsafeTarget saying why it is refused."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UnsafeTarget(f"malformed URL ({type(exc).__name__})") from None
    allowed_schemes = ("https", "http") if development else ("https",)
    if parsed.scheme not in allowed_schemes:
        raise UnsafeTarget(f"the URL scheme must be {' or '.join(allowed_schemes)}")
    if not parsed.host:
        raise UnsafeTarget("the URL has no host")
    if parsed.userinfo:
        raise UnsafeTarget("credentials in the URL are not allowed; use a header")
    if parsed.fragment:
        raise UnsafeTarget("the URL may not carry a fragment")
    host = parsed.host
    if host == "localhost" or host.endswith(".localhost"):
        host = "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return str(parsed)
    if not _allowed(address, allow_private=allow_private):
        raise UnsafeTarget("the URL points at a loopback, link-local or private address")
    return str(parsed)


async def check_resolved(url: str, *, allow_private: bool) -> None:
    """Resolve the URL's host and refuse it if any address is not allowed (raises UnsafeTarget)."""
    parsed = httpx.URL(url)
    host = parsed.host
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError:
            raise UnsafeTarget("the URL's host does not resolve") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses or not all(_allowed(a, allow_private=allow_private) for a in addresses):
        raise UnsafeTarget("the URL resolves to a loopback, link-local or private address")
