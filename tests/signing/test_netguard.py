"""The address guard of outbound validation fetches (signing.netguard), against real loopback
servers that record what reaches them."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator

import pytest

from signing.netguard import FetchFailed, FetchPolicy, FetchRefused, check_url, fetch, is_public, parse_allow_list
from tests.signing.hostile import RecordingServer, Script

DEFAULT = FetchPolicy()


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.255.0.9", "::1", "169.254.169.254", "fe80::1", "10.1.2.3", "172.16.0.1", "192.168.1.1",
    "100.64.0.1", "fc00::1", "fd12::1", "0.0.0.0", "::", "224.0.0.1", "239.1.2.3", "ff02::1", "240.0.0.1",
    "255.255.255.255", "192.0.2.1", "198.18.0.1",
    "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1",  # IPv4-mapped IPv6
    "2002:7f00:1::1", "2002:a9fe:a9fe::1",  # 6to4 around loopback and link-local
    "64:ff9b::7f00:1", "::127.0.0.1",  # NAT64 and IPv4-compatible
])
def test_special_addresses_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))
    assert not DEFAULT.address_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "203.113.131.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def test_the_allow_list_takes_hosts_addresses_and_networks() -> None:
    policy = FetchPolicy(allow=parse_allow_list(" pki.noibo.gov.vn, 10.0.0.0/8 ,::1,127.0.0.1"))
    assert policy.allow == ("pki.noibo.gov.vn", "10.0.0.0/8", "::1/128", "127.0.0.1/32")
    assert policy.host_allowed("PKI.noibo.gov.vn.")
    assert policy.address_allowed(ipaddress.ip_address("10.9.8.7"))
    assert policy.address_allowed(ipaddress.ip_address("::ffff:127.0.0.1"))  # mapped: judged as 127.0.0.1
    assert not policy.address_allowed(ipaddress.ip_address("127.0.0.2"))
    assert not policy.address_allowed(ipaddress.ip_address("192.168.0.1"))
    for bad in ("http://x", "10.0.0.0/33", "a..b", "exa mple.vn"):
        with pytest.raises(ValueError):
            parse_allow_list(bad)


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with RecordingServer() as s:
        s.scripts["/ok"] = Script(body=b"hello", content_type="application/pkix-crl")
        yield s


def _forms(port: int) -> list[str]:
    """127.0.0.1 written every way a URL parser or resolver accepts."""
    return [f"http://127.0.0.1:{port}/ok", f"http://2130706433:{port}/ok", f"http://0x7f000001:{port}/ok",
            f"http://0177.0.0.1:{port}/ok", f"http://127.1:{port}/ok", f"http://localhost:{port}/ok",
            f"http://LOCALHOST.:{port}/ok", f"http://[::ffff:127.0.0.1]:{port}/ok"]


def test_loopback_in_every_spelling_is_refused_before_anything_is_sent(server: RecordingServer) -> None:
    for url in _forms(server.port):
        with pytest.raises(FetchRefused, match="not a public address"):
            fetch("GET", url, DEFAULT)
    assert server.hits == []


def test_the_same_spellings_reach_the_server_when_loopback_is_allowed(server: RecordingServer) -> None:
    """The control: these URLs really denote the recording server (so the refusal above is the guard)."""
    policy = FetchPolicy(allow=("127.0.0.0/8", "::ffff:127.0.0.0/104"))
    for url in _forms(server.port)[:-1]:  # the mapped form would need an IPv6 socket to a v4 address
        assert fetch("GET", url, policy).content == b"hello"
    assert len(server.hits) == len(_forms(server.port)) - 1


def test_link_local_and_ipv6_loopback_are_refused_without_connecting() -> None:
    for url in ("http://169.254.169.254/latest/meta-data/", "http://[::1]:9/x", "http://[fe80::1]/x",
                "http://10.0.0.1/x", "https://192.168.1.1/x"):
        started = time.monotonic()
        with pytest.raises(FetchRefused):
            fetch("GET", url, DEFAULT)
        assert time.monotonic() - started < 0.5


def test_only_http_and_https_without_credentials() -> None:
    for url in ("file:///etc/passwd", "ftp://8.8.8.8/x", "ldap://8.8.8.8/x", "gopher://8.8.8.8/x",
                "http://user:pw@8.8.8.8/x", "http:///x", "http://8.8.8.8:99999/x"):
        with pytest.raises(FetchRefused):
            check_url(url, DEFAULT)


def test_a_redirect_is_checked_like_a_new_url(server: RecordingServer) -> None:
    policy = FetchPolicy(allow=("127.0.0.1",))
    with RecordingServer("127.0.0.2") as other:
        other.scripts["/ok"] = Script(body=b"other")
        server.scripts["/to-other"] = Script(redirect=f"{other.url}/ok")
        server.scripts["/to-file"] = Script(redirect="file:///etc/passwd")
        server.scripts["/to-metadata"] = Script(redirect="http://169.254.169.254/latest/meta-data/")
        server.scripts["/to-ok"] = Script(redirect="/ok")
        for path in ("/to-other", "/to-file", "/to-metadata"):
            with pytest.raises(FetchRefused):
                fetch("GET", f"{server.url}{path}", policy)
        assert other.hits == []  # 127.0.0.2 is not on the allow-list: never contacted
        assert fetch("GET", f"{server.url}/to-ok", policy).content == b"hello"  # allowed hops are followed
        assert fetch("GET", f"{server.url}/to-other", FetchPolicy(allow=("127.0.0.0/8",))).content == b"other"
    server.scripts["/loop"] = Script(redirect="/loop")
    with pytest.raises(FetchFailed, match="redirects"):
        fetch("GET", f"{server.url}/loop", policy)


def test_size_and_time_limits(server: RecordingServer) -> None:
    server.scripts["/big"] = Script(body=b"x" * 5000)
    server.scripts["/slow"] = Script(body=b"x", delay=3)
    with pytest.raises(FetchFailed, match="5000 bytes"):
        fetch("GET", f"{server.url}/big", FetchPolicy(allow=("127.0.0.1",), max_bytes=4096))
    started = time.monotonic()
    with pytest.raises(FetchFailed):
        fetch("GET", f"{server.url}/slow", FetchPolicy(allow=("127.0.0.1",), timeout=0.5))
    assert time.monotonic() - started < 2
    with pytest.raises(FetchFailed, match="HTTP 404"):
        fetch("GET", f"{server.url}/missing", FetchPolicy(allow=("127.0.0.1",)))
