"""``fetch_url``: a web page as text, from public addresses only unless allowed.

Every hop (the URL and each redirect it leads to) is resolved, every address the
name resolves to is checked, and the request then connects to a checked address,
with the name kept in the ``Host`` header and in TLS (SNI and certificate checks).
A DNS answer that changes between the check and the connection (DNS rebinding)
therefore cannot send the request elsewhere. Proxy variables are ignored for the
same reason: a proxy would make its own connection to a name it resolves itself.
"""

import asyncio
import codecs
import ipaddress
import re
import socket
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import httpx

from roost import __version__
from roost.config import Settings
from roost.engine.tools.registry import Tool, ToolContext, ToolError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_REDIRECTS = 5
REQUEST_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "application/yaml",
        "application/x-yaml",
        "application/toml",
        "application/x-ndjson",
        "application/x-www-form-urlencoded",
    }
)
NAT64_PREFIXES = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
)
HEADERS = {
    "User-Agent": f"Roost/{__version__} (fetch_url)",
    "Accept": "text/html, application/json;q=0.9, text/*;q=0.8, */*;q=0.5",
}


def _schema(max_bytes: int) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "url": {"type": "string", "description": "An http:// or https:// URL"},
            "max_bytes": {
                "type": "integer",
                "minimum": 1,
                "maximum": max_bytes,
                "description": f"Read at most this many bytes (at most {max_bytes})",
            },
        },
        "required": ["url"],
        "additionalProperties": False,
    }


def blocked_reason(address: IPAddress) -> str | None:
    """Why ``address`` is not a public one (``"loopback"``, ``"private"``, …); None if it is."""
    if isinstance(address, ipaddress.IPv6Address):
        # IPv6 forms that carry an IPv4 address reach that address: judge it instead.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and any(address in prefix for prefix in NAT64_PREFIXES):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return blocked_reason(embedded)
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("non-public", not address.is_global),  # e.g. 100.64.0.0/10, shared address space
    )
    return next((name for name, applies in checks if applies), None)


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, in the resolver's order of preference."""
    try:
        answers = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise ToolError(f"Cannot resolve {host}: {error}") from error
    addresses: list[IPAddress] = []
    for *_, sockaddr in answers:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise ToolError(f"Cannot resolve {host}")
    return addresses


def parsed_url(url: str | httpx.URL) -> httpx.URL:
    """``url`` as an absolute http(s) URL without its fragment, or a clear refusal."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as error:
        raise ToolError(f"Not a valid URL: {error}") from error
    if parsed.scheme not in ("http", "https"):
        raise ToolError(f"Only http and https URLs can be fetched, not {parsed.scheme or url!r}")
    if not parsed.raw_host:
        raise ToolError(f"{url} has no host")
    return parsed.copy_with(fragment=None)


async def checked_addresses(url: httpx.URL, allow_private: bool) -> list[IPAddress]:
    """The addresses ``url``'s host resolves to, refused when any of them is not public."""
    host = url.raw_host.decode("ascii")
    addresses = await resolve(host, url.port or (443 if url.scheme == "https" else 80))
    if not allow_private:
        for address in addresses:
            reason = blocked_reason(address)
            if reason is not None:
                named = host if host == str(address) else f"{host} resolves to {address}, which"
                raise ToolError(
                    f"{named} is a {reason} address: fetch_url only reaches public addresses"
                )
    return addresses


@dataclass(frozen=True)
class Response:
    url: httpx.URL
    status: int
    reason: str
    content_type: str
    body: bytes
    truncated: bool
    location: str | None


async def _read_capped(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    """At most ``max_bytes`` of the body, and whether there was more; the rest is not read."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        room = max_bytes - len(body)
        if len(chunk) > room:
            body += chunk[:room]
            return bytes(body), True
        body += chunk
    return bytes(body), False


async def get_pinned(url: httpx.URL, address: IPAddress, max_bytes: int) -> Response:
    """GET ``url`` over a connection to ``address``, whatever its name resolves to now."""
    host = url.raw_host.decode("ascii")
    # A client per request: a pooled connection verified for one name must not carry
    # a request for another name on the same address.
    async with httpx.AsyncClient(
        timeout=REQUEST_TIMEOUT, follow_redirects=False, trust_env=False
    ) as client:
        request = client.build_request(
            "GET",
            url.copy_with(host=str(address)),
            headers={**HEADERS, "Host": url.netloc.decode("ascii")},
            extensions={"sni_hostname": host},
        )
        response = await client.send(request, stream=True)
        try:
            location = response.headers.get("location")
            if response.status_code in REDIRECT_STATUSES and location:
                body, truncated = b"", False
            else:
                body, truncated = await _read_capped(response, max_bytes)
        finally:
            await response.aclose()
    return Response(
        url=url,
        status=response.status_code,
        reason=response.reason_phrase,
        content_type=response.headers.get("content-type", ""),
        body=body,
        truncated=truncated,
        location=location if response.status_code in REDIRECT_STATUSES and location else None,
    )


async def fetch(url: str, max_bytes: int, allow_private: bool) -> tuple[Response, int]:
    """The response at the end of ``url``'s redirects, and how many there were."""
    current = parsed_url(url)
    for hop in range(MAX_REDIRECTS + 1):
        addresses = await checked_addresses(current, allow_private)
        response = await _get_any(current, addresses, max_bytes)
        if response.location is None:
            return response, hop
        current = parsed_url(current.join(response.location))
    raise ToolError(f"{url} redirects more than {MAX_REDIRECTS} times; not followed further")


async def _get_any(url: httpx.URL, addresses: list[IPAddress], max_bytes: int) -> Response:
    """The response from the first of ``addresses`` that accepts a connection."""
    failure: httpx.HTTPError | None = None
    for address in addresses:
        try:
            return await get_pinned(url, address, max_bytes)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            failure = error
        except httpx.HTTPError as error:
            raise ToolError(
                f"Fetching {url} failed: {str(error) or type(error).__name__}"
            ) from error
    raise ToolError(f"Cannot connect to {url.host}: {failure or 'no address'}")


class _HtmlText(HTMLParser):
    """The text of an HTML page, without scripts and styles, with blocks on lines."""

    SKIPPED = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "object"})
    BLOCKS = frozenset(
        {
            *("p", "div", "br", "hr", "li", "ul", "ol", "dl", "dt", "dd", "tr", "table"),
            *("h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "title"),
            *("section", "article", "header", "footer", "nav", "main", "aside", "form"),
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.preformatted = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIPPED:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "pre":
            self.preformatted += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "pre":
            self.preformatted = max(0, self.preformatted - 1)

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        # Outside <pre>, line breaks in the source are spaces, like any other whitespace.
        self.parts.append(data if self.preformatted else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Plain text of ``html``: a line per block, runs of spaces as one, no empty lines."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _media_type(content_type: str) -> tuple[str, str]:
    """The media type and charset of a Content-Type header (utf-8 when none or unknown)."""
    media, *parameters = (part.strip() for part in content_type.split(";"))
    charset = "utf-8"
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or charset
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    return media.lower(), charset


def body_text(body: bytes, content_type: str) -> str:
    """The body as the model should read it: text, HTML as plain text, binary as a note."""
    media, charset = _media_type(content_type)
    textual = (
        media.startswith("text/")
        or media in TEXT_TYPES
        or media.endswith(("+json", "+xml"))
        or (not media and b"\x00" not in body[:8192])
    )
    if media in HTML_TYPES:
        return html_to_text(body.decode(charset, errors="replace"))
    if textual:
        return body.decode(charset, errors="replace")
    return f"[binary content ({media or 'unknown type'}), {len(body)} bytes read; not shown]"


def report(response: Response, redirects: int, max_bytes: int) -> str:
    lines = [
        f"Status: {response.status} {response.reason}".rstrip(),
        f"Content-Type: {response.content_type or '(none)'}",
        f"URL: {response.url}",
    ]
    if redirects:
        lines.append(f"Redirects followed: {redirects}")
    lines += ["", body_text(response.body, response.content_type)]
    if response.truncated:
        lines.append(f"[response cut: only the first {max_bytes} bytes were read]")
    return "\n".join(lines)


def fetch_tool(settings: Settings) -> Tool:
    """``fetch_url``, refusing every call unless enabled on the server and the project."""
    limit = settings.fetch_url_max_bytes

    async def handler(args: dict[str, Any], context: ToolContext) -> str:
        if not settings.fetch_url_enabled:
            raise ToolError("fetch_url is disabled on this server (ROOST_FETCH_URL_ENABLED)")
        if not context.policy.allow_network:
            raise ToolError("The project's sandbox policy does not allow network access")
        url = args.get("url")
        if not isinstance(url, str) or not url.strip():
            raise ToolError("url must be a non-empty string")
        max_bytes = args.get("max_bytes", limit)
        if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 1:
            raise ToolError("max_bytes must be a positive integer")
        max_bytes = min(max_bytes, limit)
        response, redirects = await fetch(url.strip(), max_bytes, settings.fetch_url_allow_private)
        return report(response, redirects, max_bytes)

    return Tool(
        "fetch_url",
        "Fetch an http(s) URL and return its status, content type, final URL and text "
        f"(HTML as plain text). Reads at most {limit} bytes; follows up to "
        f"{MAX_REDIRECTS} redirects.",
        _schema(limit),
        handler,
        requires_approval="fetch_url" in settings.tools_requiring_approval,
        output_cap_bytes=settings.tool_output_cap_bytes,
    )
