"""``fetch_url``: pages as text within a size cap, and no way to loopback, private or
link-local addresses unless the server allows them, redirects included."""

import datetime
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from roost.config import Settings
from roost.engine.tools import fetch as fetch_module
from roost.engine.tools.fetch import blocked_reason, fetch_tool, html_to_text
from roost.engine.tools.policy import SandboxPolicy
from roost.engine.tools.registry import ToolContext, ToolOutcome, ToolRegistry

PAGE = b"""<!doctype html><html><head><title>Roost &amp; friends</title>
<style>body { color: red }</style><script>var secret = "hidden";</script></head>
<body><h1>Hello</h1><p>one     two
three</p><noscript>turn on scripts</noscript><ul><li>first</li><li>second</li></ul></body></html>"""


@dataclass
class Site:
    url: str
    seen: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)


class Handler(BaseHTTPRequestHandler):
    site: Site

    def do_GET(self) -> None:
        self.site.seen.append((self.path, self.headers.get("Host", "")))
        if self.path.startswith("/redirect/"):
            left = int(self.path.rsplit("/", 1)[1])
            self.send_response(302)
            self.send_header("Location", f"/redirect/{left - 1}" if left > 1 else "/page")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path.startswith("/to?"):
            self.send_response(307)
            self.send_header("Location", self.path.removeprefix("/to?"))
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            body, kind = {
                "/page": (PAGE, "text/html; charset=utf-8"),
                "/data.json": (json.dumps({"a": [1, 2]}).encode(), "application/json"),
                "/big": (b"x" * 200_000, "text/plain"),
                "/image": (b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)), "image/png"),
            }.get(self.path, (b"not here", "text/plain"))
            self.send_response(200 if body != b"not here" else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def site() -> Iterator[Site]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served = Site(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = type("SiteHandler", (Handler,), {"site": served})
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield served
    server.shutdown()
    server.server_close()


def context(policy: SandboxPolicy | None = None) -> ToolContext:
    return ToolContext(
        session_id="ses_x",
        turn_id="turn_x",
        owner_id="usr_x",
        working_directory=None,  # fetching needs no project
        policy=policy or SandboxPolicy(),
    )


async def fetch(
    tmp_path: Path,
    args: dict[str, Any],
    policy: SandboxPolicy | None = None,
    **settings: Any,
) -> ToolOutcome:
    chosen: dict[str, Any] = {"fetch_url_enabled": True, **settings}
    tools = ToolRegistry()
    tools.register(fetch_tool(Settings(home=tmp_path, **chosen)))
    return await tools.execute("fetch_url", args, context(policy))


async def test_a_disabled_server_refuses(tmp_path: Path, site: Site) -> None:
    outcome = await fetch(
        tmp_path, {"url": f"{site.url}/page"}, fetch_url_enabled=False, fetch_url_allow_private=True
    )
    assert not outcome.success and outcome.error is not None and "disabled" in outcome.error
    assert site.seen == []


async def test_a_project_without_network_refuses(tmp_path: Path, site: Site) -> None:
    outcome = await fetch(
        tmp_path,
        {"url": f"{site.url}/page"},
        SandboxPolicy(allow_network=False),
        fetch_url_allow_private=True,
    )
    assert not outcome.success
    assert outcome.error is not None and "does not allow network" in outcome.error
    assert site.seen == []


async def test_html_comes_back_as_plain_text(tmp_path: Path, site: Site) -> None:
    outcome = await fetch(tmp_path, {"url": f"{site.url}/page"}, fetch_url_allow_private=True)
    assert outcome.success
    head, _, text = outcome.result.partition("\n\n")
    assert head.splitlines() == [
        "Status: 200 OK",
        "Content-Type: text/html; charset=utf-8",
        f"URL: {site.url}/page",
    ]
    assert text == "Roost & friends\nHello\none two three\nfirst\nsecond"


def test_html_rendering_drops_scripts_styles_and_markup() -> None:
    html = "<div>a<script>if (a < b) alert(1)</script><style>p{}</style>b<br/>c&nbsp;d</div>"
    assert html_to_text(html) == "ab\nc d"


async def test_json_comes_back_as_it_is(tmp_path: Path, site: Site) -> None:
    outcome = await fetch(tmp_path, {"url": f"{site.url}/data.json"}, fetch_url_allow_private=True)
    assert outcome.success
    assert "Content-Type: application/json" in outcome.result
    assert outcome.result.endswith('\n\n{"a": [1, 2]}')


async def test_binary_content_is_described_not_returned(tmp_path: Path, site: Site) -> None:
    outcome = await fetch(tmp_path, {"url": f"{site.url}/image"}, fetch_url_allow_private=True)
    assert outcome.success
    assert outcome.result.endswith("[binary content (image/png), 266 bytes read; not shown]")
    assert "PNG" not in outcome.result


async def test_an_error_status_is_a_result(tmp_path: Path, site: Site) -> None:
    outcome = await fetch(tmp_path, {"url": f"{site.url}/missing"}, fetch_url_allow_private=True)
    assert outcome.success
    assert outcome.result.startswith("Status: 404 Not Found")


async def test_reading_stops_at_the_size_cap(tmp_path: Path, site: Site) -> None:
    asked = await fetch(
        tmp_path, {"url": f"{site.url}/big", "max_bytes": 1500}, fetch_url_allow_private=True
    )
    assert asked.success
    assert "\n\n" + "x" * 1500 + "\n[response cut: only the first 1500 bytes" in asked.result
    assert "x" * 1501 not in asked.result
    capped = await fetch(
        tmp_path,
        {"url": f"{site.url}/big", "max_bytes": 10**9},
        fetch_url_allow_private=True,
        fetch_url_max_bytes=2048,
    )
    assert capped.success
    assert "x" * 2048 in capped.result and "x" * 2049 not in capped.result
    assert "only the first 2048 bytes" in capped.result


async def test_up_to_five_redirects_are_followed(tmp_path: Path, site: Site) -> None:
    outcome = await fetch(tmp_path, {"url": f"{site.url}/redirect/5"}, fetch_url_allow_private=True)
    assert outcome.success
    assert f"URL: {site.url}/page" in outcome.result
    assert "Redirects followed: 5" in outcome.result
    assert outcome.result.endswith("second")


async def test_a_sixth_redirect_is_not_followed(tmp_path: Path, site: Site) -> None:
    outcome = await fetch(tmp_path, {"url": f"{site.url}/redirect/6"}, fetch_url_allow_private=True)
    assert not outcome.success
    assert outcome.error is not None and "more than 5 times" in outcome.error
    assert [path for path, _ in site.seen] == [f"/redirect/{n}" for n in range(6, 0, -1)]


@pytest.mark.parametrize(
    "url", ["ftp://example.com/file", "file:///etc/passwd", "javascript:alert(1)", "gopher://x/"]
)
async def test_only_http_and_https_are_fetched(tmp_path: Path, url: str) -> None:
    outcome = await fetch(tmp_path, {"url": url}, fetch_url_allow_private=True)
    assert not outcome.success
    assert outcome.error is not None and "Only http and https" in outcome.error


async def test_a_redirect_to_another_scheme_is_refused(tmp_path: Path, site: Site) -> None:
    outcome = await fetch(
        tmp_path, {"url": f"{site.url}/to?file:///etc/passwd"}, fetch_url_allow_private=True
    )
    assert not outcome.success
    assert outcome.error is not None and "Only http and https" in outcome.error


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost/",
        "http://[::1]/",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://172.16.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://224.0.0.1/",
        "http://0x7f.1/",
    ],
)
async def test_addresses_that_are_not_public_are_refused(
    tmp_path: Path, url: str, site: Site
) -> None:
    outcome = await fetch(tmp_path, {"url": url})
    assert not outcome.success
    assert outcome.error is not None and "only reaches public addresses" in outcome.error
    assert site.seen == []


async def test_the_loopback_server_itself_is_refused_without_allow_private(
    tmp_path: Path, site: Site
) -> None:
    outcome = await fetch(tmp_path, {"url": f"{site.url}/page"})
    assert not outcome.success
    assert outcome.error is not None and "loopback" in outcome.error
    assert site.seen == []


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),
        ("64:ff9b::808:808", None),  # NAT64 of a public address
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("::", "unspecified"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "private"),
        ("100.64.0.1", "non-public"),
    ],
)
def test_which_addresses_are_public(address: str, reason: str | None) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) == reason


async def test_each_redirect_is_checked_again(
    tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 127.0.0.1 stands in for a public site; every other address is judged as usual.
    real = fetch_module.blocked_reason
    monkeypatch.setattr(
        fetch_module,
        "blocked_reason",
        lambda address: None if str(address) == "127.0.0.1" else real(address),
    )
    port = site.url.rsplit(":", 1)[1]
    targets = [f"http://127.0.0.2:{port}/page", f"http://[::1]:{port}/page"]
    for target in targets:
        outcome = await fetch(tmp_path, {"url": f"{site.url}/to?{target}"})
        assert not outcome.success
        assert outcome.error is not None and "a loopback address" in outcome.error
    assert [path for path, _ in site.seen] == [f"/to?{target}" for target in targets]


async def test_the_request_goes_to_the_address_that_was_checked(
    tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A name no resolver knows: only the checked answer can have been used to connect.
    async def resolve(host: str, _port: int) -> list[fetch_module.IPAddress]:
        assert host == "pinned.invalid"
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(fetch_module, "resolve", resolve)
    port = site.url.rsplit(":", 1)[1]
    outcome = await fetch(
        tmp_path, {"url": f"http://pinned.invalid:{port}/data.json"}, fetch_url_allow_private=True
    )
    assert outcome.success, outcome.error
    assert f"URL: http://pinned.invalid:{port}/data.json" in outcome.result
    assert site.seen == [("/data.json", f"pinned.invalid:{port}")]


def self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_https_to_the_checked_address_still_verifies_the_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert_path, key_path = self_signed(tmp_path, "site.test")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served = Site(f"https://site.test:{server.server_address[1]}")
    server.RequestHandlerClass = type("TlsHandler", (Handler,), {"site": served})
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_path, key_path)
    server.socket = server_tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()

    async def resolve(_host: str, _port: int) -> list[fetch_module.IPAddress]:
        return [ipaddress.ip_address("127.0.0.1")]

    trusted = ssl.create_default_context(cafile=str(cert_path))

    class TrustingClient(httpx.AsyncClient):
        def __init__(self, **options: Any) -> None:
            super().__init__(verify=trusted, **options)

    monkeypatch.setattr(fetch_module, "resolve", resolve)
    monkeypatch.setattr(httpx, "AsyncClient", TrustingClient)
    try:
        good = await fetch(
            tmp_path, {"url": f"{served.url}/data.json"}, fetch_url_allow_private=True
        )
        wrong_name = served.url.replace("site.test", "other.test")
        bad = await fetch(
            tmp_path, {"url": f"{wrong_name}/data.json"}, fetch_url_allow_private=True
        )
    finally:
        server.shutdown()
        server.server_close()
    assert good.success, good.error
    assert good.result.endswith('{"a": [1, 2]}')
    assert not bad.success
    assert bad.error is not None and "certificate" in bad.error.lower()
    assert served.seen == [("/data.json", served.url.removeprefix("https://"))]
