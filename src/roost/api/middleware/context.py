"""The outermost layer of every HTTP request: request id, body limit, last-resort errors.

Pure ASGI, so streamed responses pass through untouched.
"""

import logging
import re
import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roost import ids
from roost.errors import ApiError, InternalError, PayloadTooLarge, envelope
from roost.logs import request_id as request_id_var

log = logging.getLogger("roost.http")

SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
# Where an inner layer leaves headers for every response, errors included, in the
# scope's state: a list of (name, value) byte pairs (the rate limits' X-RateLimit-*).
RESPONSE_HEADERS = "response_headers"


class _BodyTooLarge(Exception):
    pass


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = request_id_var.set(request_id)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 0
        received = 0
        too_large = False
        id_header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if too_large:
                # The app answered a body it could not finish reading; answer 413 instead.
                if message["type"] == "http.response.start" and status == 0:
                    status = 413
                    await _send_error(send, self._too_large(), request_id, state)
                return
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    id_header,
                    *state.get(RESPONSE_HEADERS, ()),
                ]
            await send(message)

        async def receive_limited() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    too_large = True
                    raise _BodyTooLarge
            return message

        try:
            if _declared_length(scope) > self.max_body_bytes:
                too_large = True
                raise _BodyTooLarge
            await self.app(scope, receive_limited, send_with_id)
        except _BodyTooLarge:
            if status == 0:
                status = 413
                await _send_error(send, self._too_large(), request_id, state)
        except ApiError as refused:  # by an inner layer, before any response began
            if status == 0:
                status = refused.status
                await _send_error(send, refused, request_id, state)
        except Exception:
            log.exception(
                "unhandled error", extra={"path": scope["path"], "request_id": request_id}
            )
            if status == 0:
                status = 500
                error = InternalError("Internal server error")
                await _send_error(send, error, request_id, state)
        finally:
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "request_id": request_id,
                },
            )
            request_id_var.reset(token)

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"Request body is larger than {self.max_body_bytes} bytes",
            details={"limit_bytes": self.max_body_bytes},
        )


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if SANE_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return ids.new_id("req")


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


async def _send_error(send: Send, error: ApiError, request_id: str, state: dict[str, Any]) -> None:
    body = orjson.dumps(envelope(error, request_id))
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
                *state.get(RESPONSE_HEADERS, ()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
