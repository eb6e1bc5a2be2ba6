"""``Idempotency-Key`` on POSTs (API.md §1): a pure-ASGI layer, since it must see the raw
body (to tell a retry from a different request under the same key) and the whole answer
(to keep it), streams included.

A retry of a request that is still running is refused (409); of one that ended with
2xx, answered again from the store (``Idempotent-Replayed: true``); of one that failed,
run again. A streamed turn is not kept as bytes: its retry follows the same turn's event
log from the start, so nothing is lost and no second turn starts.

This layer answers before the route's own checks, so it answers only the credential that
sent the first request, with the rights it had then (any other is refused). And an
answer marked ``Cache-Control: no-store`` (a new key's secret, tokens) is never kept:
its retry gets 409 saying the work was done, never the secret.
"""

import hashlib
import re
from collections.abc import Iterable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roost.api.deps import optional_caller
from roost.api.middleware.error_handlers import render
from roost.api.middleware.rate_limits import is_event_stream
from roost.api.sse import SESSION_HEADER, TURN_HEADER
from roost.errors import (
    ApiError,
    IdempotencyAnswerNotKept,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
)
from roost.services.idempotency import MAX_STORED_BYTES, Attempt, IdempotencyStore
from roost.store.models import IdempotencyKey

HEADER = b"idempotency-key"
REPLAYED = (b"idempotent-replayed", b"true")
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # printable ASCII, no spaces; also in the document
VALID_KEY = re.compile(KEY_PATTERN)


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope["headers"], HEADER) if scope["type"] == "http" else None
        if key is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        caller = await optional_caller(request)
        if caller.anonymous:  # nobody to keep it for (sign-up, log-in): no retry to match
            await self.app(scope, receive, send)
            return
        if not VALID_KEY.fullmatch(key):
            await render(request, InvalidIdempotencyKey())(scope, receive, send)
            return
        body = await _whole_body(receive)
        attempt = Attempt(
            caller.user_id,
            caller.principal,
            caller.acts_as_admin,
            key,
            "POST",
            scope["path"],
            hashlib.sha256(body).hexdigest(),
        )
        store: IdempotencyStore = scope["app"].state.services.idempotency
        found = await store.claim(attempt)
        if found is not None:
            refusal = _refusal(attempt, found)
            if refusal is not None:
                await render(request, refusal)(scope, receive, send)
            else:
                await _replay(self.app, scope, receive, send, found)
            return
        await _first(self.app, scope, body, receive, send, store, attempt)


async def _first(
    app: ASGIApp,
    scope: Scope,
    body: bytes,
    receive: Receive,
    send: Send,
    store: IdempotencyStore,
    attempt: Attempt,
) -> None:
    """Run the request, keeping its answer (or its turn) when it succeeds."""
    given = False
    status = 0
    content_type: str | None = None
    kept = bytearray()
    settled = False

    async def body_once() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    async def keep(message: Message) -> None:
        nonlocal status, content_type, settled
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = message.get("headers", ())
            content_type = _header(headers, b"content-type")
            turn_id = _header(headers, TURN_HEADER.lower().encode())
            session_id = _header(headers, SESSION_HEADER.lower().encode())
            if _secret(headers) and 200 <= status < 300:
                settled = True
                await store.withhold(attempt, status)
            elif is_event_stream(message) and 200 <= status < 300:
                # A stream is kept as the turn it follows, named before any event is sent.
                settled = True
                if turn_id and session_id:
                    turn = {"session_id": session_id, "turn_id": turn_id}
                    await store.finish(attempt, status_code=status, turn=turn)
                else:
                    await store.forget(attempt)
        elif message["type"] == "http.response.body" and not settled:
            kept.extend(message.get("body", b"")[: MAX_STORED_BYTES + 1 - len(kept)])
            if not message.get("more_body", False):
                settled = True
                if 200 <= status < 300 and len(kept) <= MAX_STORED_BYTES:
                    await store.finish(
                        attempt, status_code=status, content_type=content_type, body=bytes(kept)
                    )
                else:
                    await store.forget(attempt)
        await send(message)

    try:
        await app(scope, body_once, keep)
    finally:
        if not settled:
            await store.forget(attempt)


def _refusal(attempt: Attempt, found: IdempotencyKey) -> ApiError | None:
    if not attempt.comes_as(found):  # says nothing of the first request
        return IdempotencyKeyReused(
            "This Idempotency-Key was used through another credential, or with other "
            "rights; use a new key"
        )
    if not attempt.asks_the_same_as(found):
        return IdempotencyKeyReused(
            "This Idempotency-Key was used for a different request; use a new key",
            details={"path": found.path},
        )
    if found.state == "withheld":
        return IdempotencyAnswerNotKept(found.status_code)
    if found.state != "done":
        return IdempotencyKeyInUse()
    return None


async def _replay(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, found: IdempotencyKey
) -> None:
    """The first answer again: stored bytes, or the turn's event log from its start."""

    async def marked(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), REPLAYED]
        await send(message)

    if found.turn:
        prefix = "/api/v1" if scope["path"].startswith("/api/v1/") else "/api"
        path = f"{prefix}/sessions/{found.turn['session_id']}/turns/{found.turn['turn_id']}/events"
        events = {
            **scope,
            "method": "GET",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(k, v) for k, v in scope["headers"] if k != b"content-length"],
        }

        asked = False

        async def no_body() -> Message:
            nonlocal asked
            if not asked:
                asked = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return await receive()  # the client leaving ends the stream

        await app(events, no_body, marked)
        return
    body = found.body or b""
    headers = [(b"content-length", str(len(body)).encode())]
    if found.content_type:
        headers.append((b"content-type", found.content_type.encode()))
    await marked({"type": "http.response.start", "status": found.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _whole_body(receive: Receive) -> bytes:
    """The request body (its size is bounded by the request-context layer outside)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _secret(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether a response says it must not be stored (``Cache-Control: no-store``)."""
    return any(
        b"no-store" in (directive.strip() for directive in value.lower().split(b","))
        for name, value in headers
        if name.lower() == b"cache-control"
    )


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    """A header's value from a request scope's or a response's raw headers."""
    for key, value in headers:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None
