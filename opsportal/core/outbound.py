"""The one way out: every outbound HTTP request (webhooks, the SMS provider, later runbook actions and
synthetic checks) resolves its host name once, refuses the name if any address is not public, connects to the
address it checked (TLS SNI and certificate still for the name), never follows redirects, and caps the
response's size and the whole exchange's time.

Built on httpcore (the engine under httpx): its network backend is a documented extension point, so the pinning
happens where the socket is opened, and every read and write on that socket can be held to one deadline.
"""

from __future__ import annotations

import contextvars
import functools
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

# Addresses that some Python versions call global but that reach shared or internal infrastructure.
_REFUSED_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "100.64.0.0/10",  # carrier-grade NAT: often the cloud's internal side
        "192.0.0.0/24",  # IETF protocol assignments
        "192.88.99.0/24",  # 6to4 relay anycast
        "198.18.0.0/15",  # benchmarking
        "64:ff9b:1::/48",  # local-use NAT64
    )
)
DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024
DEFAULT_USER_AGENT = "opsportal/1"


class OutboundRefused(Exception):
    """The request may not be made at all (a bad URL, or a host that is not public). Retrying cannot help."""


class OutboundFailed(Exception):
    """The request was allowed but did not complete: network error, timeout. Worth another try later."""


class ResponseTooLarge(OutboundFailed):
    """The peer answered with more than the cap; `status` says what it answered."""

    def __init__(self, message: str, *, status: int):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    headers: dict[str, str]
    body: bytes = field(repr=False)


def _embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries: IPv4-mapped, 6to4, Teredo (server and client), NAT64."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in ipaddress.ip_network("64:ff9b::/96"):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _not_public(address: IPAddress) -> bool:
    return (
        not address.is_global
        or address.is_multicast
        or any(address in network for network in _REFUSED_NETWORKS if network.version == address.version)
    )


def address_refusal(address: IPAddress) -> str | None:
    """Why `address` is not a public unicast address, e.g. "127.0.0.1 is not a public address" (None when it
    is). IPv4 addresses carried inside IPv6 ones are checked too."""
    if _not_public(address):
        return f"{address} is not a public address"
    for inner in _embedded_ipv4(address):
        if _not_public(inner):
            return f"{address} carries {inner}, which is not a public address"
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses a request may reach: public ones, plus `allowed_networks`; `allow_private` lets
    everything through (a development allowance: tests and the embedded demo post to loopback sinks)."""

    allow_private: bool = False
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    def refusal(self, address: IPAddress) -> str | None:
        if self.allow_private:
            return None
        if any(address in network for network in self.allowed_networks if network.version == address.version):
            return None
        return address_refusal(address)


def default_policy() -> AddressPolicy:
    from django.conf import settings

    return AddressPolicy(
        allow_private=bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE", False)),
        allowed_networks=networks(getattr(settings, "OUTBOUND_ALLOWED_NETWORKS", ())),
    )


# --- resolving -----------------------------------------------------------------------------------------

_dns_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="outbound-dns")


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [info[4][0] for info in infos]


# The resolver every client uses unless given its own; tests swap it for one that answers what they say.
_resolver: contextvars.ContextVar[Resolver] = contextvars.ContextVar(
    "outbound_resolver", default=system_resolver
)


def set_resolver(resolver: Resolver) -> contextvars.Token:
    return _resolver.set(resolver)


def reset_resolver(token: contextvars.Token) -> None:
    _resolver.reset(token)


def resolve_checked(
    host: str, port: int, *, policy: AddressPolicy, timeout: float, resolver: Resolver | None = None
) -> list[IPAddress]:
    """Resolve `host` once; every answer must pass `policy`, or the whole name is refused."""
    resolve = resolver or _resolver.get()
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        answers = [str(literal)]
    else:
        future = _dns_pool.submit(resolve, host, port)
        try:
            answers = future.result(timeout=max(timeout, 0.001))
        except FutureTimeout:
            raise OutboundFailed(f"{host} did not resolve within {timeout:.1f} s") from None
        except socket.gaierror as exc:
            if exc.errno in (socket.EAI_AGAIN, getattr(socket, "EAI_SYSTEM", None)):
                raise OutboundFailed(f"{host} could not be resolved just now: {exc.strerror}") from exc
            raise OutboundRefused(f"{host} does not resolve") from exc
    addresses: list[IPAddress] = []
    for answer in answers:
        address = ipaddress.ip_address(answer.split("%", 1)[0])  # drop an IPv6 scope id
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise OutboundRefused(f"{host} does not resolve")
    for address in addresses:
        reason = policy.refusal(address)
        if reason:
            raise OutboundRefused(
                reason if literal is not None else f"{host} resolves to a refused address: {reason}"
            )
    return addresses


# --- URLs ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # ASCII (IDNA), no brackets
    port: int
    target: str  # path + query


def url_refusal(url: str) -> str | None:
    """Why `url` cannot be an outbound target (None when it can): http(s) only, a host, no credentials, and
    no whitespace or control characters anywhere (they split headers and hide a second URL)."""
    if not url or any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        return "The URL is empty or contains spaces or control characters."
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "The URL is not valid."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Use an http:// or https:// URL."
    if parts.username is not None or parts.password is not None:
        return "Put credentials in a header secret, not in the URL."
    if port == 0:
        return "The URL is not valid."
    try:
        parts.hostname.encode("idna")
    except UnicodeError:
        return "The URL's host name is not valid."
    return None


def parse_target(url: str) -> Target:
    reason = url_refusal(url)
    if reason:
        raise OutboundRefused(reason)
    parts = urlsplit(url)
    host = parts.hostname.encode("idna").decode("ascii")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, parts.port or (443 if parts.scheme == "https" else 80), path)


# --- the pinned, deadline-bound network backend ----------------------------------------------------------

# The instant the current request must be over by (time.monotonic()), read by every socket operation.
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("outbound_deadline", default=None)


def _budget(timeout: float | None, error: type[Exception]) -> float | None:
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise error("the request ran out of time")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream):
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _budget(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _budget(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        budget = _budget(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, budget))

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    """Resolves the origin's name once per connection, checks every answer, and connects to a checked
    address. httpcore still does TLS with server_hostname = the name, so SNI and certificate match it."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver | None):
        self._policy = policy
        self._resolver = resolver
        self._backend = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        budget = _budget(timeout, httpcore.ConnectTimeout)
        addresses = resolve_checked(
            host, port, policy=self._policy, timeout=budget or 30.0, resolver=self._resolver
        )
        last_error: Exception | None = None
        for address in addresses:  # every one of them passed the check
            try:
                stream = self._backend.connect_tcp(
                    str(address),
                    port,
                    timeout=_budget(timeout, httpcore.ConnectTimeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                last_error = exc
                continue
            return _DeadlineStream(stream)
        raise last_error or httpcore.ConnectError(f"could not connect to {host}")

    def connect_unix_socket(self, path, timeout=None, socket_options=None):  # pragma: no cover
        raise OutboundRefused("Unix sockets are not an outbound target")

    def sleep(self, seconds: float) -> None:  # pragma: no cover - only used for retries, which are off
        time.sleep(seconds)


@functools.cache
def _system_tls_context() -> ssl.SSLContext:
    # The operating system's CA store; loading it takes 30-150 ms, so once per process.
    return ssl.create_default_context()


class OutboundClient:
    """Keep-alive connections for a batch of requests to outside receivers. Close it when done.

    `timeout` bounds each whole request (resolving, connecting, TLS, sending, reading the answer);
    `max_response_bytes` bounds the answer's body. Redirects come back as the 3xx they are.
    """

    def __init__(
        self,
        *,
        timeout: float,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        policy: AddressPolicy | None = None,
        ssl_context: ssl.SSLContext | None = None,
        resolver: Resolver | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
    ):
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.user_agent = user_agent
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or _system_tls_context(),
            network_backend=_PinnedBackend(policy or default_policy(), resolver),
            max_keepalive_connections=8,
            keepalive_expiry=30.0,
            retries=0,
        )

    def post(self, url: str, *, body: bytes, headers: dict[str, str] | None = None) -> OutboundResponse:
        return self.request("POST", url, body=body, headers=headers)

    def request(
        self, method: str, url: str, *, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> OutboundResponse:
        target = parse_target(url)
        sent_headers = [(b"User-Agent", self.user_agent.encode())]
        for name, value in (headers or {}).items():
            if any(char in name + value for char in "\r\n\0"):
                raise OutboundRefused(f"Header {name!r} contains a line break or NUL.")
            if name.lower() != "user-agent":
                sent_headers.append((name.encode("latin-1"), value.encode("latin-1")))
            else:
                sent_headers[0] = (b"User-Agent", value.encode("latin-1"))
        token = _deadline.set(time.monotonic() + self.timeout)
        try:
            return self._exchange(method, target, body, sent_headers)
        except httpcore.TimeoutException as exc:
            raise OutboundFailed(f"{target.host} did not answer within {self.timeout:g} s") from exc
        except (httpcore.NetworkError, httpcore.ProtocolError, OSError) as exc:
            raise OutboundFailed(f"Network error: {type(exc).__name__}: {exc}") from exc
        finally:
            _deadline.reset(token)

    def _exchange(self, method: str, target: Target, body: bytes, headers: list) -> OutboundResponse:
        url = httpcore.URL(
            scheme=target.scheme.encode(), host=target.host.encode(), port=target.port, target=target.target
        )
        step = {"connect": self.timeout, "read": self.timeout, "write": self.timeout, "pool": self.timeout}
        with self._pool.stream(
            method, url, headers=headers, content=body, extensions={"timeout": step}
        ) as response:
            status = response.status
            received = {
                name.decode("latin-1").lower(): value.decode("latin-1") for name, value in response.headers
            }
            declared = received.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_response_bytes:
                raise ResponseTooLarge(
                    f"{target.host} answered HTTP {status} with {declared} bytes (the cap is "
                    f"{self.max_response_bytes})",
                    status=status,
                )
            chunks, size = [], 0
            for chunk in response.iter_stream():
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise ResponseTooLarge(
                        f"{target.host} answered HTTP {status} with more than {self.max_response_bytes} bytes",
                        status=status,
                    )
                chunks.append(chunk)
        return OutboundResponse(status=status, headers=received, body=b"".join(chunks))

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> OutboundClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def networks(values: Iterable[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(value) for value in values)
