"""Real servers for tests: an app under uvicorn in the test's loop, or ``roost serve``
as a child process."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from roost.testing import FakeLLM


def fake_model_env(fake: FakeLLM, **more: str) -> dict[str, str]:
    """The environment that points a ``roost serve`` at the fake model."""
    return {
        "OPENAI_BASE_URL": fake.url,
        "OPENAI_API_KEY": fake.api_key,
        "ROOST_DEFAULT_MODEL": "fake-small",
        **more,
    }


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """``app`` (already started) behind uvicorn on a free loopback port; yields its URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.005)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def roost_process(
    home: Path, env: dict[str, str], port: int | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``roost serve`` in a child process with its own home; yields it and its URL."""
    port = port or free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_") or "TEST" in k}
    clean.update({"ROOST_EMBEDDING_MODEL": "none", **env}, ROOST_CONFIG=str(home / "none.toml"))
    process = subprocess.Popen(
        [sys.executable, "-m", "roost", "serve", "--port", str(port), "--home", str(home)],
        env=clean,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise AssertionError("roost serve did not answer within 30 s")
        yield process, url
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
