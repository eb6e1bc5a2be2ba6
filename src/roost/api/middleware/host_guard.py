"""Without login, Roost answers only to loopback host names: a guard against DNS rebinding.

In local mode anyone who reaches the port acts as the owner. A web page on another site
can reach it too, by pointing a name of its own at 127.0.0.1 (DNS rebinding): the browser
then sends that name as ``Host`` and lets the page read the answers as its own. So a
request whose ``Host`` names anything but a loopback address, ``localhost`` (or a name under
it) or one of ``ROOST_ALLOWED_HOSTS`` is refused before any route runs (the request context
around this layer renders the error). With authentication
required the credential is the guard (a rebinding page has none), and this check is off.
"""

import ipaddress

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from roost.errors import InvalidRequest


class LoopbackHostGuard:
    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app = app
        self.allowed = {name.lower().rstrip(".") for name in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host")  # None: HTTP/1.0 without Host, no browser
        if host is None or self._allowed(host):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":  # closed before the handshake: the client sees 403
            await send({"type": "websocket.close", "code": 1008})
            return
        raise InvalidRequest(
            f"This server answers to loopback names only (Host {host!r} is not one): "
            "it runs without login; add the name to ROOST_ALLOWED_HOSTS to allow it",
            details={"host": host},
        )

    def _allowed(self, host: str) -> bool:
        name = _hostname(host)
        if name in self.allowed or name == "localhost" or name.endswith(".localhost"):
            return True
        try:
            return ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False


def _hostname(host: str) -> str:
    """``host`` without its port, brackets or final dot, in lower case."""
    if host.startswith("["):
        name = host[1 : host.find("]")] if "]" in host else host[1:]
    elif host.count(":") == 1:
        name = host.rsplit(":", 1)[0]
    else:
        name = host
    return name.lower().rstrip(".")
