"""SSRF protection: only http(s) URLs whose every resolved address is public.

The check runs when a subscription is saved and again inside the HTTP client's connect step
(``GuardedBackend``), which connects to the very address it checked, so a DNS answer that changes between the
two (rebinding) cannot reach an internal address. ``XINFANG_WEBHOOK_ALLOW_LOOPBACK`` admits loopback addresses
(127.0.0.0/8, ::1) for development and tests, nothing else.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Refused even where ``is_global`` would say otherwise (cloud metadata endpoints and their IPv6 forms).
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class Refused(Exception):
    """The URL or the address it resolves to may not be called."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address hidden in an IPv4-mapped, IPv4-compatible, 6to4 or NAT64 form."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    packed = ip.packed
    if packed[:12] == bytes(12) and int(ip) > 1:  # ::a.b.c.d (deprecated IPv4-compatible)
        return ipaddress.IPv4Address(packed[12:])
    if ip in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(packed[12:])
    return None


def address_allowed(ip: IPAddress, *, allow_loopback: bool = False) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and (inner := _embedded_ipv4(ip)) is not None:
        ip = inner
    if ip in _METADATA:
        return False
    if ip.is_loopback:
        return allow_loopback
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_private)


def check_addresses(addresses: Iterable[str], *, allow_loopback: bool) -> list[str]:
    """The addresses, or ``Refused`` when there are none or any one is not public."""
    result = []
    for raw in addresses:
        ip = ipaddress.ip_address(raw.split("%", 1)[0])
        if not address_allowed(ip, allow_loopback=allow_loopback):
            raise Refused(f"address {ip} is not public")
        result.append(str(ip))
    if not result:
        raise Refused("the host has no address")
    return result


def check_url_syntax(url: str) -> tuple[str, int]:
    """Host and port of an acceptable URL, or ``Refused`` (scheme, credentials, missing host)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise Refused("only http and https URLs")
    if not parts.hostname:
        raise Refused("the URL has no host")
    if parts.username or parts.password:
        raise Refused("credentials in the URL are not allowed (use the signature)")
    if parts.fragment:
        raise Refused("the URL must not have a fragment")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def resolve(host: str, port: int, *, limit: float) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP), limit
        )
    except (OSError, TimeoutError) as exc:
        raise Refused(f"cannot resolve {host}: {exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def check_url(url: str, *, allow_loopback: bool, limit: float = 5.0) -> None:
    """Refuse a URL that is malformed or resolves to anything but public addresses."""
    host, port = check_url_syntax(url)
    check_addresses(await resolve(host, port, limit=limit), allow_loopback=allow_loopback)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore network backend that resolves, checks, and connects to the checked address only.

    TLS still verifies the certificate against the URL's host name: httpcore takes the server name from the
    request's origin, not from the address we connect to.
    """

    def __init__(self, *, allow_loopback: bool) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_loopback = allow_loopback

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = check_addresses(
                await resolve(host, port, limit=timeout or 5.0), allow_loopback=self._allow_loopback
            )
        except Refused as exc:
            raise httpcore.ConnectError(f"refused: {exc}") from exc
        return await self._inner.connect_tcp(
            addresses[0], port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
