"""A fake upstream LLM over real HTTP, speaking the OpenAI and Anthropic wire formats.

In a test::

    with FakeLLM() as fake:  # or ``async with``; a uvicorn thread on a free loopback port
        fake.add_replies({"text": "Hi there!"}, {"tool_calls": [{"name": "ls", "arguments": {}}]})
        openai = AsyncOpenAI(base_url=fake.url, api_key=fake.api_key)
        anthropic = AsyncAnthropic(base_url=fake.root_url, api_key=fake.api_key)
        ...
        await fake.wait_for(lambda stats: stats.streams_open == 0)

From another process: ``roost fake-llm --port 8790``, then the same calls over HTTP:
``POST /_fake/replies``, ``POST /_fake/config``, ``POST /_fake/reset``, ``GET /_fake/stats``.

A reply is a JSON object; every key is optional:

- ``text``: the answer, streamed one word (with its spaces) per token; ``tokens``: without
  ``text``, that many deterministic filler tokens; ``thinking``: reasoning streamed first
  (OpenAI ``delta.reasoning_content``, Anthropic ``thinking`` blocks).
- ``tool_calls``: ``[{"name", "arguments": {...} or raw JSON text, "id"?}]``, streamed in
  fragments after the text; they make the finish ``tool_calls`` / ``tool_use``.
- ``finish``: ``"stop"`` or ``"length"``; a request's ``max_tokens`` also cuts the answer.
- ``usage``: ``{"input_tokens", "output_tokens"}`` overrides (counted otherwise).
- ``match``: only a request whose system prompt or messages contain this text takes the
  reply; ``for_model``: only a request for this model (the ``model`` it sends). Other
  requests take the first reply without either, else the default reply.
- ``ttft_ms``, ``token_delay_ms``: pacing for this reply; ``model``: the model name answered.
- ``fault``: an HTTP status (401, 429, 500, …; ``retry_after`` seconds sets ``retry-after``)
  in the provider's error shape; ``"drop"``: send ``fault_after_tokens`` tokens (default 0),
  then cut the connection; ``"hang"``: send nothing (or ``fault_after_tokens`` tokens, then
  nothing more) until the client goes away.

``POST /v1/embeddings`` answers in OpenAI's shape (``float`` or ``base64``), with
deterministic vectors in which texts that share words lie close (see _fake_embeddings).

With the queue empty the answer is ``Echo: <first words of the last user message>`` and
filler, ``tokens`` tokens in all. A request without an API key (Bearer or ``x-api-key``)
gets 401 without taking a reply.
"""

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, ClassVar, Self

import uvicorn

from roost.testing._fake_app import FakeLLMApp
from roost.testing._fake_script import FakeConfig
from roost.testing._fake_state import FakeState, FakeStats


def create_app(config: FakeConfig | None = None) -> FakeLLMApp:
    """The fake as an ASGI app, to serve with any ASGI server."""
    return FakeLLMApp(FakeState(config or FakeConfig()))


def serve(*, host: str = "127.0.0.1", port: int = 8790, config: FakeConfig | None = None) -> None:
    """Serve the fake until interrupted (``roost fake-llm``)."""
    uvicorn.run(create_app(config), host=host, port=port, access_log=False, lifespan="off")


class FakeLLM:
    """A fake LLM server in a background thread; ``url`` is for OpenAI clients.

    ``url`` ends in ``/v1`` (OpenAI clients' base URL); ``root_url`` has no path (Anthropic
    clients' base URL). Any non-empty key is accepted; ``api_key`` is a handy one.
    """

    api_key: ClassVar[str] = "fake-key"

    def __init__(
        self,
        *,
        tokens: int = 20,
        token_delay_ms: float = 0.0,
        ttft_ms: float = 0.0,
        models: tuple[str, ...] = FakeConfig.models,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        config = FakeConfig(tokens=tokens, token_delay_ms=token_delay_ms, ttft_ms=ttft_ms)
        self.app = FakeLLMApp(FakeState(config.updated({"models": models})))
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.root_url}/v1"

    def start(self) -> Self:
        """Listen on ``host``:``port`` (a free port when 0) and return once it serves."""
        if self._thread is not None:
            raise RuntimeError("the fake LLM is already running")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        self.port = listener.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._run,
            args=(self._server, listener),
            name=f"fake-llm:{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._thread = None
                raise RuntimeError("the fake LLM did not start")
            time.sleep(0.001)
        return self

    def _run(self, server: uvicorn.Server, listener: socket.socket) -> None:
        with asyncio.Runner(loop_factory=server.config.get_loop_factory()) as runner:
            runner.run(self._serve(server, listener))
        listener.close()

    async def _serve(self, server: uvicorn.Server, listener: socket.socket) -> None:
        # uvicorn's own serve() polls for exit every 0.1 s and sleeps 0.1 s more on shutdown;
        # tests start and stop many fakes, so this drives its start-up and shutdown directly.
        self._stopping = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        server.config.load()
        server.lifespan = server.config.lifespan_class(server.config)
        await server.startup(sockets=[listener])
        await self._stopping.wait()
        self.app.stop_all()
        for listening in server.servers:
            listening.close()
        for connection in list(server.server_state.connections):
            connection.shutdown()
        deadline = time.monotonic() + 1
        while server.server_state.connections and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.001)  # uvicorn has no event for "all connections closed"

    def stop(self) -> None:
        """End pending responses, stop the server and wait for its thread."""
        if self._thread is None:
            return
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=10)
        self._thread = self._server = self._loop = self._stopping = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return self.start()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)

    def add_replies(self, *replies: Mapping[str, Any]) -> int:
        """Queue replies (see the module docstring); returns how many are queued."""
        return self.app.state.add_replies(replies)

    def configure(self, **changes: Any) -> FakeConfig:
        """Change ``tokens``, ``token_delay_ms``, ``ttft_ms``, ``models`` or ``keep_requests``."""
        return self.app.state.configure(changes)

    def reset(self) -> None:
        """Forget replies, counters and recorded requests; restore the initial config."""
        self.app.state.reset()

    def stats(self) -> FakeStats:
        return self.app.state.stats()

    async def wait_for(
        self, predicate: Callable[[FakeStats], bool], within: float = 2.0
    ) -> FakeStats:
        """Poll the stats until ``predicate`` holds; TimeoutError after ``within`` seconds."""
        deadline = time.monotonic() + within
        while True:
            stats = self.stats()
            if predicate(stats):
                return stats
            if time.monotonic() > deadline:
                counters = {k: v for k, v in stats.as_dict().items() if k != "last_requests"}
                raise TimeoutError(f"the fake LLM's stats never matched: {counters}")
            await asyncio.sleep(0.005)
