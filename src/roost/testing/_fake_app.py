"""The fake LLM as a raw ASGI app: both providers' wire formats and the ``/_fake`` control API.

Raw ASGI (no framework) because the streams need exact control: paced frames, a watch on
the client that wakes the sender the moment the connection closes, and a deliberate cut.
"""

import asyncio
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send

from roost.testing import _fake_anthropic as anthropic_wire
from roost.testing import _fake_embeddings as embeddings
from roost.testing import _fake_openai as openai_wire
from roost.testing._fake_checks import check_request
from roost.testing._fake_script import Api, Plan, plan_answer
from roost.testing._fake_state import FakeState, Outcome, RecordedRequest

MAX_BATCH = 256  # frames sent in one write when the sender is behind schedule
CREDENTIAL_HEADERS = frozenset({"authorization", "x-api-key"})
JSON = (b"content-type", b"application/json")
SSE = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache")]
FAULT_MESSAGES = {
    401: "Incorrect API key provided (fake fault).",
    429: "Rate limit reached (fake fault).",
    500: "The server had an error while processing your request (fake fault).",
}


class DeliberateDrop(Exception):
    """Raised to make uvicorn close the connection mid-response, as a "drop" fault asks."""


class _HideDeliberateDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DeliberateDrop))


def _install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HideDeliberateDrops) for f in logger.filters):
        logger.addFilter(_HideDeliberateDrops())


class ClientWatch:
    """Notices the client leaving (or the server stopping) and wakes a sleeping sender at once."""

    __slots__ = ("_loop", "_task", "_wake", "client_gone", "stopping")

    def __init__(self, receive: Receive) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake: asyncio.Future[None] | None = None
        self.client_gone = False
        self.stopping = False
        self._task = self._loop.create_task(self._watch(receive))

    @property
    def gone(self) -> bool:
        return self.client_gone or self.stopping

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.client_gone = True
        self._wake_up()

    def stop(self) -> None:
        self.stopping = True
        self._wake_up()

    def _wake_up(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    async def sleep(self, delay: float | None) -> None:
        """Sleep ``delay`` seconds (None: until woken), ending early when the client goes."""
        if self.gone or (delay is not None and delay <= 0):
            return
        self._wake = self._loop.create_future()
        timer = None if delay is None else self._loop.call_later(delay, _resolve, self._wake)
        try:
            await self._wake
        finally:
            if timer is not None:
                timer.cancel()
            self._wake = None

    def close(self) -> None:
        self._task.cancel()


def _resolve(future: "asyncio.Future[None]") -> None:
    if not future.done():
        future.set_result(None)


class FakeLLMApp:
    """Answers model calls from the state's script; ``stop_all`` ends every pending response."""

    def __init__(self, state: FakeState) -> None:
        self.state = state
        self._watches: set[ClientWatch] = set()
        _install_log_filter()

    def stop_all(self) -> None:
        """Wake every waiting response so the server can stop (call on the server's loop)."""
        for watch in list(self._watches):
            watch.stop()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if path.startswith("/_fake/"):
            await self._control(path, method, receive, send)
            return
        route = path[3:] if path.startswith("/v1/") else path
        api: Api = (
            "anthropic" if route == "/messages" or "anthropic-version" in headers else "openai"
        )
        if method == "POST" and route in ("/chat/completions", "/messages"):
            await self._model_call(api, path, headers, receive, send)
        elif method == "GET" and route == "/models":
            await self._models(api, headers, send)
        elif method == "POST" and route == "/embeddings":
            await self._embeddings(headers, receive, send)
        else:
            await _error(send, api, 404, f"Unknown request URL: {method} {path}")

    async def _recorded(
        self, api: Api, path: str, headers: dict[str, str], receive: Receive, send: Send
    ) -> tuple[dict[str, Any], int] | None:
        """The request's JSON body, recorded, and its serial number; None once a 400 (not
        a JSON object) or a 401 (no API key) has been answered."""
        try:
            body = orjson.loads(await _read_body(receive))
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict):
            await _error(send, api, 400, "The request body is not a JSON object.")
            return None
        auth = _auth(headers)
        serial = self.state.record(
            RecordedRequest(
                api=api,
                path=path,
                model=body.get("model"),
                stream=body.get("stream") is True,
                auth=auth,
                headers={k: v for k, v in headers.items() if k not in CREDENTIAL_HEADERS},
                body=body,
            )
        )
        if auth is None:
            await _error(send, api, 401, "You didn't provide an API key.")
            return None
        return body, serial

    async def _model_call(
        self, api: Api, path: str, headers: dict[str, str], receive: Receive, send: Send
    ) -> None:
        recorded = await self._recorded(api, path, headers, receive, send)
        if recorded is None:
            return
        body, serial = recorded
        problem = check_request(api, body)
        if problem is not None:
            await _error(send, api, 400, problem)
            return
        reply = self.state.take_reply(api, body)
        plan = plan_answer(api, body, reply, self.state.config, serial)
        if isinstance(plan.fault, int):
            message = FAULT_MESSAGES.get(plan.fault, f"Fake fault {plan.fault}.")
            await _error(send, api, plan.fault, message, plan.retry_after)
        elif body.get("stream") is True:
            await self._stream(plan, body, receive, send)
        else:
            await self._complete(plan, receive, send)

    async def _embeddings(self, headers: dict[str, str], receive: Receive, send: Send) -> None:
        """Deterministic vectors (see _fake_embeddings); counted as requests, not answers."""
        recorded = await self._recorded("openai", "/v1/embeddings", headers, receive, send)
        if recorded is None:
            return
        try:
            result = embeddings.answer(recorded[0])
        except embeddings.EmbeddingRequestError as refused:
            await _error(send, "openai", 400, str(refused))
            return
        await _respond(send, 200, orjson.dumps(result))

    def _reset(self) -> dict[str, bool]:
        self.state.reset()
        return {"reset": True}

    def _watch(self, receive: Receive) -> ClientWatch:
        watch = ClientWatch(receive)
        self._watches.add(watch)
        return watch

    def _unwatch(self, watch: ClientWatch) -> None:
        watch.close()
        self._watches.discard(watch)

    async def _stream(
        self, plan: Plan, body: Mapping[str, Any], receive: Receive, send: Send
    ) -> None:
        self.state.stream_opened()
        watch = self._watch(receive)
        outcome: Outcome = "aborted"
        started = False
        try:
            if plan.fault != "hang" or plan.fault_after_tokens is not None:
                await send({"type": "http.response.start", "status": 200, "headers": SSE})
                started = True
            outcome = await self._send_stream(plan, _frames(plan, body), watch, send)
            if watch.stopping and not watch.client_gone:
                await _finish_for_shutdown(send, plan.api, started)
        finally:
            self._unwatch(watch)
            self.state.stream_closed(outcome)
        if outcome == "dropped":
            raise DeliberateDrop

    async def _send_stream(
        self, plan: Plan, frames: Iterator[bytes], watch: ClientWatch, send: Send
    ) -> Outcome:
        limit = (plan.fault_after_tokens or 0) if plan.fault in ("drop", "hang") else None
        await _pace(frames, plan, limit, watch, send)
        if plan.fault == "hang":
            await watch.sleep(None)
        if watch.gone:
            return "aborted"
        if plan.fault == "drop":
            return "dropped"
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return "completed"

    async def _complete(self, plan: Plan, receive: Receive, send: Send) -> None:
        watch = self._watch(receive)
        try:
            if plan.fault == "hang":
                await watch.sleep(None)
            else:
                await watch.sleep(plan.ttft + plan.token_delay * plan.token_count)
            if watch.gone:
                if not watch.client_gone:
                    await _finish_for_shutdown(send, plan.api, started=False)
                return
        finally:
            self._unwatch(watch)
        wire = openai_wire.completion_body if plan.api == "openai" else anthropic_wire.message_body
        content = wire(plan)
        if plan.fault == "drop":
            # Promise the whole body, deliver half of it, then cut the connection.
            length = (b"content-length", str(len(content)).encode())
            await send({"type": "http.response.start", "status": 200, "headers": [JSON, length]})
            body = content[: len(content) // 2]
            await send({"type": "http.response.body", "body": body, "more_body": True})
            raise DeliberateDrop
        await _respond(send, 200, content)

    async def _models(self, api: Api, headers: dict[str, str], send: Send) -> None:
        if _auth(headers) is None:
            await _error(send, api, 401, "You didn't provide an API key.")
            return
        wire = openai_wire.models_body if api == "openai" else anthropic_wire.models_body
        await _respond(send, 200, wire(self.state.config.models))

    async def _control(self, path: str, method: str, receive: Receive, send: Send) -> None:
        actions: dict[tuple[str, str], Callable[[Any], Any]] = {
            ("POST", "/_fake/replies"): lambda body: {
                "queued": self.state.add_replies(_replies(body))
            },
            ("POST", "/_fake/config"): lambda body: asdict(self.state.configure(body or {})),
            ("GET", "/_fake/config"): lambda _: asdict(self.state.config),
            ("POST", "/_fake/reset"): lambda _: self._reset(),
            ("GET", "/_fake/stats"): lambda _: self.state.stats().as_dict(),
        }
        action = actions.get((method, path))
        if action is None:
            await _respond(send, 404, orjson.dumps({"error": f"no {method} {path}"}))
            return
        raw = await _read_body(receive)
        try:
            result = action(orjson.loads(raw) if raw.strip() else None)
        except (ValueError, TypeError) as exc:
            await _respond(send, 400, orjson.dumps({"error": str(exc)}))
            return
        await _respond(send, 200, orjson.dumps(result))


def _frames(plan: Plan, body: Mapping[str, Any]) -> Iterator[bytes]:
    if plan.api == "anthropic":
        return anthropic_wire.stream_frames(plan)
    options = body.get("stream_options")
    include_usage = isinstance(options, Mapping) and options.get("include_usage") is True
    return openai_wire.stream_frames(plan, include_usage)


async def _pace(
    frames: Iterator[bytes], plan: Plan, limit: int | None, watch: ClientWatch, send: Send
) -> None:
    """Send frame i at ttft + i x delay; frames already due when the sender wakes go together."""
    loop = asyncio.get_running_loop()
    start = loop.time() + plan.ttft
    delay = plan.token_delay
    sent = 0
    frame = next(frames, None)
    while frame is not None and (limit is None or sent < limit):
        wait = start + sent * delay - loop.time()
        if wait > 0:
            await watch.sleep(wait)
        if watch.gone:
            return
        now = loop.time()
        batch = [frame]
        sent += 1
        frame = next(frames, None)
        while (
            frame is not None
            and len(batch) < MAX_BATCH
            and (limit is None or sent < limit)
            and start + sent * delay <= now
        ):
            batch.append(frame)
            sent += 1
            frame = next(frames, None)
        chunk = batch[0] if len(batch) == 1 else b"".join(batch)
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
        if wait <= 0:
            await asyncio.sleep(0)  # let other streams and the client watch run


async def _finish_for_shutdown(send: Send, api: Api, started: bool) -> None:
    if started:
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    else:
        await _error(send, api, 503, "The fake LLM is shutting down.")


def _auth(headers: Mapping[str, str]) -> str | None:
    bearer = headers.get("authorization", "")
    if bearer[:7].lower() == "bearer " and bearer[7:].strip():
        return "bearer"
    return "x-api-key" if headers.get("x-api-key", "").strip() else None


def _replies(body: Any) -> list[Mapping[str, Any]]:
    if isinstance(body, Mapping) and isinstance(body.get("replies"), list):
        return list(body["replies"])
    if isinstance(body, list):
        return body
    if isinstance(body, Mapping):
        return [body]
    raise ValueError("post a reply object, a list of them, or {'replies': [...]}")


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _respond(send: Send, status: int, content: bytes, *extra: tuple[bytes, bytes]) -> None:
    length = (b"content-length", str(len(content)).encode())
    await send({"type": "http.response.start", "status": status, "headers": [JSON, length, *extra]})
    await send({"type": "http.response.body", "body": content})


async def _error(
    send: Send, api: Api, status: int, message: str, retry_after: float | None = None
) -> None:
    body = (openai_wire if api == "openai" else anthropic_wire).error_body(status, message)
    extra = [] if retry_after is None else [(b"retry-after", _seconds(retry_after).encode())]
    await _respond(send, status, body, *extra)


def _seconds(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
