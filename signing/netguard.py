"""Outbound HTTP for validation data, only where it is safe to go (no SSRF).

A signed PDF names URLs in its certificates (OCSP responders, CRL distribution points, CA issuer
certificates). Fetching them blindly lets whoever uploads a PDF make the service send requests to
its own loopback, to cloud metadata (169.254.169.254) or to the office network. Every request the
validator makes to a URL that is not answered in-process goes through :func:`fetch`, which:

- takes only ``http`` and ``https`` URLs without credentials;
- resolves the host once and refuses it unless *every* address is public (not loopback,
  link-local, private, shared, multicast, reserved or unspecified; IPv4 embedded in IPv6 — mapped
  ``::ffff:a.b.c.d``, 6to4, NAT64, Teredo — is judged as the IPv4 address), or the host or the
  address is on the allow-list (:class:`FetchPolicy` ``allow``: host names, IP addresses, CIDRs);
- connects to the very address it checked (a second DNS answer cannot rebind the request), with
  the host name kept for the ``Host`` header and TLS (SNI and certificate check);
- bounds every request by a time-out (connect and the whole answer) and a size, the whole
  operation by a total time budget (:class:`Deadline`), and follows at most a few redirects, each
  checked as a new URL (so a redirect to a refused address is refused).

Decimal, hexadecimal, octal and short IPv4 forms (``2130706433``, ``0x7f000001``, ``0177.0.0.1``,
``127.1``) are resolved by the system resolver to the address they denote and judged as such.
Only the standard library is used.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_DEFAULT_PORTS = {"http": 80, "https": 443}
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
USER_AGENT = "docsvc-signing/1 (validation data)"


class FetchError(ValueError):
    """A fetch that did not give a usable answer. (A ``ValueError``: pyhanko-certvalidator's
    fetchers turn it into their own OCSP/CRL/certificate fetch errors.)"""


class FetchRefused(FetchError):
    """The URL, its address or a redirect is not allowed by the policy: nothing was sent."""


class FetchFailed(FetchError):
    """The request was allowed but failed: no connection, time-out, HTTP error, too large."""


def parse_allow_list(raw: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Entries of an allow-list (``"pki.example.vn, 10.0.0.0/8, ::1"``), checked and normalised;
    raises ValueError naming a malformed entry."""
    items = [p.strip() for p in raw.split(",")] if isinstance(raw, str) else [p.strip() for p in raw]
    out: list[str] = []
    for item in filter(None, items):
        try:
            out.append(str(ipaddress.ip_network(item.strip("[]"), strict=False)))
            continue
        except ValueError:
            pass
        host = item.lower().rstrip(".")
        if not all(part and len(part) <= 63 and part.replace("-", "").replace("_", "").isalnum()
                   for part in host.split(".")) or len(host) > 253:
            raise ValueError(f"{item!r} is neither a host name nor an IP address or CIDR network")
        out.append(host)
    return tuple(out)


@dataclass(frozen=True)
class FetchPolicy:
    """Where validation data may be fetched from, and how much.

    ``timeout``: seconds for one request (connect, then the whole answer); ``total_timeout``:
    seconds of network time for one operation (a validation or a signing), whatever the number of
    requests; ``max_bytes``: the largest answer accepted; ``max_requests``: network requests per
    operation."""

    allow: tuple[str, ...] = ()
    timeout: float = 5.0
    total_timeout: float = 10.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 3
    max_requests: int = 16
    _hosts: frozenset[str] = field(init=False, repr=False, compare=False)
    _networks: tuple[IPNetwork, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        entries = parse_allow_list(self.allow)
        object.__setattr__(self, "allow", entries)
        nets, hosts = [], set()
        for entry in entries:
            try:
                nets.append(ipaddress.ip_network(entry))
            except ValueError:
                hosts.add(entry)
        object.__setattr__(self, "_hosts", frozenset(hosts))
        object.__setattr__(self, "_networks", tuple(nets))
        if self.timeout <= 0 or self.total_timeout <= 0 or self.max_bytes <= 0:
            raise ValueError("time-outs and the size limit must be positive")

    def host_allowed(self, host: str) -> bool:
        return host.lower().rstrip(".") in self._hosts

    def address_allowed(self, address: IPAddress) -> bool:
        """A public address, or one inside an allow-listed network."""
        candidates = _as_ipv4(address)
        if any(c in net for c in candidates for net in self._networks if c.version == net.version):
            return True
        return all(is_public(c) for c in candidates)


def is_public(address: IPAddress) -> bool:
    """Reachable on the public internet, and not one of the special ranges a service must not be
    made to call (RFC 6890 special-purpose registries, plus multicast), after unwrapping IPv4
    embedded in IPv6."""
    for a in _as_ipv4(address):
        if (a.is_loopback or a.is_link_local or a.is_private or a.is_multicast or a.is_reserved
                or a.is_unspecified or not a.is_global):
            return False
        if a.version == 6 and a.is_site_local:
            return False
    return True


def _as_ipv4(address: IPAddress) -> list[IPAddress]:
    """The address itself, or the IPv4 address(es) an IPv6 address carries and would reach."""
    if address.version == 4:
        return [address]
    assert isinstance(address, ipaddress.IPv6Address)
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)
    if address in _NAT64:
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    return [address]


class Deadline:
    """The network time left for one operation; starts at the first request. Thread-safe."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end: float | None = None
        self._lock = threading.Lock()

    def remaining(self) -> float:
        with self._lock:
            if self._end is None:
                self._end = time.monotonic() + self.seconds
            return self._end - time.monotonic()


@dataclass(frozen=True)
class Target:
    """A URL that passed the policy, and the addresses the request may connect to."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[IPAddress, ...]


def check_url(url: str, policy: FetchPolicy) -> Target:
    """Resolve ``url``'s host and check it against ``policy``; raises :class:`FetchRefused`."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise FetchRefused(f"{url[:200]!r} is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise FetchRefused(f"only http and https URLs are fetched, not {url[:200]!r}")
    if parts.username is not None or parts.password is not None:
        raise FetchRefused(f"URLs with credentials are not fetched: {scheme}://…@{parts.hostname}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise FetchRefused(f"{url[:200]!r} names no host")
    port = port or _DEFAULT_PORTS[scheme]
    addresses = _resolve(host, port)
    if not policy.host_allowed(host):
        refused = [a for a in addresses if not policy.address_allowed(a)]
        if refused:
            raise FetchRefused(f"{host} resolves to {refused[0]}, which is not a public address and not in "
                               f"the fetch allow-list")
    path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return Target(url, scheme, host, port, path, addresses)


def _resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise FetchFailed(f"cannot resolve {host}: {exc}") from None
    found = tuple(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos))
    if not found:
        raise FetchFailed(f"cannot resolve {host}")
    return found


@dataclass(frozen=True)
class HttpReply:
    """A 200 answer (the attributes pyhanko-certvalidator's fetchers read of a response)."""

    url: str
    status_code: int
    headers: dict[str, str]
    content: bytes


def fetch(method: str, url: str, policy: FetchPolicy, *, body: bytes | None = None,
          headers: dict[str, str] | None = None, deadline: Deadline | None = None) -> HttpReply:
    """One request under ``policy`` (blocking: call it in a worker thread from async code).
    Returns a 200 answer; raises :class:`FetchRefused` or :class:`FetchFailed`."""
    deadline = deadline or Deadline(policy.total_timeout)
    for _ in range(policy.max_redirects + 1):
        target = check_url(url, policy)
        status, location, reply = _exchange(target, method, body, headers or {}, policy, deadline)
        if status in _REDIRECTS and location:
            url = urllib.parse.urljoin(target.url, location)
            if status not in (307, 308):
                method, body = "GET", None
            continue
        if status != 200:
            raise FetchFailed(f"{target.host} answered HTTP {status}")
        assert reply is not None
        return reply
    raise FetchFailed(f"more than {policy.max_redirects} redirects from {url[:200]!r}")


def _exchange(target: Target, method: str, body: bytes | None, headers: dict[str, str], policy: FetchPolicy,
              deadline: Deadline) -> tuple[int, str | None, HttpReply | None]:
    conn = _connect(target, policy, deadline)
    try:
        all_headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", "Connection": "close", **headers}
        conn.request(method, target.path, body=body, headers=all_headers)
        _limit(conn, policy, deadline)
        response = conn.getresponse()
        if response.status in _REDIRECTS:
            return response.status, response.getheader("Location"), None
        if response.status != 200:
            return response.status, None, None
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > policy.max_bytes:
            raise FetchFailed(f"{target.host} answers {declared} bytes; the limit is {policy.max_bytes}")
        chunks, size = [], 0
        while True:
            _limit(conn, policy, deadline)
            chunk = response.read1(65536) if hasattr(response, "read1") else response.read(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > policy.max_bytes:
                raise FetchFailed(f"the answer of {target.host} exceeds {policy.max_bytes} bytes")
            chunks.append(chunk)
        content_type = response.getheader("Content-Type")
        return 200, None, HttpReply(target.url, 200, {"Content-Type": content_type} if content_type else {},
                                    b"".join(chunks))
    except (OSError, http.client.HTTPException) as exc:
        raise FetchFailed(f"fetching from {target.host} failed: {type(exc).__name__}: {exc}") from None
    finally:
        conn.close()


def _limit(conn: http.client.HTTPConnection, policy: FetchPolicy, deadline: Deadline) -> None:
    """Before each blocking step: at most the request time-out, at most what the operation has left."""
    left = min(policy.timeout, deadline.remaining())
    if left <= 0:
        raise FetchFailed(f"the time for fetching validation data ({policy.total_timeout:g} s) is used up")
    if conn.sock is not None:
        conn.sock.settimeout(left)


def _connect(target: Target, policy: FetchPolicy, deadline: Deadline) -> http.client.HTTPConnection:
    started = time.monotonic()
    errors: list[str] = []
    for address in target.addresses:
        left = min(policy.timeout - (time.monotonic() - started), deadline.remaining())
        if left <= 0:
            break
        try:
            sock = socket.create_connection((str(address), target.port), timeout=left)
        except OSError as exc:
            errors.append(f"{address}: {exc}")
            continue
        try:
            if target.scheme == "https":
                context = ssl.create_default_context()
                sock = context.wrap_socket(sock, server_hostname=target.host)
            conn_cls = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
            conn = conn_cls(target.host, target.port, timeout=left)
            conn.sock = sock  # connected to the checked address: no second resolution
            return conn
        except (OSError, ssl.SSLError) as exc:
            sock.close()
            errors.append(f"{address}: {exc}")
    raise FetchFailed(f"cannot connect to {target.host}:{target.port} ({'; '.join(errors) or 'time-out'})")
