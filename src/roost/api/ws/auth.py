"""Who opens a WebSocket, checked before it is accepted: the credential HTTP takes (the
``Authorization`` header, ``X-API-Key``, the login cookie) or ``?token=`` (a browser
cannot set headers on a WebSocket), and, since a browser sends the cookie along to any
page's socket, an ``Origin`` that is this server's own or an allowed CORS origin."""

from urllib.parse import urlsplit

from starlette.websockets import WebSocket

from roost.api.deps import client_address, credential_of, services_of
from roost.errors import Unauthorized
from roost.services.caller import Caller


async def caller_of(websocket: WebSocket) -> Caller:
    """The caller, or :class:`Unauthorized`."""
    services = services_of(websocket)
    credential = credential_of(websocket) or websocket.query_params.get("token")
    if credential:
        return await services.auth.authenticate(credential, client_address(websocket))
    if services.settings.auth_mode == "local":
        return services.auth.local_owner()
    raise Unauthorized("A valid credential is required")


def origin_allowed(websocket: WebSocket, cors_origins: list[str]) -> bool:
    """No ``Origin`` (not a browser), the server's own, or one CORS allows."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    if origin in cors_origins or "*" in cors_origins:
        return True
    host = websocket.headers.get("host", "")
    return bool(host) and urlsplit(origin).netloc.lower() == host.lower()
