"""Stream reader benchmark: the CPU a streamed token costs on the way in from a model.

Starts ``roost fake-llm`` in its own process, pacing its tokens so that each arrives in a
chunk of its own (as a real model's do), then reads the same streams in this process
three ways, in turns, and reports this process's CPU time per event:

- *SDK*: the ``openai`` SDK's ``with_streaming_response`` (its request building and its
  HTTP stack), raw SSE lines parsed by Roost's own parser: how Roost read streams before;
- *Roost*: ``OpenAICompatProvider.stream``, as turns use it now (aiohttp, the same parser);
- *bare*: aiohttp and the parser with nothing around them, the floor.

Not part of the test suite; run it by hand (all traffic stays on the loopback interface):

    .venv/bin/python bench/bench_stream_reader.py [--streams 20] [--tokens 1000] [--rounds 3]
"""

import argparse
import asyncio
import contextlib
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import aiohttp
import httpx

try:
    import uvloop
except ImportError:  # pragma: no cover - uvicorn[standard] brings it
    uvloop = None  # type: ignore[assignment]
import openai
import orjson

from roost.engine.providers.base import ChatMessage, ModelRequest
from roost.engine.providers.openai_compat import ChunkParser, OpenAICompatProvider, request_body
from roost.engine.providers.wire import SseLines

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import free_port, roost_command

KEY = "bench-key"
REQUEST = ModelRequest(model="fake-small", messages=[ChatMessage("user", "bench stream")])


@contextlib.contextmanager
def running_fake(tokens: int, delay_ms: float) -> Iterator[str]:
    port = free_port()
    command = [*roost_command(), "fake-llm", "--port", str(port), "--tokens", str(tokens)]
    command += ["--token-delay-ms", str(delay_ms), "--ttft-ms", "0"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/_fake/stats", timeout=1).status_code == 200:
                    break
            time.sleep(0.05)
        yield f"{url}/v1"
    finally:
        process.terminate()
        process.wait(timeout=10)


def parse(chunk: bytes, lines: SseLines, parser: ChunkParser) -> int:
    return sum(len(parser.feed(payload)) for payload in lines.feed(chunk))


async def through_sdk(client: openai.AsyncOpenAI) -> int:
    lines, parser = SseLines(), ChunkParser("bench")
    events = 0
    async with client.chat.completions.with_streaming_response.create(
        **request_body(REQUEST)
    ) as response:
        async for chunk in response.iter_bytes():
            events += parse(chunk, lines, parser)
    return events + len(parser.finish())


async def through_roost(provider: OpenAICompatProvider) -> int:
    return len([event async for event in provider.stream(REQUEST)])


async def bare(session: aiohttp.ClientSession, url: str) -> int:
    lines, parser = SseLines(), ChunkParser("bench")
    events = 0
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    body = orjson.dumps(request_body(REQUEST))
    async with session.post(f"{url}/chat/completions", data=body, headers=headers) as response:
        async for chunk in response.content.iter_any():
            events += parse(chunk, lines, parser)
    return events + len(parser.finish())


async def measure(args: argparse.Namespace, url: str) -> dict[str, list[float]]:
    client = openai.AsyncOpenAI(api_key=KEY, base_url=url, max_retries=0)
    provider = OpenAICompatProvider("bench", base_url=url, api_key=KEY)
    session = aiohttp.ClientSession()
    ways: dict[str, Callable[[], Awaitable[int]]] = {
        "SDK": lambda: through_sdk(client),
        "Roost": lambda: through_roost(provider),
        "bare": lambda: bare(session, url),
    }
    costs: dict[str, list[float]] = {name: [] for name in ways}
    try:
        for round_number in range(args.rounds + 1):  # the first round warms up
            for name, way in ways.items():
                started = time.process_time()
                counts = await asyncio.gather(*(way() for _ in range(args.streams)))
                spent = time.process_time() - started
                if round_number:
                    costs[name].append(spent / sum(counts) * 1e6)
    finally:
        await client.close()
        await provider.aclose()
        await session.close()
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=20, help="Streams read at once.")
    parser.add_argument("--tokens", type=int, default=1000, help="Tokens in each stream.")
    parser.add_argument("--delay-ms", type=float, default=1.0, help="Pacing between tokens.")
    parser.add_argument("--rounds", type=int, default=3, help="Measured rounds each way.")
    args = parser.parse_args()
    with running_fake(args.tokens, args.delay_ms) as url:
        # uvloop when there is one, as under `roost serve`.
        costs = (uvloop.run if uvloop is not None else asyncio.run)(measure(args, url))
    print(f"{args.streams} streams at once, {args.tokens} tokens each, {args.delay_ms:g} ms apart")
    print("| Reader | CPU µs per event, median | range |")
    print("| --- | ---: | ---: |")
    for name, samples in costs.items():
        low, high = min(samples), max(samples)
        print(f"| {name} | {statistics.median(samples):.1f} | {low:.1f}-{high:.1f} |")


if __name__ == "__main__":
    main()
