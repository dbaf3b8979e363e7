"""The outbound client against real TCP servers on loopback: the name is resolved once and every answer checked,
the connection goes to the checked address (TLS still for the name), redirects come back unfollowed, and the
answer's size and the whole exchange's time are capped. 127.0.0.2 stands in for a public address (an allowed
network); 127.0.0.3 is "inside"."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from opsportal.core.outbound import (
    AddressPolicy,
    OutboundClient,
    OutboundFailed,
    OutboundRefused,
    ResponseTooLarge,
    address_refusal,
    networks,
    url_refusal,
)

PUBLIC_STAND_IN = "127.0.0.2"
INSIDE = "127.0.0.3"
POLICY = AddressPolicy(allowed_networks=networks([f"{PUBLIC_STAND_IN}/32"]))


class ScriptedResolver:
    """Answers each lookup with the next scripted answer (the last one repeats), and counts lookups."""

    def __init__(self, *answers: list[str]):
        self.answers = list(answers)
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@contextmanager
def http_server(address: str, port: int = 0, *, reply=(200, {}, b"ok"), tls: ssl.SSLContext | None = None):
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append({"path": self.path, "host": self.headers["Host"], "body": body})
            status, headers, payload = reply
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((address, port), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def raw_server(script):
    """A TCP server on 127.0.0.2 that runs `script(connection)` for each connection."""
    listener = socket.create_server((PUBLIC_STAND_IN, 0))
    stop = threading.Event()

    def serve():
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=_run, args=(connection,), daemon=True).start()

    def _run(connection):
        with connection:
            try:
                connection.recv(65536)
                script(connection, stop)
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def _free_port_on_both() -> int:
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind((PUBLIC_STAND_IN, 0))
            port = probe.getsockname()[1]
        try:
            with socket.socket() as other:
                other.bind((INSIDE, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no port free on both loopback addresses")


# --- every address class ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",  # loopback
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",  # private
        "169.254.169.254",  # link-local: cloud metadata
        "100.64.0.1",
        "100.127.255.254",  # carrier-grade NAT
        "0.0.0.0",  # noqa: S104 - unspecified, the address under test
        "255.255.255.255",  # broadcast
        "224.0.0.1",
        "233.252.0.1",  # multicast
        "192.0.2.10",  # documentation
        "198.18.0.1",  # benchmarking
        "240.0.0.1",  # reserved
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:10.0.0.1",
        "2002:7f00:1::1",  # 6to4 around 127.0.0.1
        "2002:a00:1::1",  # 6to4 around 10.0.0.1
        "2001:0:808:808::80ff:fffe",  # Teredo: server 8.8.8.8, client 127.0.0.1
        "64:ff9b::7f00:1",  # NAT64 around 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 around 169.254.169.254
        "64:ff9b:1::808:808",  # local-use NAT64
    ],
)
def test_address_refusal_refuses_every_non_public_class(address):
    assert address_refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.215.14", "2606:4700::1111", "::ffff:8.8.8.8"])
def test_address_refusal_lets_public_addresses_through(address):
    assert address_refusal(ipaddress.ip_address(address)) is None


def test_address_refusal_names_the_embedded_address():
    assert "127.0.0.1" in address_refusal(ipaddress.ip_address("64:ff9b::7f00:1"))


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/a b",
        "http://hooks.example.com/\tx",
        "http://hooks.example.com/x\r\nX-Injected: 1",
        "http://hooks.exa\nmple.com/",
        " http://hooks.example.com/",
        "http://hooks.example.com/\x00",
        "http://hooks.example.com/\x7f",
        "http://hooks.example.com/\x0b",
        "ftp://hooks.example.com/",
        "http://user:pw@hooks.example.com/",
        "http:///nohost",
        "http://hooks.example.com:99999/",
        "",
    ],
)
def test_url_refusal_refuses_whitespace_control_characters_and_odd_urls(url):
    assert url_refusal(url) is not None
    with OutboundClient(timeout=1, policy=POLICY) as client, pytest.raises(OutboundRefused):
        client.post(url, body=b"{}")


# --- resolve once, check all, connect to what was checked -------------------------------------------------


def test_outbound_connects_to_the_address_it_checked_not_a_second_lookup():
    # DNS rebinding: the first answer is "public", every later one points inside.
    port = _free_port_on_both()
    resolver = ScriptedResolver([PUBLIC_STAND_IN], [INSIDE])
    with (
        http_server(PUBLIC_STAND_IN, port) as (_, outside),
        http_server(INSIDE, port) as (_, inside),
        OutboundClient(timeout=5, policy=POLICY, resolver=resolver) as client,
    ):
        response = client.post(f"http://hooks.partner.test:{port}/hook", body=b"{}")

    assert response.status == 200
    assert resolver.lookups == ["hooks.partner.test"]
    assert [(seen["path"], seen["host"]) for seen in outside] == [("/hook", f"hooks.partner.test:{port}")]
    assert inside == []


def test_outbound_refuses_a_name_that_resolves_inside_and_never_connects():
    port = _free_port_on_both()
    with (
        http_server(INSIDE, port) as (_, inside),
        OutboundClient(timeout=5, policy=POLICY, resolver=ScriptedResolver([INSIDE])) as client,
        pytest.raises(
            OutboundRefused,
            match=r"hooks\.partner\.test resolves to a refused address: 127\.0\.0\.3 is not a public address",
        ),
    ):
        client.post(f"http://hooks.partner.test:{port}/hook", body=b"{}")
    assert inside == []


def test_outbound_refuses_a_name_when_any_one_of_its_addresses_is_inside():
    port = _free_port_on_both()
    resolver = ScriptedResolver([PUBLIC_STAND_IN, INSIDE])
    with (
        http_server(PUBLIC_STAND_IN, port) as (_, outside),
        http_server(INSIDE, port) as (_, inside),
        OutboundClient(timeout=5, policy=POLICY, resolver=resolver) as client,
        pytest.raises(OutboundRefused),
    ):
        client.post(f"http://hooks.partner.test:{port}/hook", body=b"{}")
    assert outside == [] and inside == []


def test_outbound_refuses_literal_inside_addresses_without_resolving():
    resolver = ScriptedResolver(["8.8.8.8"])
    with OutboundClient(timeout=5, policy=POLICY, resolver=resolver) as client:
        for url in ("http://127.0.0.1:9/", "http://[::1]:9/", "http://[::ffff:169.254.169.254]/"):
            with pytest.raises(OutboundRefused, match="not a public address"):
                client.post(url, body=b"")
    assert resolver.lookups == []


def test_outbound_tls_uses_the_name_for_sni_and_the_certificate(tmp_path):
    name = "hooks.partner.test"
    server_tls, client_tls = _tls_pair(tmp_path, certificate_for=name)
    server_names: list[str | None] = []
    server_tls.sni_callback = lambda sock, server_name, context: server_names.append(server_name)
    with http_server(PUBLIC_STAND_IN, tls=server_tls) as (port, seen):
        resolver = ScriptedResolver([PUBLIC_STAND_IN])
        with OutboundClient(timeout=5, policy=POLICY, resolver=resolver, ssl_context=client_tls) as client:
            response = client.post(f"https://{name}:{port}/hook", body=b"{}")
    assert response.status == 200
    assert server_names == [name]
    assert seen[0]["host"] == f"{name}:{port}"


def test_outbound_tls_refuses_a_certificate_for_another_name(tmp_path):
    server_tls, client_tls = _tls_pair(tmp_path, certificate_for="other.partner.test")
    with http_server(PUBLIC_STAND_IN, tls=server_tls) as (port, seen):
        resolver = ScriptedResolver([PUBLIC_STAND_IN])
        with (
            OutboundClient(timeout=5, policy=POLICY, resolver=resolver, ssl_context=client_tls) as client,
            pytest.raises(OutboundFailed, match=r"CERTIFICATE_VERIFY_FAILED|certificate"),
        ):
            client.post(f"https://hooks.partner.test:{port}/hook", body=b"{}")
    assert seen == []


# --- redirects, size, time ----------------------------------------------------------------------------------


def test_outbound_returns_redirects_unfollowed():
    reply = (302, {"Location": "http://169.254.169.254/latest/meta-data"}, b"")
    with (
        http_server(PUBLIC_STAND_IN, reply=reply) as (port, seen),
        OutboundClient(timeout=5, policy=POLICY) as client,
    ):
        response = client.post(f"http://{PUBLIC_STAND_IN}:{port}/moved", body=b"{}")
    assert response.status == 302
    assert response.headers["location"] == "http://169.254.169.254/latest/meta-data"
    assert [request["path"] for request in seen] == ["/moved"]


def test_outbound_caps_a_declared_large_answer():
    with (
        http_server(PUBLIC_STAND_IN, reply=(200, {}, b"x" * 200_000)) as (port, _),
        OutboundClient(timeout=5, policy=POLICY, max_response_bytes=100_000) as client,
        pytest.raises(ResponseTooLarge) as caught,
    ):
        client.post(f"http://{PUBLIC_STAND_IN}:{port}/", body=b"")
    assert caught.value.status == 200


def test_outbound_caps_an_endless_chunked_answer():
    def endless(connection, stop):
        connection.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"4000\r\n" + b"y" * 0x4000 + b"\r\n"
        while not stop.is_set():
            connection.sendall(chunk)

    with (
        raw_server(endless) as port,
        OutboundClient(timeout=5, policy=POLICY, max_response_bytes=50_000) as client,
        pytest.raises(ResponseTooLarge, match="more than 50000 bytes"),
    ):
        client.post(f"http://{PUBLIC_STAND_IN}:{port}/", body=b"")


def test_outbound_caps_the_whole_exchange_time_against_a_slow_drip():
    # Each byte comes well inside a per-read timeout; only a deadline on the whole exchange stops it.
    def drip(connection, stop):
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000:
            if stop.wait(0.05):
                return
            connection.sendall(bytes([byte]))

    with raw_server(drip) as port, OutboundClient(timeout=0.6, policy=POLICY) as client:
        started = time.monotonic()
        with pytest.raises(OutboundFailed, match=r"did not answer within 0\.6 s"):
            client.post(f"http://{PUBLIC_STAND_IN}:{port}/", body=b"")
        assert time.monotonic() - started < 3


def test_outbound_caps_time_while_resolving():
    def slow_resolver(host, port):
        time.sleep(2)
        return [PUBLIC_STAND_IN]

    with (
        OutboundClient(timeout=0.3, policy=POLICY, resolver=slow_resolver) as client,
        pytest.raises(OutboundFailed, match="did not resolve"),
    ):
        client.post("http://slow.partner.test/", body=b"")


# --- helpers --------------------------------------------------------------------------------------------------


def _tls_pair(tmp_path, *, certificate_for: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A throwaway CA, a server certificate for `certificate_for`, and the two TLS contexts."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "opsportal test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, certificate_for)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(certificate_for)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "server.pem", tmp_path / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server, client
