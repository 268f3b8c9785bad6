from __future__ import annotations

import ipaddress

import httpcore
import pytest

from service.webhooks import ssrf

REFUSED = [
    "127.0.0.1",
    "127.1.2.3",
    "10.0.0.1",
    "10.255.255.255",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "169.254.1.1",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",
    "64:ff9b::a00:1",
    "2002:a00:1::",
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", REFUSED)
def test_private_and_special_addresses_are_refused(address):
    assert not ssrf.address_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address):
    assert ssrf.address_allowed(ipaddress.ip_address(address))


def test_loopback_allowance_admits_loopback_only():
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        assert ssrf.address_allowed(ipaddress.ip_address(address), allow_loopback=True)
    for address in ("10.0.0.1", "169.254.169.254", "192.168.0.1", "fe80::1"):
        assert not ssrf.address_allowed(ipaddress.ip_address(address), allow_loopback=True)


def test_one_private_answer_refuses_the_host():
    with pytest.raises(ssrf.Refused):
        ssrf.check_addresses(["8.8.8.8", "10.0.0.1"], allow_loopback=False)
    with pytest.raises(ssrf.Refused):
        ssrf.check_addresses([], allow_loopback=False)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "http://",
        "http://user:pw@example.com/",
        "example.com",
        "http://[::1",
    ],
)
def test_url_syntax(url):
    with pytest.raises(ssrf.Refused):
        ssrf.check_url_syntax(url)


def test_url_syntax_accepts_http_and_https():
    assert ssrf.check_url_syntax("https://hooks.example.com/x?y=1") == ("hooks.example.com", 443)
    assert ssrf.check_url_syntax("http://hooks.example.com:8080/") == ("hooks.example.com", 8080)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://10.1.2.3/",
        "http://169.254.169.254/latest",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost/",
    ],
)
async def test_check_url_refuses_internal_targets(url):
    with pytest.raises(ssrf.Refused):
        await ssrf.check_url(url, allow_loopback=False)


async def test_guarded_backend_refuses_at_connection_time():
    backend = ssrf.GuardedBackend(allow_loopback=False)
    for host in ("127.0.0.1", "localhost", "::1", "10.0.0.1", "169.254.169.254", "::ffff:127.0.0.1"):
        with pytest.raises(httpcore.ConnectError, match="refused"):
            await backend.connect_tcp(host, 80, timeout=1)
