"""Turn benchmark: what Roost adds on the token path, against calling the upstream directly.

Starts the fake upstream LLM (``roost fake-llm``) and a real ``roost serve`` as separate
processes, then, per backend, in one run:

1. time to first token over sequential short turns, through Roost (``POST
   /api/sessions/{id}/messages`` as SSE, a fresh session per turn) and directly from the
   fake's ``/v1/chat/completions`` (``stream: true``), interleaved;
2. a long answer (2,000 tokens, no pacing) end to end: tokens per second through Roost's
   SSE stream against the fake's own stream, and the server's CPU per token;
3. many concurrent streaming turns (one session each, 5 ms per token): errors, time to
   first token, wall time, aggregate tokens per second and the server's peak RSS; the same
   load sent directly to the fake is the baseline.

Every stream is checked: a 200, ``seq`` from 1 without gaps, the text equal to the fake's
deterministic default answer, and ``done {status: completed}`` last. Results are printed
and written into the ``bench_turns`` section of ``docs/benchmarks.md``.

Not part of the test suite; run it by hand:

    .venv/bin/python bench/bench_turns.py [--backend sqlite|postgres|both] [--turns 200]
        [--concurrency 200] [--tokens 2000] [--concurrent-tokens 150] [--repeats 5]

PostgreSQL runs use the server at ``ROOST_BENCH_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``): a ``roost_bench_<random>`` database
is created there and dropped at the end. ``--profile DIR`` also records the server with
py-spy during the long answer and the concurrent turns (the numbers are then perturbed,
so nothing is written); py-spy is not a project dependency: ``.venv/bin/pip install
py-spy`` first. All traffic stays on the loopback interface.
"""

import argparse
import asyncio
import contextlib
import gc
import math
import os
import platform
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy.engine import make_url

from roost.config import DEFAULT_AGENT

# The fake's own definitions (its default answer, its batching), so the bench cannot
# drift from what the fake does.
from roost.testing._fake_app import MAX_BATCH
from roost.testing._fake_script import default_text

try:
    import uvloop
except ImportError:  # pragma: no cover - uvicorn[standard] brings it
    uvloop = None  # type: ignore[assignment]
from harness import (
    DEFAULT_POSTGRES_URL,
    DOC,
    ROOT,
    create_database,
    drop_database,
    free_port,
    plain,
    roost_command,
    write_section,
)

MODEL = "fake-small"
API_KEY = "bench-key"
SHORT_TOKENS = 20  # a short answer, for time to first token
FAKE_FRAMES_PER_WRITE = MAX_BATCH  # frames the fake sends at once when behind schedule
LOAD_TOKEN_DELAY_MS = 5.0
WARMUP_TURNS = 10
AIM_ADDED_TTFT_MS = 5.0
AIM_RATE_SHARE = 0.80
HEALTH_TIMEOUT_S = 120.0
PHASE_BUDGET_S = 600.0  # no phase may take longer than this: something is broken
READ_TIMEOUT_S = 60.0  # longer than a heartbeat (15 s), so a stalled stream still ends
TURN_TIMEOUT_S = 120.0  # heartbeats keep a stuck turn's stream open: bound each turn too
SAMPLE_EVERY_S = 0.05  # RSS sampling during the concurrent phase
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SHOWN_ERRORS = 5


# --- processes -----------------------------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    """This shell's environment without settings that would change what Roost talks to."""
    prefixes = ("ROOST_", "OPENAI_", "ANTHROPIC_", "OLLAMA_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    return {**env, **extra}


def spawn(command: list[str], folder: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A child process whose output goes to ``folder/process.log``; cwd is the folder,
    so no roost.toml from the caller's folder is read."""
    folder.mkdir(parents=True, exist_ok=True)
    log = (folder / "process.log").open("ab")
    return subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)


def spawn_fake(folder: Path, port: int) -> subprocess.Popen[bytes]:
    """The fake upstream in its own process, so its CPU is not charged to the client."""
    command = [*roost_command(), "fake-llm", "--port", str(port)]
    command += ["--tokens", str(SHORT_TOKENS), "--token-delay-ms", "0", "--ttft-ms", "0"]
    return spawn(command, folder, clean_env())


def spawn_server(
    home: Path, database_url: str | None, port: int, fake_url: str
) -> subprocess.Popen[bytes]:
    command = [*roost_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--home", str(home)]
    if database_url is not None:
        command += ["--database-url", database_url]
    env = clean_env(
        OPENAI_BASE_URL=f"{fake_url}/v1", OPENAI_API_KEY=API_KEY, ROOST_DEFAULT_MODEL=MODEL
    )
    return spawn(command, home, env)


def wait_ready(process: subprocess.Popen[bytes], url: str, folder: Path) -> None:
    """Poll ``url`` until it answers 200, the process dies, or time runs out."""
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{url}: process exited {process.returncode}\n{tail(folder)}")
            with contextlib.suppress(httpx.TransportError):
                if client.get(url).status_code == 200:
                    return
            time.sleep(0.01)
    raise RuntimeError(f"{url}: not ready after {HEALTH_TIMEOUT_S:.0f} s\n{tail(folder)}")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def tail(folder: Path, lines: int = 30) -> str:
    log = folder / "process.log"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


@contextlib.contextmanager
def running_fake(folder: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = spawn_fake(folder, port)
    try:
        wait_ready(process, f"{url}/_fake/stats", folder)
        yield url
    finally:
        stop_process(process)


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


@contextlib.contextmanager
def running_server(home: Path, database_url: str | None, fake_url: str) -> Iterator[Server]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = spawn_server(home, database_url, port, fake_url)
    try:
        wait_ready(process, f"{url}/api/health", home)
        # The console script execs Python itself, so this pid is the server process.
        yield Server(url, process.pid)
    finally:
        stop_process(process)


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in KiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (10 ms resolution)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@contextlib.contextmanager
def profiled(folder: Path | None, pid: int, name: str) -> Iterator[None]:
    """py-spy on the server while the block runs, when ``--profile`` asked for it."""
    if folder is None:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    py_spy = Path(sys.executable).parent / "py-spy"
    command = [str(py_spy if py_spy.exists() else "py-spy"), "record", "--pid", str(pid)]
    command += ["--format", "raw", "--rate", "250", "--output", str(folder / f"{name}.txt")]
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # py-spy needs a moment to attach
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)  # py-spy writes its output, then exits
        recorder.wait(timeout=60)
        print(f"  profile written to {folder / f'{name}.txt'}")


# --- backends --------------------------------------------------------------------------


@dataclass
class Backend:
    name: str  # "sqlite" or "postgres"
    label: str  # for the report, with the version
    serve_url: str | None  # what `roost serve --database-url` gets; None: its default SQLite
    cleanup: Callable[[], None] = lambda: None


def sqlite_backend() -> Backend:
    return Backend(name="sqlite", label=f"SQLite {sqlite3.sqlite_version} (WAL)", serve_url=None)


def postgres_backend() -> Backend:
    admin = make_url(os.environ.get("ROOST_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    if admin.host not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("ROOST_BENCH_POSTGRES_URL must point at the loopback interface")
    name = f"roost_bench_{secrets.token_hex(4)}"
    version = asyncio.run(create_database(plain(admin), name))

    def drop() -> None:
        asyncio.run(drop_database(plain(admin), name))
        print(f"dropped database {name}")

    print(f"created database {name}")
    return Backend(
        name="postgres",
        label=f"PostgreSQL {version}",
        serve_url=plain(admin.set(database=name)),
        cleanup=drop,
    )


# --- reading streams -------------------------------------------------------------------


@dataclass
class Stream:
    """What one streamed answer looked like from the client; times in seconds from send."""

    ttft: float | None = None
    last_token: float | None = None
    end: float = 0.0
    tokens: int = 0  # text events (Roost) or content deltas (direct)
    text: list[str] = field(default_factory=list)
    error: str | None = None


async def sse_payloads(response: httpx.Response) -> AsyncIterator[bytes]:
    """The ``data:`` payloads of an SSE body, in order (one data line per event)."""
    rest = b""
    async for chunk in response.aiter_bytes():
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        for line in lines:
            if line.startswith(b"data:"):
                yield line[5:].strip()


async def read_roost(response: httpx.Response, started: float, expected: str) -> Stream:
    """Roost's events: time the text, check seq is 1, 2, 3, … and ``done`` is last."""
    stream = Stream()
    seq = 0
    last: dict[str, Any] = {}
    async for payload in sse_payloads(response):
        event = orjson.loads(payload)
        if event["type"] == "heartbeat":
            continue  # not in the log, no seq of its own
        seq += 1
        if event["seq"] != seq and stream.error is None:
            stream.error = f"seq {event['seq']} where {seq} was due"
        if event["type"] == "text":
            now = time.perf_counter() - started
            stream.ttft = now if stream.ttft is None else stream.ttft
            stream.last_token = now
            stream.tokens += 1
            stream.text.append(event["content"])
        last = event
    stream.end = time.perf_counter() - started
    if stream.error is None:
        stream.error = roost_problem(last, "".join(stream.text), expected)
    return stream


def roost_problem(last: dict[str, Any], text: str, expected: str) -> str | None:
    if last.get("type") != "done" or last.get("status") != "completed":
        return f"stream ended with {last.get('type')} {last.get('status') or last.get('code')}"
    return text_problem(text, expected)


def text_problem(text: str, expected: str) -> str | None:
    if text != expected:
        return f"text of {len(text)} chars differs from the expected {len(expected)}"
    return None


async def read_direct(response: httpx.Response, started: float, expected: str) -> Stream:
    """The fake's Chat Completions chunks: time the content deltas, expect ``[DONE]``."""
    stream = Stream()
    done = False
    async for payload in sse_payloads(response):
        if payload == b"[DONE]":
            done = True
            continue
        for choice in orjson.loads(payload).get("choices") or ():
            content = (choice.get("delta") or {}).get("content")
            if content:
                now = time.perf_counter() - started
                stream.ttft = now if stream.ttft is None else stream.ttft
                stream.last_token = now
                stream.tokens += 1
                stream.text.append(content)
    stream.end = time.perf_counter() - started
    stream.error = text_problem("".join(stream.text), expected) if done else "no [DONE]"
    return stream


# --- one turn ------------------------------------------------------------------------


def prompt(index: int) -> str:
    return f"bench turn {index}"


def expected_answer(index: int, tokens: int) -> str:
    """The fake's default answer to ``prompt(index)``: echo, then filler, ``tokens`` long."""
    body = {"messages": [{"role": "user", "content": prompt(index)}]}
    return "".join(default_text(body, tokens))


async def new_session(client: httpx.AsyncClient) -> str:
    response = await client.post("/api/sessions", json={"title": "bench"})
    response.raise_for_status()
    return str(response.json()["id"])


async def roost_turn(client: httpx.AsyncClient, session: str, index: int, tokens: int) -> Stream:
    """One turn as SSE, checked against the fake's default answer to its prompt."""
    request = client.build_request(
        "POST",
        f"/api/sessions/{session}/messages",
        json={"content": prompt(index)},
        headers={"Accept": "text/event-stream"},
    )
    return await timed_stream(client, request, read_roost, expected_answer(index, tokens))


async def direct_turn(client: httpx.AsyncClient, index: int, tokens: int) -> Stream:
    """The same question straight to the fake, shaped like the request Roost sends."""
    body = {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": DEFAULT_AGENT.preamble},
            {"role": "user", "content": prompt(index)},
        ],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    request = client.build_request("POST", "/v1/chat/completions", json=body)
    return await timed_stream(client, request, read_direct, expected_answer(index, tokens))


Reader = Callable[[httpx.Response, float, str], Coroutine[Any, Any, Stream]]


async def timed_stream(
    client: httpx.AsyncClient, request: httpx.Request, read: Reader, expected: str
) -> Stream:
    """Send ``request`` and read its stream, timed from the send; failures come back as
    ``error`` so that one bad stream among many is counted, not fatal."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(TURN_TIMEOUT_S):
            response = await client.send(request, stream=True)
            try:
                if response.status_code != 200:
                    await response.aread()
                    return Stream(error=f"{response.status_code} {response.text[:200]}")
                return await read(response, started, expected)
            finally:
                await response.aclose()
    except httpx.HTTPError as failure:
        return Stream(error=f"{type(failure).__name__}: {failure}")
    except (ValueError, KeyError) as failure:  # a frame that is not the JSON it should be
        return Stream(error=f"malformed event: {type(failure).__name__}: {failure}")
    except TimeoutError:
        return Stream(error=f"no end within {TURN_TIMEOUT_S:.0f} s")


def must(stream: Stream, what: str) -> Stream:
    """Sequential phases stop at the first bad stream: their figures would be meaningless."""
    if stream.error is not None:
        raise RuntimeError(f"{what}: {stream.error}")
    return stream


async def configure_fake(client: httpx.AsyncClient, tokens: int, delay_ms: float) -> None:
    body = {"tokens": tokens, "token_delay_ms": delay_ms, "ttft_ms": 0}
    response = await client.post("/_fake/config", json=body)
    response.raise_for_status()


@contextlib.contextmanager
def no_client_gc() -> Iterator[None]:
    """Keep this process's collector out of the clock, so pauses that remain are the server's."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# --- phase 1: time to first token -------------------------------------------------------


@dataclass
class Ttft:
    roost_ms: list[float] = field(default_factory=list)
    direct_ms: list[float] = field(default_factory=list)
    server_cpu_s: float = 0.0  # the server's CPU during the Roost turns, in all

    @property
    def server_cpu_ms_per_turn(self) -> float:
        return self.server_cpu_s / len(self.roost_ms) * 1000


async def measure_ttft(
    roost: httpx.AsyncClient, fake: httpx.AsyncClient, server: Server, turns: int
) -> Ttft:
    """Sequential short turns, Roost and direct interleaved so both see the same noise.

    A fresh session per turn (created off the clock) keeps every turn the same: one
    session would grow its history, which each turn reads. The server's CPU per turn
    tells work from waiting.
    """
    await configure_fake(fake, SHORT_TOKENS, 0)
    for index in range(WARMUP_TURNS):
        must(await roost_turn(roost, await new_session(roost), index, SHORT_TOKENS), "warm-up")
        must(await direct_turn(fake, index, SHORT_TOKENS), "warm-up direct")
    result = Ttft()
    with no_client_gc():
        for index in range(turns):
            session = await new_session(roost)
            cpu = cpu_seconds(server.pid)
            turn = must(await roost_turn(roost, session, index, SHORT_TOKENS), "roost turn")
            result.server_cpu_s += cpu_seconds(server.pid) - cpu
            direct = must(await direct_turn(fake, index, SHORT_TOKENS), "direct turn")
            result.roost_ms.append((turn.ttft or 0) * 1000)
            result.direct_ms.append((direct.ttft or 0) * 1000)
    return result


# --- phase 2: one long answer -----------------------------------------------------------


@dataclass
class LongAnswer:
    tokens: int
    roost: list[Stream] = field(default_factory=list)
    direct: list[Stream] = field(default_factory=list)
    server_cpu_s: float = 0.0  # the server's CPU over all Roost repetitions
    client_cpu_s: dict[str, float] = field(default_factory=lambda: {"roost": 0.0, "direct": 0.0})

    def median_rate(self, streams: list[Stream]) -> float:
        return statistics.median(self.tokens / s.end for s in streams)

    def median_ms(self, streams: list[Stream], moment: Callable[[Stream], float | None]) -> float:
        return statistics.median(moment(s) or 0.0 for s in streams) * 1000

    def per_token_us(self, seconds: float) -> float:
        return seconds / (len(self.roost) * self.tokens) * 1e6


async def measure_long(
    roost: httpx.AsyncClient, fake: httpx.AsyncClient, server: Server, args: argparse.Namespace
) -> LongAnswer:
    """A ``--tokens`` answer with no pacing, timed from the request to the end of its stream.

    The CPU of the server and of this client are summed around each stream, to tell
    whose work the time is.
    """
    await configure_fake(fake, args.tokens, 0)
    must(await roost_turn(roost, await new_session(roost), 0, args.tokens), "warm-up")
    must(await direct_turn(fake, 0, args.tokens), "warm-up direct")
    result = LongAnswer(args.tokens)
    with profiled(args.profile, server.pid, "long-answer"), no_client_gc():
        for index in range(args.repeats):
            session = await new_session(roost)
            server_cpu, client_cpu = cpu_seconds(server.pid), time.process_time()
            turn = await roost_turn(roost, session, index, args.tokens)
            result.client_cpu_s["roost"] += time.process_time() - client_cpu
            result.server_cpu_s += cpu_seconds(server.pid) - server_cpu
            result.roost.append(must(turn, "long roost turn"))
            client_cpu = time.process_time()
            direct = await direct_turn(fake, index, args.tokens)
            result.client_cpu_s["direct"] += time.process_time() - client_cpu
            result.direct.append(must(direct, "long direct"))
    return result


# --- phase 3: concurrent turns ----------------------------------------------------------


@dataclass
class Load:
    label: str
    turns: int
    tokens_each: int
    streams: list[Stream]
    wall_s: float
    rss_before_kib: int = 0
    rss_peak_kib: int = 0
    server_cpu_s: float = 0.0

    @property
    def errors(self) -> list[str]:
        return [s.error for s in self.streams if s.error is not None]

    @property
    def ttft_ms(self) -> list[float]:
        return [s.ttft * 1000 for s in self.streams if s.ttft is not None and s.error is None]

    @property
    def tokens(self) -> int:
        return sum(s.tokens for s in self.streams if s.error is None)


async def gather_streams(turns: list[Coroutine[Any, Any, Stream]]) -> tuple[list[Stream], float]:
    """Start every stream at once; the wall time runs from the first send to the last end."""
    started = time.perf_counter()
    async with asyncio.timeout(PHASE_BUDGET_S):
        streams = await asyncio.gather(*turns)
    return list(streams), time.perf_counter() - started


async def sample_rss(pid: int, peak: list[int]) -> None:
    """VmRSS every ``SAMPLE_EVERY_S``, as a cross-check of the kernel's VmHWM."""
    while True:
        peak[0] = max(peak[0], memory_kib(pid)["VmRSS"])
        await asyncio.sleep(SAMPLE_EVERY_S)


async def measure_load(server: Server, fake_url: str, args: argparse.Namespace) -> Load:
    """``--concurrency`` turns at once, one session each, ``LOAD_TOKEN_DELAY_MS`` per token."""
    tokens = args.concurrent_tokens
    async with fake_client(fake_url) as fake, wide_client(server.url) as roost:
        await configure_fake(fake, tokens, LOAD_TOKEN_DELAY_MS)
        sessions = [await new_session(roost) for _ in range(args.concurrency)]
        before = memory_kib(server.pid)["VmRSS"]
        cpu = cpu_seconds(server.pid)
        peak = [before]
        sampler = asyncio.create_task(sample_rss(server.pid, peak))
        try:
            with profiled(args.profile, server.pid, "concurrent"), no_client_gc():
                streams, wall = await gather_streams(
                    [roost_turn(roost, s, i, tokens) for i, s in enumerate(sessions)]
                )
        finally:
            sampler.cancel()
        load = Load("Roost", args.concurrency, tokens, streams, wall, before)
        load.server_cpu_s = cpu_seconds(server.pid) - cpu
        load.rss_peak_kib = max(peak[0], memory_kib(server.pid)["VmHWM"])
    return load


async def measure_direct_load(fake_url: str, args: argparse.Namespace) -> Load:
    """The same load straight to the fake: what the client and the fake manage alone."""
    tokens = args.concurrent_tokens
    async with fake_client(fake_url) as fake:
        await configure_fake(fake, tokens, LOAD_TOKEN_DELAY_MS)
        with no_client_gc():
            streams, wall = await gather_streams(
                [direct_turn(fake, i, tokens) for i in range(args.concurrency)]
            )
    return Load("direct to the fake", args.concurrency, tokens, streams, wall)


@contextlib.asynccontextmanager
async def wide_client(base_url: str, connections: int = 1000) -> AsyncIterator[httpx.AsyncClient]:
    """A client that opens a connection per concurrent stream instead of queueing them."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    timeout = httpx.Timeout(READ_TIMEOUT_S, connect=30.0, pool=PHASE_BUDGET_S)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as client:
        yield client


@contextlib.asynccontextmanager
async def fake_client(fake_url: str, connections: int = 1000) -> AsyncIterator[httpx.AsyncClient]:
    """The fake wants an API key; Roost (local mode on loopback) must get none, since a
    credential sent to it is always checked."""
    async with wide_client(fake_url, connections) as client:
        client.headers["Authorization"] = f"Bearer {API_KEY}"
        yield client


# --- one backend, start to end ----------------------------------------------------------


@dataclass
class BackendResult:
    label: str
    ttft: Ttft
    long: LongAnswer
    load: Load
    direct_load: Load


async def run_phases(
    label: str, server: Server, fake_url: str, args: argparse.Namespace
) -> BackendResult:
    async with wide_client(server.url, 4) as roost, fake_client(fake_url, 4) as fake:
        print(f"  time to first token: {args.turns} sequential turns each way", flush=True)
        async with asyncio.timeout(PHASE_BUDGET_S):
            ttft = await measure_ttft(roost, fake, server, args.turns)
        print(f"  {ttft_row('', ttft)}", flush=True)
        print(f"  {args.tokens:,}-token answer, {args.repeats} times each way", flush=True)
        async with asyncio.timeout(PHASE_BUDGET_S):
            long = await measure_long(roost, fake, server, args)
    print(f"  {long_row('', long)}", flush=True)
    print(f"  {args.concurrency} concurrent turns, direct then through Roost", flush=True)
    direct_load = await measure_direct_load(fake_url, args)
    load = await measure_load(server, fake_url, args)
    print(f"  {load_row(direct_load)}\n  {load_row(load)}", flush=True)
    for error in load.errors[:SHOWN_ERRORS] + direct_load.errors[:SHOWN_ERRORS]:
        print(f"  error: {error}")
    return BackendResult(label, ttft, long, load, direct_load)


def run_backend(
    backend: Backend, fake_url: str, args: argparse.Namespace, work: Path
) -> BackendResult:
    print(f"\n== {backend.label}")
    home = work / f"home-{backend.name}"
    with running_server(home, backend.serve_url, fake_url) as server:
        result: BackendResult = new_loop_run(run_phases(backend.label, server, fake_url, args))
    if result.load.errors:
        # The work folder goes at the end: show why now, while the log is still there.
        print(f"  server log, errors and warnings:\n{server_problems(home)}")
    return result


def server_problems(home: Path, limit: int = 20) -> str:
    """The server's error and warning lines (JSON logs), the last ``limit`` of them."""
    log = home / "process.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    found = [line for line in lines if '"level":"error"' in line or '"level":"warning"' in line]
    return "\n".join(line[:2000] for line in found[-limit:]) or "(none)"


def new_loop_run(coroutine: Any) -> Any:
    """uvloop when there is one: the client shares the cores, so it should cost little."""
    factory = uvloop.new_event_loop if uvloop is not None else None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coroutine)


# --- reporting -------------------------------------------------------------------------


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)  # nearest rank
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else math.nan


def ttft_row(label: str, ttft: Ttft) -> str:
    roost50, direct50 = statistics.median(ttft.roost_ms), statistics.median(ttft.direct_ms)
    roost99, direct99 = percentile(ttft.roost_ms, 0.99), percentile(ttft.direct_ms, 0.99)
    return (
        f"| {label} | {direct50:.2f} | {roost50:.2f} | {roost50 - direct50:+.2f} | "
        f"{direct99:.2f} | {roost99:.2f} | {roost99 - direct99:+.2f} | "
        f"{ttft.server_cpu_ms_per_turn:.1f} |"
    )


def long_row(label: str, long: LongAnswer) -> str:
    direct, roost = long.median_rate(long.direct), long.median_rate(long.roost)
    direct_ms = long.median_ms(long.direct, lambda s: s.end)
    moments = [
        long.median_ms(long.roost, moment)
        for moment in (lambda s: s.ttft, lambda s: s.last_token, lambda s: s.end)
    ]
    client = [long.per_token_us(long.client_cpu_s[path]) for path in ("direct", "roost")]
    return (
        f"| {label} | {direct:,.0f} | {roost:,.0f} | {roost / direct:.0%} | {direct_ms:,.0f} | "
        f"{' / '.join(f'{ms:,.0f}' for ms in moments)} | "
        f"{long.per_token_us(long.server_cpu_s):.0f} | {client[0]:.0f} / {client[1]:.0f} |"
    )


def load_row(load: Load, label: str | None = None) -> str:
    ttft = load.ttft_ms
    rss = f"{load.rss_before_kib / 1024:.0f} → {load.rss_peak_kib / 1024:.0f}"
    cpu = f"{load.server_cpu_s / max(1, load.tokens) * 1e6:.0f}" if load.server_cpu_s else "n/a"
    return (
        f"| {label or load.label} | {len(load.errors)} of {load.turns} | "
        f"{percentile(ttft, 0.5):,.0f} | {percentile(ttft, 0.99):,.0f} | {load.wall_s:.1f} | "
        f"{load.tokens / load.wall_s:,.0f} | {cpu} | {rss if load.rss_peak_kib else 'n/a'} |"
    )


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    cores = len(os.sched_getaffinity(0))
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cores} cores (`nproc`), {model}, {memory:.0f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def code_under_test() -> str:
    """The Roost being measured: its version, and its commit when it is a git checkout."""
    import roost

    folder = Path(roost.__file__).parent
    label = f"Roost {roost.__version__}"
    try:
        commit = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return label
    return f"{label} at commit `{commit}`" + (" with uncommitted changes" if changed else "")


def command_line(args: argparse.Namespace) -> str:
    return (
        f".venv/bin/python bench/bench_turns.py --backend {args.backend} --turns {args.turns} "
        f"--concurrency {args.concurrency} --tokens {args.tokens} "
        f"--concurrent-tokens {args.concurrent_tokens} --repeats {args.repeats}"
    )


def report(results: list[BackendResult], args: argparse.Namespace) -> str:
    lines = [
        "## Turns: what Roost adds between the model and the client",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}; {code_under_test()}. "
        f"The 1-minute load average was {args.load_before:.2f} before the run: other work on "
        "this machine (e.g. test suites) shares the cores and makes the figures noisier.",
        "",
        "The fake upstream (`roost fake-llm`) and a real `roost serve` (pointed at it by "
        "`OPENAI_BASE_URL`) run as separate processes; one `httpx` client process on uvloop "
        "drives both, so client, server, fake and PostgreSQL share the same two cores. "
        "*Direct* means the client calls the fake's `/v1/chat/completions` itself with "
        "`stream: true` and the body Roost would send; *Roost* means `POST "
        "/api/sessions/{id}/messages` with `Accept: text/event-stream`. Every stream is "
        "checked: a 200, event `seq` from 1 without gaps, the text equal to the fake's "
        "deterministic answer, `done {status: completed}` last (direct: the same text, then "
        "`[DONE]`). The client's garbage collector is off while timing.",
        "",
        "Reproduce with:",
        "",
        "```sh",
        command_line(args),
        "```",
        *ttft_section(results, args),
        *long_section(results, args),
        *load_section(results, args),
        *aims_section(results),
        *FINDINGS,
    ]
    return "\n".join(lines)


def ttft_section(results: list[BackendResult], args: argparse.Namespace) -> list[str]:
    return [
        "",
        "### Time to first token",
        "",
        f"{args.turns} sequential short turns ({SHORT_TOKENS} tokens, no pacing) each way, "
        f"after {WARMUP_TURNS} warm-up turns, Roost and direct interleaved. Each Roost turn "
        "gets a fresh session (created off the clock), so no turn reads a longer history "
        "than another. Time from sending the request to the first `text` event (Roost) or "
        "the first content delta (direct), in ms. *Server CPU* is the `roost serve` "
        "process's user + system time per Roost turn, start to `done` (10 ms clock ticks, "
        "summed over all turns).",
        "",
        "| Backend | direct p50 | Roost p50 | added p50 | direct p99 | Roost p99 | added p99 "
        "| server CPU ms/turn |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(ttft_row(r.label, r.ttft) for r in results),
    ]


def long_section(results: list[BackendResult], args: argparse.Namespace) -> list[str]:
    return [
        "",
        f"### A {args.tokens:,}-token answer",
        "",
        f"One answer of {args.tokens:,} tokens with no pacing from the fake, {args.repeats} "
        "times each way (a fresh session each time), timed from sending the request to the "
        "end of the stream (Roost: `done`; direct: `[DONE]`); medians. *Roost ms* is the "
        "time to the first token / the last token / `done`. Roost sends one `text` event per "
        "token. *Server CPU* is the `roost serve` process's user + system time during the "
        "Roost runs, per token; *client CPU* is this client's, direct / Roost.",
        "",
        "| Backend | direct tok/s | Roost tok/s | Roost / direct | direct ms | Roost ms "
        "| server CPU µs/token | client CPU µs/token |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(long_row(r.label, r.long) for r in results),
    ]


def load_section(results: list[BackendResult], args: argparse.Namespace) -> list[str]:
    ideal = args.concurrent_tokens * LOAD_TOKEN_DELAY_MS / 1000
    rows = []
    for result in results:
        rows.append(load_row(result.direct_load, f"direct, during the {result.label} run"))
        rows.append(load_row(result.load, f"Roost, {result.label}"))
    return [
        "",
        f"### {args.concurrency} concurrent turns",
        "",
        f"{args.concurrency} streaming turns started at once, one session each (created "
        f"beforehand), {args.concurrent_tokens} tokens each at {LOAD_TOKEN_DELAY_MS:g} ms per "
        f"token (so {ideal:.2f} s per answer if nothing waited), each on its own connection. "
        "An error is any failure to connect, non-200, seq gap, wrong text or a stream that "
        "does not end with `done {status: completed}`. Time to first token in ms; wall time "
        "from the first request to the last stream's end; tokens/s is all tokens received "
        "over the wall time. RSS is the server's resident memory before the burst → its peak "
        "(the larger of `VmHWM` and VmRSS sampled every 50 ms), in MiB.",
        "",
        "| Path | errors | TTFT p50 | TTFT p99 | wall s | tokens/s | server CPU µs/token "
        "| server RSS MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
    ]


def aims_section(results: list[BackendResult]) -> list[str]:
    lines = ["", "### Against the aims", ""]
    for result in results:
        lines += [ttft_aim(result), rate_aim(result), load_aim(result)]
    return lines


def verdict(met: bool) -> str:
    return "met" if met else "not met"


def ttft_aim(result: BackendResult) -> str:
    added = statistics.median(result.ttft.roost_ms) - statistics.median(result.ttft.direct_ms)
    line = (
        f"- **{result.label}, time to first token: {verdict(added <= AIM_ADDED_TTFT_MS)}** — "
        f"Roost adds {added:.1f} ms at the median (aim: ≤ {AIM_ADDED_TTFT_MS:.0f} ms)"
    )
    if added > AIM_ADDED_TTFT_MS:
        line += "; most of it goes to database work before the model is called (below)"
    return line + "."


def rate_aim(result: BackendResult) -> str:
    long = result.long
    share = long.median_rate(long.roost) / long.median_rate(long.direct)
    line = (
        f"- **{result.label}, {long.tokens:,}-token answer: {verdict(share >= AIM_RATE_SHARE)}"
        f"** — Roost streams at {share:.0%} of the direct rate (aim: ≥ "
        f"{AIM_RATE_SHARE:.0%}), spending "
        f"{long.per_token_us(long.server_cpu_s):.0f} µs of server CPU per token"
    )
    direct_ms = long.median_ms(long.direct, lambda s: s.end)
    short_ms = statistics.median(result.ttft.roost_ms)
    if share < AIM_RATE_SHARE and direct_ms < short_ms:
        # Say plainly when the aim is out of reach whatever the per-token cost.
        line += (
            f". Unpaced, the fake sends up to {FAKE_FRAMES_PER_WRITE} frames per write and "
            f"the whole direct answer takes {direct_ms:.0f} ms, less than Roost needs to "
            f"start a turn at all ({short_ms:.0f} ms to the first token of a short one): "
            "the aim cannot be met by a cheaper token path alone"
        )
    return line + "."


def load_aim(result: BackendResult) -> str:
    load = result.load
    errors = load.errors
    line = (
        f"- **{result.label}, {load.turns} concurrent turns: {verdict(not errors)}** — "
        f"{len(errors)} errors (aim: none)"
    )
    if errors:
        line += f"; first: `{errors[0][:160]}`"
    ideal = load.tokens_each * LOAD_TOKEN_DELAY_MS / 1000
    if load.ttft_ms:
        line += (
            f". Not errors but slow: the median first token came after "
            f"{percentile(load.ttft_ms, 0.5) / 1000:.1f} s and the burst took "
            f"{load.wall_s:.1f} s against {ideal:.2f} s if nothing waited; the server is "
            "CPU-bound (below)"
        )
    return line + "."


# Why the aims are missed. This comes from profiling by hand (``--profile``, a step trace
# of one turn, and patched servers run outside the repo), not from the run that writes the
# tables, so it is kept here as text with its date and commit: profile again and update it
# when the code on the token path changes.
FINDINGS = [
    "",
    "### Where the time goes",
    "",
    "Profiled on 2026-11-25 at commit `5a557ee` with py-spy (`--profile DIR`, 250 Hz; "
    "shares are of the samples where the server's event loop was busy), a step-by-step "
    "trace of one turn, and servers patched outside the repo (2-3 runs each way, "
    "alternating). Figures here come from those runs, not from the tables above. Run to "
    "run at that commit (4 unpatched runs of both backends), the added time to first "
    "token ranged over 15.5-20.1 ms, the 2,000-token answer over 19-24k tokens/s and "
    "the 200 concurrent turns over 2.4-3.7k tokens/s: smaller differences are noise.",
    "",
    "- **Starting and ending a turn is CPU-heavy.** A short turn runs 17 transactions "
    "(52 SQL statements); 10 of them (32 statements) come before the request to the "
    "model, which leaves about 15 ms after the message arrived (SQLite): read the "
    "session, read the user's defaults, write the turn (`TurnService._start`); read the "
    "turn again, replay its log and check it still exists for the stream (`events`, "
    "`follow`); mark it running (`_begin`), read the defaults again, commit "
    "`turn_start`, insert the empty answer (`answer_started`). The server is on the CPU "
    "for most of a short turn's wall time (*server CPU* above), so this is SQLAlchemy "
    "and driver work, not waiting, and it is nearly all of the added time to first "
    "token. Under the 200-turn load the same start and end work was 40 % of the busy "
    "loop (PostgreSQL).",
    "- **One write per token on the way out.** Each SSE frame is its own ASGI message, "
    "so each token is one `transport.write`: sending frames was 34-44 % of the busy loop "
    "in the 2,000-token answer (uvicorn's `RequestResponseCycle.send` alone 21-29 %), "
    "against 10-14 % for reading and parsing the upstream.",
    "- **A burst is stored whole before anyone sees it.** Deltas wait a fixed 5 ms while "
    "the runner reads up to 256 upstream frames at a time without yielding, so the first "
    "`text` of the 2,000-token answer reaches the client only after most of the answer "
    "is committed.",
    "- **Under load each token costs a chunk read, a commit and a write.** At 5 ms a "
    "token each token is its own upstream chunk and the 5 ms window equals the token "
    "interval, so each turn commits about once per token. With 200 turns the event loop "
    "was 94 % busy (PostgreSQL): starting and ending turns 40 %, the event log's commits "
    "20 %, reading the upstream 19 % (openai → httpx2 → httpcore2 on anyio: a cancel "
    "scope and h11 parsing per chunk), SSE out 13 %. All Python work shares one event "
    "loop, so one core is the ceiling; the load asked for 200 turns at 200 tokens/s "
    "each, and new turns wait behind the streaming ones, hence first tokens after "
    "seconds. (SQLite's profile is blurred by GIL hand-offs with aiosqlite's threads.)",
    "",
    "Patched servers (same machine and sizes, ranges over the runs):",
    "",
    "- Coalescing SSE writes (the reader takes every event already queued — the whole "
    "committed batch — and sends one chunk) and committing deltas at once when no commit "
    "is in flight (batching what arrives meanwhile): the 2,000-token answer went from "
    "19-24k to 25-35k tokens/s, its first token from 40-53 to 26-39 ms, the client's "
    "CPU from 12-14 to 2-3 µs a token. The 200 paced turns barely moved (SQLite 2.4-3.3k "
    "→ 3.0-3.7k tokens/s, PostgreSQL 3.0-3.7k → 3.8k): at 5 ms a token a commit holds "
    "about one token per turn, so there is little to coalesce.",
    "- Adding one committer for all running turns (a single transaction per round for "
    "every turn with pending deltas): 200 turns at 3.6-3.7k tokens/s on SQLite and "
    "4.2-4.5k on PostgreSQL, wall time 8.1-8.3 s and 6.7-7.2 s (from 9.2-12.3 s and "
    "8.1-10.1 s), server CPU 208-267 µs a token (from 239-347).",
    "- Committing deltas at once did not change the short-turn time to first token, and "
    "serialising SQLite writes behind one asyncio lock (tried at `208753e`) changed "
    "nothing measurable: contention for SQLite's write lock is not the bottleneck.",
    "",
    "Applied since that profile (commit `c41cf30`; the tables above measure it): SSE "
    "writes coalesced, deltas committed at once when no commit is in flight, "
    "`turn_start` written in the transaction that starts the turn, the user's defaults "
    "cached for a few seconds, and no second ownership check for a stream opened by "
    "the request that started the turn — five transactions fewer before the model call.",
    "",
    "Not yet tried, and the larger wins by the profile: fewer transactions still before "
    "the model call (the turn, the user message, the empty answer and `turn_start` in "
    "one), with the model request sent alongside it; one committer for all running "
    "turns; and a lean SSE reader for the streaming model call in place of the SDK's "
    "HTTP stack.",
]


# --- entry point -----------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--turns", type=int, default=200, help="Sequential turns for TTFT.")
    parser.add_argument("--concurrency", type=int, default=200, help="Concurrent turns.")
    parser.add_argument("--tokens", type=int, default=2000, help="Tokens in the long answer.")
    parser.add_argument(
        "--concurrent-tokens", type=int, default=150, help="Tokens in each concurrent answer."
    )
    parser.add_argument("--repeats", type=int, default=5, help="Long answers each way.")
    parser.add_argument("--profile", type=Path, help="py-spy the server into DIR; no write.")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave the doc.")
    args = parser.parse_args(argv)
    if min(args.turns, args.concurrency, args.repeats, args.tokens, args.concurrent_tokens) < 1:
        parser.error("--turns, --concurrency, --repeats and the token counts must be >= 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.load_before = os.getloadavg()[0]  # for the report: how busy the machine was
    names = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    work = Path(tempfile.mkdtemp(prefix="roost-bench-turns-"))
    results = []
    try:
        with running_fake(work / "fake") as fake_url:
            for name in names:
                backend = sqlite_backend() if name == "sqlite" else postgres_backend()
                try:
                    results.append(run_backend(backend, fake_url, args, work))
                finally:
                    backend.cleanup()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    section = report(results, args)
    print(f"\n{section}")
    if not args.no_write and args.profile is None:
        write_section("bench_turns", section)
        print(f"\nwrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
