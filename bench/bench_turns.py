"""Turn benchmark: what Roost adds on the token path, against calling the upstream directly.

Starts the fake upstream LLM (``roost fake-llm``) and a real ``roost serve`` as separate
processes, then, per backend, in one run (``--phases`` picks some of them):

1. ``ttft``: time to first token over sequential short turns, through Roost (``POST
   /api/sessions/{id}/messages`` as SSE, a fresh session per turn) and directly from the
   fake's ``/v1/chat/completions`` (``stream: true``), interleaved; the server's CPU per
   turn, and on PostgreSQL the transactions per turn (``pg_stat_database``);
2. ``long``: a long answer (2,000 tokens, no pacing) end to end: tokens per second through
   Roost's SSE stream against the fake's own stream, and the server's CPU per token;
3. ``load``: many concurrent streaming turns (one session each, 5 ms per token): errors,
   time to first token, wall time, aggregate tokens per second and the server's peak RSS;
   the same load sent directly to the fake is the baseline;
4. ``streams``: many streams held open (1,000 at 10 tokens/s each for 60 s): errors, time to
   first token, the server's RSS after 10 s and after the end, and its open file
   descriptors before, at the peak and after; the same load sent to the fake is the baseline;
5. ``tools``: tool round trips (the model asks for a tool, the tool runs, the model
   answers), for the built-in ``update_plan`` and for a tool of a stdio MCP server: Roost's
   whole turn against the same two model calls sent straight to the fake.

Every stream is checked: a 200, ``seq`` from 1 without gaps, the text equal to the fake's
deterministic answer, and ``done {status: completed}`` last. Results are printed and
written into the ``bench_turns`` section of ``docs/benchmarks.md``.

Not part of the test suite; run it by hand:

    .venv/bin/python bench/bench_turns.py [--backend sqlite|postgres|both]
        [--phases ttft,long,load,streams,tools] [--turns 200] [--concurrency 200]
        [--tokens 2000] [--concurrent-tokens 150] [--repeats 5] [--streams 1000]
        [--stream-rate 10] [--stream-seconds 60] [--tool-turns 30] [--no-write]

PostgreSQL runs use the server at ``ROOST_BENCH_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``): a ``roost_bench_<random>`` database
is created there and dropped at the end. ``--profile DIR`` also records the server with
py-spy during every phase (the numbers are then perturbed, so nothing is written);
py-spy is not a project dependency: ``.venv/bin/pip install py-spy`` first. All traffic
stays on the loopback interface.
"""

import argparse
import asyncio
import contextlib
import gc
import math
import os
import platform
import resource
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

import asyncpg
import httpx
import orjson
from sqlalchemy.engine import make_url

from roost.config import DEFAULT_AGENT

# The fake's own definitions (its default answer, its batching), so the bench cannot
# drift from what the fake does.
from roost.testing._fake_app import MAX_BATCH
from roost.testing._fake_script import default_text, tokenize

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
PHASES = ("ttft", "long", "load", "streams", "tools")
SHORT_TOKENS = 20  # a short answer, for time to first token
FAKE_FRAMES_PER_WRITE = MAX_BATCH  # frames the fake sends at once when behind schedule
LOAD_TOKEN_DELAY_MS = 5.0
WARMUP_TURNS = 10
# The aims of the performance issue.
AIM_ADDED_TTFT_P50_MS = 3.0  # a short turn: added time to first token
AIM_ADDED_TTFT_P99_MS = 8.0
AIM_TURN_CPU_MS = 5.0  # a short turn: server CPU
AIM_XACTS_BEFORE, AIM_XACTS_AFTER = 2, 1  # a short turn: transactions before / after
AIM_LONG_CPU_US = 60.0  # the long answer: server CPU per token
AIM_LOAD_TTFT_P99_MS = 250.0  # concurrent turns and held streams: time to first token
AIM_RATE_SHARE = 0.80  # concurrent turns: tokens/s against the direct run's
AIM_RSS_GROWTH = 0.10  # held streams: RSS after the run against its value after 10 s
RSS_EARLY_S = 10.0  # held streams: when the early RSS is read
AIM_TOOL_ADDED_MS = 10.0  # a tool round trip over its two model calls
HEALTH_TIMEOUT_S = 120.0
PHASE_BUDGET_S = 600.0  # no phase may take longer than this: something is broken
READ_TIMEOUT_S = 60.0  # longer than a heartbeat (15 s), so a stalled stream still ends
TURN_TIMEOUT_S = 120.0  # heartbeats keep a stuck turn's stream open: bound each turn too
SAMPLE_EVERY_S = 0.05  # RSS sampling during the concurrent phase
FD_SAMPLE_EVERY_S = 0.25  # open file descriptors, sampled while streams are held
# After held streams end, before the file descriptors are counted again: longer than an
# idle connection to the provider is kept (5 s, closed on the next 5 s sweep).
SETTLE_S = 12.0
STATS_FLUSH_S = 1.1  # a PostgreSQL backend flushes its counters at most once a second
FLUSH_REQUESTS = 40  # reads that make every pooled connection flush its counters
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SHOWN_ERRORS = 5
MCP_SERVER = ROOT / "tests" / "support" / "mcp_server.py"  # a small stdio MCP server
MCP_NAME = "bench"  # its tools are named bench__<tool>
TOOL_ANSWER = "The tool has answered, so here is the answer."


# --- processes -----------------------------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    """This shell's environment without settings that would change what Roost talks to."""
    prefixes = ("ROOST_", "OPENAI_", "ANTHROPIC_", "OLLAMA_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    return {**env, **extra}


def raise_fd_limit() -> tuple[int, int]:
    """Soft limit of open files up to the hard one, before any child starts: the fake
    and the server inherit it, and each held stream costs each of them a descriptor."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


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


def open_fds(pid: int) -> int:
    """How many file descriptors a process holds open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


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


class XactCounter:
    """The transactions PostgreSQL has counted for one database (``xact_commit +
    xact_rollback`` of ``pg_stat_database``), reads included.

    PostgreSQL 15 counts a backend's transactions in the backend and flushes them to
    the shared counters at the end of a transaction at most once a second (and when the
    backend exits); an idle backend keeps what it has not flushed, and a transaction
    that touched no table (such as the health check's ``SELECT 1``) does not make it
    flush. So :meth:`flushed` waits a second, then lists sessions (a read of a table on
    a pooled connection; the pool hands its idle connections out in turn) often enough
    that every pooled connection ends such a transaction and flushes. The counter is
    read from a connection to the admin database, so reading it adds nothing to the
    count.
    """

    def __init__(self, admin_dsn: str, database: str) -> None:
        self.admin_dsn = admin_dsn
        self.database = database

    async def read(self) -> int:
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            query = "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1"
            return int(await conn.fetchval(query, self.database))
        finally:
            await conn.close()

    async def flushed(self, roost: httpx.AsyncClient) -> int:
        await asyncio.sleep(STATS_FLUSH_S)
        for _ in range(FLUSH_REQUESTS):
            (await roost.get("/api/sessions", params={"limit": 1})).raise_for_status()
        await asyncio.sleep(0.2)  # a closed overflow connection's backend flushes as it exits
        return await self.read()

    async def around(self, roost: httpx.AsyncClient) -> "XactWindow":
        """Two flushed readings before the work: the second difference is what flushing
        itself costs, to take off the difference after the work."""
        first = await self.flushed(roost)
        return XactWindow(self, first, await self.flushed(roost))


@dataclass
class XactWindow:
    counter: XactCounter
    first: int
    start: int

    async def counted(self, roost: httpx.AsyncClient) -> int:
        """The transactions since ``start``, less those of one round of flushing."""
        end = await self.counter.flushed(roost)
        return (end - self.start) - (self.start - self.first)


@dataclass
class Backend:
    name: str  # "sqlite" or "postgres"
    label: str  # for the report, with the version
    serve_url: str | None  # what `roost serve --database-url` gets; None: its default SQLite
    cleanup: Callable[[], None] = lambda: None
    xacts: XactCounter | None = None  # PostgreSQL's transaction counter; SQLite has none


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
        xacts=XactCounter(plain(admin), name),
    )


# --- reading streams -------------------------------------------------------------------


@dataclass
class Stream:
    """What one streamed answer looked like from the client; times in seconds from send."""

    ttft: float | None = None
    last_token: float | None = None
    end: float = 0.0
    events: int = 0  # text events (Roost) or content deltas (direct)
    text: list[str] = field(default_factory=list)
    error: str | None = None
    tool_events: list[dict[str, Any]] = field(default_factory=list)  # Roost: tool_call, …
    tool_calls: list[str] = field(default_factory=list)  # direct: the tools asked for

    @property
    def tokens(self) -> int:
        """The fake's tokens received: Roost sends what it read at once as one event."""
        return len(tokenize("".join(self.text)))


async def sse_payloads(response: httpx.Response) -> AsyncIterator[bytes]:
    """The ``data:`` payloads of an SSE body, in order (one data line per event)."""
    rest = b""
    async for chunk in response.aiter_bytes():
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        for line in lines:
            if line.startswith(b"data:"):
                yield line[5:].strip()


async def read_roost(
    response: httpx.Response, started: float, expected: str, stream: Stream
) -> Stream:
    """Roost's events: time the text, check seq is 1, 2, 3, … and ``done`` is last."""
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
            stream.events += 1
            stream.text.append(event["content"])
        elif event["type"] in ("tool_call", "tool_result"):
            stream.tool_events.append(event)
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


async def read_direct(
    response: httpx.Response, started: float, expected: str, stream: Stream
) -> Stream:
    """The fake's Chat Completions chunks: time the content deltas, expect ``[DONE]``."""
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
                stream.events += 1
                stream.text.append(content)
    stream.end = time.perf_counter() - started
    stream.error = text_problem("".join(stream.text), expected) if done else "no [DONE]"
    return stream


async def read_direct_any(
    response: httpx.Response, started: float, expected: str, stream: Stream
) -> Stream:
    """A Chat Completions stream that may ask for tools: its text and the tools' names;
    the text is checked only when ``expected`` is not empty."""
    done = False
    async for payload in sse_payloads(response):
        if payload == b"[DONE]":
            done = True
            continue
        for choice in orjson.loads(payload).get("choices") or ():
            delta = choice.get("delta") or {}
            if delta.get("content"):
                stream.ttft = stream.ttft or time.perf_counter() - started
                stream.text.append(delta["content"])
            for call in delta.get("tool_calls") or ():
                name = (call.get("function") or {}).get("name")
                if name:
                    stream.tool_calls.append(name)
    stream.end = time.perf_counter() - started
    text = "".join(stream.text)
    stream.error = None if done else "no [DONE]"
    if stream.error is None and expected:
        stream.error = text_problem(text, expected)
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


async def roost_turn(
    client: httpx.AsyncClient,
    session: str,
    index: int,
    tokens: int,
    expected: str | None = None,
    limit_s: float = TURN_TIMEOUT_S,
) -> Stream:
    """One turn as SSE, checked against the fake's default answer to its prompt (or
    against ``expected``, the text of a scripted answer)."""
    request = client.build_request(
        "POST",
        f"/api/sessions/{session}/messages",
        json={"content": prompt(index)},
        headers={"Accept": "text/event-stream"},
    )
    if expected is None:
        expected = expected_answer(index, tokens)
    return await timed_stream(client, request, read_roost, expected, limit_s)


async def direct_turn(
    client: httpx.AsyncClient, index: int, tokens: int, limit_s: float = TURN_TIMEOUT_S
) -> Stream:
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
    expected = expected_answer(index, tokens)
    return await timed_stream(client, request, read_direct, expected, limit_s)


Reader = Callable[[httpx.Response, float, str, Stream], Coroutine[Any, Any, Stream]]


async def timed_stream(
    client: httpx.AsyncClient,
    request: httpx.Request,
    read: Reader,
    expected: str,
    limit_s: float = TURN_TIMEOUT_S,
) -> Stream:
    """Send ``request`` and read its stream, timed from the send; failures come back as
    ``error`` so that one bad stream among many is counted, not fatal."""
    started = time.perf_counter()
    stream = Stream()  # filled as the events come, so a stream cut short keeps what it got
    try:
        async with asyncio.timeout(limit_s):
            response = await client.send(request, stream=True)
            try:
                if response.status_code != 200:
                    await response.aread()
                    return Stream(error=f"{response.status_code} {response.text[:200]}")
                return await read(response, started, expected, stream)
            finally:
                await response.aclose()
    except httpx.HTTPError as failure:
        return Stream(error=f"{type(failure).__name__}: {failure}")
    except (ValueError, KeyError) as failure:  # a frame that is not the JSON it should be
        return Stream(error=f"malformed event: {type(failure).__name__}: {failure}")
    except TimeoutError:
        stream.end = time.perf_counter() - started
        stream.error = f"no end within {limit_s:.0f} s"
        return stream


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
    transactions: int | None = None  # PostgreSQL: all the turns' transactions; else None

    @property
    def server_cpu_ms_per_turn(self) -> float:
        return self.server_cpu_s / len(self.roost_ms) * 1000

    @property
    def transactions_per_turn(self) -> float | None:
        return None if self.transactions is None else self.transactions / len(self.roost_ms)

    @property
    def added_p50_ms(self) -> float:
        return statistics.median(self.roost_ms) - statistics.median(self.direct_ms)

    @property
    def added_p99_ms(self) -> float:
        return percentile(self.roost_ms, 0.99) - percentile(self.direct_ms, 0.99)


async def measure_ttft(
    roost: httpx.AsyncClient,
    fake: httpx.AsyncClient,
    server: Server,
    args: argparse.Namespace,
    xacts: XactCounter | None,
) -> Ttft:
    """Sequential short turns, Roost and direct interleaved so both see the same noise.

    A fresh session per turn (all created before the first, off the clock) keeps every
    turn the same: one session would grow its history, which each turn reads. The
    server's CPU per turn tells work from waiting. On PostgreSQL the transactions of
    the turns are counted, from before the first to after the last has ended.
    """
    await configure_fake(fake, SHORT_TOKENS, 0)
    for index in range(WARMUP_TURNS):
        must(await roost_turn(roost, await new_session(roost), index, SHORT_TOKENS), "warm-up")
        must(await direct_turn(fake, index, SHORT_TOKENS), "warm-up direct")
    result = Ttft()
    sessions = [await new_session(roost) for _ in range(args.turns)]
    window = await xacts.around(roost) if xacts is not None else None
    with profiled(args.profile, server.pid, "ttft"), no_client_gc():
        for index, session in enumerate(sessions):
            cpu = cpu_seconds(server.pid)
            turn = must(await roost_turn(roost, session, index, SHORT_TOKENS), "roost turn")
            result.server_cpu_s += cpu_seconds(server.pid) - cpu
            direct = must(await direct_turn(fake, index, SHORT_TOKENS), "direct turn")
            result.roost_ms.append((turn.ttft or 0) * 1000)
            result.direct_ms.append((direct.ttft or 0) * 1000)
    if window is not None:
        result.transactions = await window.counted(roost)
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

    @property
    def events(self) -> int:
        return sum(s.events for s in self.streams if s.error is None)


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


# --- phase 4: many streams held open ---------------------------------------------------


@dataclass
class Held(Load):
    """Streams held open: besides a load's figures, the server's RSS early and after the
    end, and its open file descriptors before, at the peak and after the end."""

    rss_early_kib: int = 0
    rss_after_kib: int = 0
    fds_before: int = 0
    fds_peak: int = 0
    fds_after: int = 0

    @property
    def first_tokens_ms(self) -> list[float]:
        """Every stream's time to first token, failed ones too; inf for one that had none."""
        return [math.inf if s.ttft is None else s.ttft * 1000 for s in self.streams]

    @property
    def received(self) -> int:
        """Tokens received, by failed streams too (a stream cut off at its time limit)."""
        return sum(s.tokens for s in self.streams)


def held_shape(args: argparse.Namespace) -> tuple[int, float, float]:
    """Tokens per stream, ms between tokens, and the longest a stream may take."""
    tokens = max(1, round(args.stream_rate * args.stream_seconds))
    return tokens, 1000 / args.stream_rate, args.stream_seconds + TURN_TIMEOUT_S


async def read_later(delay: float, read: Callable[[], int]) -> int:
    await asyncio.sleep(delay)
    return read()


async def sample_fds(pid: int, peak: list[int]) -> None:
    while True:
        peak[0] = max(peak[0], open_fds(pid))
        await asyncio.sleep(FD_SAMPLE_EVERY_S)


async def measure_held(server: Server, fake_url: str, args: argparse.Namespace) -> Held:
    """``--streams`` turns at once, one session and one connection each, the fake pacing
    each at ``--stream-rate`` tokens/s for ``--stream-seconds``.

    The sessions are made first over a client of their own, closed before the count of
    file descriptors starts; the streams' client is closed before the count after the
    end, so that only the server's own descriptors remain.
    """
    count = args.streams
    tokens, delay, limit = held_shape(args)
    async with fake_client(fake_url, 4) as fake:
        await configure_fake(fake, tokens, delay)
    async with wide_client(server.url, 4) as setup:
        sessions = [await new_session(setup) for _ in range(count)]
    pid = server.pid

    def rss() -> int:
        return memory_kib(pid)["VmRSS"]

    fds_before = open_fds(pid)
    peak = [fds_before]
    sampler = asyncio.create_task(sample_fds(pid, peak))
    try:
        async with wide_client(server.url, count) as roost:
            with profiled(args.profile, pid, "streams"), no_client_gc():
                early = asyncio.create_task(read_later(RSS_EARLY_S, rss))
                streams, wall = await gather_streams(
                    [roost_turn(roost, s, i, tokens, None, limit) for i, s in enumerate(sessions)]
                )
    finally:
        sampler.cancel()
    rss_early = await early if early.done() else rss()  # a run shorter than RSS_EARLY_S
    early.cancel()
    await asyncio.sleep(SETTLE_S)
    held = Held("Roost", count, tokens, streams, wall)
    held.rss_early_kib, held.rss_after_kib = rss_early, memory_kib(pid)["VmRSS"]
    held.fds_before, held.fds_peak, held.fds_after = fds_before, peak[0], open_fds(pid)
    return held


async def measure_direct_held(fake_url: str, args: argparse.Namespace) -> Held:
    """The same streams straight to the fake."""
    tokens, delay, limit = held_shape(args)
    async with fake_client(fake_url, args.streams) as fake:
        await configure_fake(fake, tokens, delay)
        with no_client_gc():
            streams, wall = await gather_streams(
                [direct_turn(fake, i, tokens, limit) for i in range(args.streams)]
            )
    return Held("direct to the fake", args.streams, tokens, streams, wall)


# --- phase 5: tool round trips ----------------------------------------------------------


@dataclass
class ToolTrips:
    """Sequential turns in which the model asks for one tool, then answers."""

    label: str
    tool: str
    roost_ms: list[float] = field(default_factory=list)  # request to `done`
    direct_ms: list[float] = field(default_factory=list)  # the two model calls, summed

    @property
    def added_ms(self) -> list[float]:
        return [r - d for r, d in zip(self.roost_ms, self.direct_ms, strict=True)]


def tool_replies(tool: str, arguments: dict[str, Any]) -> list[dict[str, Any]]:
    """The fake's script for one round trip: ask for the tool, then answer with text."""
    return [{"tool_calls": [{"name": tool, "arguments": arguments}]}, {"text": TOOL_ANSWER}]


async def queue_replies(fake: httpx.AsyncClient, replies: list[dict[str, Any]]) -> None:
    response = await fake.post("/_fake/replies", json={"replies": replies})
    response.raise_for_status()


async def fake_stats(fake: httpx.AsyncClient) -> dict[str, Any]:
    response = await fake.get("/_fake/stats")
    response.raise_for_status()
    return dict(response.json())


def tool_problem(turn: Stream, tool: str) -> str | None:
    """A round trip must show the call, its successful result, then the scripted answer."""
    if turn.error is not None:
        return turn.error
    kinds = [(e["type"], e.get("tool")) for e in turn.tool_events]
    if kinds != [("tool_call", tool), ("tool_result", tool)]:
        return f"tool events {kinds}, not one call of {tool} and its result"
    result = turn.tool_events[1]
    if result.get("success") is not True:
        return f"{tool} failed: {result.get('error')}"
    return None


async def tool_trip(
    roost: httpx.AsyncClient,
    fake: httpx.AsyncClient,
    index: int,
    tool: str,
    arguments: dict[str, Any],
) -> tuple[float, float]:
    """One round trip through Roost, then the same two model requests (as the fake
    recorded them) sent straight to the fake; their times in ms, to ``done`` and summed."""
    session = await new_session(roost)
    before = (await fake_stats(fake))["requests"]
    replies = tool_replies(tool, arguments)
    await queue_replies(fake, replies)
    turn = await roost_turn(roost, session, index, 0, TOOL_ANSWER)
    problem = tool_problem(turn, tool)
    stats = await fake_stats(fake)
    if problem is None and stats["requests"] - before != 2:
        problem = f"{stats['requests'] - before} model calls where 2 were due"
    if problem is not None:
        raise RuntimeError(f"{tool} round trip: {problem}")
    bodies = [request["body"] for request in stats["last_requests"][-2:]]
    await queue_replies(fake, replies)
    direct_ms = 0.0
    for body, expected in zip(bodies, ("", TOOL_ANSWER), strict=True):
        request = fake.build_request("POST", "/v1/chat/completions", json=body)
        call = must(await timed_stream(fake, request, read_direct_any, expected), "direct")
        if not expected and call.tool_calls != [tool]:
            raise RuntimeError(f"direct call asked for {call.tool_calls}, not [{tool}]")
        direct_ms += call.end * 1000
    return turn.end * 1000, direct_ms


async def register_mcp(roost: httpx.AsyncClient) -> str:
    """The tests' small stdio MCP server, run by this Python; returns its echo tool's name.

    Roost starts it on first use and keeps the one session for every later call."""
    body = {
        "name": MCP_NAME,
        "transport": "stdio",
        "command": sys.executable,
        "args": [str(MCP_SERVER)],
    }
    response = await roost.post("/api/mcp/servers", json=body)
    if response.status_code != 201:
        raise RuntimeError(f"registering the MCP server: {response.status_code} {response.text}")
    return f"{MCP_NAME}__echo"


async def measure_tools(
    roost: httpx.AsyncClient,
    fake: httpx.AsyncClient,
    server: Server,
    args: argparse.Namespace,
) -> list[ToolTrips]:
    """``--tool-turns`` round trips per tool after warm-up, Roost and direct interleaved:
    the built-in ``update_plan`` (it needs no project), then the MCP server's ``echo``."""
    await configure_fake(fake, SHORT_TOKENS, 0)
    (await fake.post("/_fake/config", json={"keep_requests": 2})).raise_for_status()
    plan = {"steps": [{"description": "Answer the bench", "status": "completed"}]}
    tools: list[tuple[str, str, dict[str, Any] | None]] = [
        ("built-in", "update_plan", plan),
        ("stdio MCP", "", None),
    ]
    results = []
    for label, name, arguments in tools:
        if not name:
            name, arguments = await register_mcp(roost), {"text": "bench"}
        assert arguments is not None
        for index in range(WARMUP_TURNS):
            await tool_trip(roost, fake, index, name, arguments)
        trips = ToolTrips(label, name)
        profile = f"tools-{label.replace(' ', '-')}"
        with profiled(args.profile, server.pid, profile), no_client_gc():
            for index in range(args.tool_turns):
                roost_ms, direct_ms = await tool_trip(roost, fake, index, name, arguments)
                trips.roost_ms.append(roost_ms)
                trips.direct_ms.append(direct_ms)
        results.append(trips)
    return results


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
    """One backend's figures; a phase left out of ``--phases`` stays None."""

    label: str
    ttft: Ttft | None = None
    long: LongAnswer | None = None
    load: Load | None = None
    direct_load: Load | None = None
    held: Held | None = None
    direct_held: Held | None = None
    tools: list[ToolTrips] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        loads = (self.load, self.direct_load, self.held, self.direct_held)
        return [error for load in loads if load is not None for error in load.errors]


async def run_phases(
    backend: Backend, server: Server, fake_url: str, args: argparse.Namespace
) -> BackendResult:
    result = BackendResult(backend.label)
    async with wide_client(server.url, 4) as roost, fake_client(fake_url, 4) as fake:
        if "ttft" in args.phases:
            print(f"  time to first token: {args.turns} sequential turns each way", flush=True)
            async with asyncio.timeout(PHASE_BUDGET_S):
                result.ttft = await measure_ttft(roost, fake, server, args, backend.xacts)
            print(f"  {ttft_row('', result.ttft)}", flush=True)
        if "long" in args.phases:
            print(f"  {args.tokens:,}-token answer, {args.repeats} times each way", flush=True)
            async with asyncio.timeout(PHASE_BUDGET_S):
                result.long = await measure_long(roost, fake, server, args)
            print(f"  {long_row('', result.long)}", flush=True)
    if "load" in args.phases:
        print(f"  {args.concurrency} concurrent turns, direct then through Roost", flush=True)
        result.direct_load = await measure_direct_load(fake_url, args)
        result.load = await measure_load(server, fake_url, args)
        print(f"  {load_row(result.direct_load)}\n  {load_row(result.load)}", flush=True)
    if "streams" in args.phases:
        print(
            f"  {args.streams} streams at {args.stream_rate:g} tokens/s for "
            f"{args.stream_seconds:g} s, direct then through Roost",
            flush=True,
        )
        result.direct_held = await measure_direct_held(fake_url, args)
        result.held = await measure_held(server, fake_url, args)
        print(f"  {held_row(result.direct_held)}\n  {held_row(result.held)}", flush=True)
    if "tools" in args.phases:
        print(f"  tool round trips: {args.tool_turns} turns per tool", flush=True)
        async with (
            wide_client(server.url, 4) as roost,
            fake_client(fake_url, 4) as fake,
            asyncio.timeout(PHASE_BUDGET_S),
        ):
            result.tools = await measure_tools(roost, fake, server, args)
        for trips in result.tools:
            print(f"  {tools_row('', trips)}", flush=True)
    for error in result.errors[:SHOWN_ERRORS]:
        print(f"  error: {error}")
    return result


def run_backend(
    backend: Backend, fake_url: str, args: argparse.Namespace, work: Path
) -> BackendResult:
    print(f"\n== {backend.label}")
    home = work / f"home-{backend.name}"
    with running_server(home, backend.serve_url, fake_url) as server:
        try:
            result: BackendResult = new_loop_run(run_phases(backend, server, fake_url, args))
        except Exception:
            print(f"  server log, errors and warnings:\n{server_problems(home)}")
            raise
    if result.errors:
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
    xacts = ttft.transactions_per_turn
    return (
        f"| {label} | {direct50:.2f} | {roost50:.2f} | {roost50 - direct50:+.2f} | "
        f"{direct99:.2f} | {roost99:.2f} | {roost99 - direct99:+.2f} | "
        f"{ttft.server_cpu_ms_per_turn:.1f} | {'n/a' if xacts is None else f'{xacts:.2f}'} |"
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
        f"{statistics.median(s.events for s in long.roost):,.0f} | "
        f"{long.per_token_us(long.server_cpu_s):.0f} | {client[0]:.0f} / {client[1]:.0f} |"
    )


def load_row(load: Load, label: str | None = None) -> str:
    ttft = load.ttft_ms
    rss = f"{load.rss_before_kib / 1024:.0f} → {load.rss_peak_kib / 1024:.0f}"
    cpu = f"{load.server_cpu_s / max(1, load.tokens) * 1e6:.0f}" if load.server_cpu_s else "n/a"
    return (
        f"| {label or load.label} | {len(load.errors)} of {load.turns} | "
        f"{percentile(ttft, 0.5):,.0f} | {percentile(ttft, 0.99):,.0f} | {load.wall_s:.1f} | "
        f"{load.tokens / load.wall_s:,.0f} | {load.tokens / max(1, load.events):.1f} | {cpu} | "
        f"{rss if load.rss_peak_kib else 'n/a'} |"
    )


def ms(value: float) -> str:
    return "never" if math.isinf(value) else f"{value:,.0f}"


def held_row(held: Held, label: str | None = None) -> str:
    ttft = held.first_tokens_ms
    server = held.fds_peak > 0
    rss = f"{held.rss_early_kib / 1024:.0f} → {held.rss_after_kib / 1024:.0f}"
    fds = f"{held.fds_before:,} / {held.fds_peak:,} / {held.fds_after:,}"
    return (
        f"| {label or held.label} | {len(held.errors)} of {held.turns} | "
        f"{ms(percentile(ttft, 0.5))} | {ms(percentile(ttft, 0.99))} | {held.wall_s:.1f} | "
        f"{held.received / held.wall_s:,.0f} | {rss if server else 'n/a'} | "
        f"{fds if server else 'n/a'} |"
    )


def tools_row(label: str, trips: ToolTrips) -> str:
    added = trips.added_ms
    return (
        f"| {label} | {trips.label} `{trips.tool}` | {statistics.median(trips.direct_ms):.1f} | "
        f"{statistics.median(trips.roost_ms):.1f} | {statistics.median(added):+.1f} | "
        f"{percentile(added, 0.99):+.1f} |"
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
    line = f".venv/bin/python bench/bench_turns.py --backend {args.backend}"
    if set(args.phases) != set(PHASES):
        line += f" --phases {','.join(args.phases)}"
    options = {
        "ttft": f"--turns {args.turns}",
        "long": f"--tokens {args.tokens} --repeats {args.repeats}",
        "load": f"--concurrency {args.concurrency} --concurrent-tokens {args.concurrent_tokens}",
        "streams": f"--streams {args.streams} --stream-rate {args.stream_rate:g} "
        f"--stream-seconds {args.stream_seconds:g}",
        "tools": f"--tool-turns {args.tool_turns}",
    }
    return " ".join([line, *(options[phase] for phase in args.phases)])


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
    ]
    sections = {
        "ttft": ttft_section,
        "long": long_section,
        "load": load_section,
        "streams": held_section,
        "tools": tools_section,
    }
    for phase in args.phases:
        lines += sections[phase](results, args)
    lines += [*aims_section(results), *FINDINGS]
    return "\n".join(lines)


def ttft_section(results: list[BackendResult], args: argparse.Namespace) -> list[str]:
    return [
        "",
        "### Time to first token",
        "",
        f"{args.turns} sequential short turns ({SHORT_TOKENS} tokens, no pacing) each way, "
        f"after {WARMUP_TURNS} warm-up turns, Roost and direct interleaved. Each Roost turn "
        "gets a fresh session (all created before the first turn), so no turn reads a longer "
        "history than another. Time from sending the request to the first `text` event "
        "(Roost) or the first content delta (direct), in ms. *Server CPU* is the `roost "
        "serve` process's user + system time per Roost turn, start to `done` (10 ms clock "
        "ticks, summed over all turns). *Transactions* is, on PostgreSQL, `xact_commit + "
        "xact_rollback` of `pg_stat_database` for Roost's database over the turns, divided by "
        "the turns: every transaction, reads included, from before the first turn to after "
        "the last one's end (PostgreSQL flushes these counters at the end of a transaction at "
        "most once a second, and only after a transaction that touched a table, so the "
        f"bench waits {STATS_FLUSH_S:g} s and sends {FLUSH_REQUESTS} `GET /api/sessions` "
        "to make every pooled connection flush; what such a round adds is measured "
        "beforehand and taken off). "
        "SQLite counts no transactions.",
        "",
        "| Backend | direct p50 | Roost p50 | added p50 | direct p99 | Roost p99 | added p99 "
        "| server CPU ms/turn | transactions/turn |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(ttft_row(r.label, r.ttft) for r in results if r.ttft is not None),
    ]


def long_section(results: list[BackendResult], args: argparse.Namespace) -> list[str]:
    return [
        "",
        f"### A {args.tokens:,}-token answer",
        "",
        f"One answer of {args.tokens:,} tokens with no pacing from the fake, {args.repeats} "
        "times each way (a fresh session each time), timed from sending the request to the "
        "end of the stream (Roost: `done`; direct: `[DONE]`); medians. *Roost ms* is the "
        "time to the first token / the last token / `done`; *text events* is how many `text` "
        "events carried the answer (Roost sends what it read from the model at once as one "
        "event). *Server CPU* is the `roost serve` process's user + system time during the "
        "Roost runs, per token; *client CPU* is this client's, direct / Roost.",
        "",
        "| Backend | direct tok/s | Roost tok/s | Roost / direct | direct ms | Roost ms "
        "| text events | server CPU µs/token | client CPU µs/token |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(long_row(r.label, r.long) for r in results if r.long is not None),
    ]


def load_section(results: list[BackendResult], args: argparse.Namespace) -> list[str]:
    ideal = args.concurrent_tokens * LOAD_TOKEN_DELAY_MS / 1000
    rows = []
    for result in results:
        if result.load is not None and result.direct_load is not None:
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
        "over the wall time; *tokens/event* is tokens over `text` events (or content deltas): "
        "Roost sends what it read from the model at once as one event, so the busier it is, "
        "the more tokens an event carries. RSS is the server's resident memory before the "
        "burst → its peak (the larger of `VmHWM` and VmRSS sampled every 50 ms), in MiB.",
        "",
        "| Path | errors | TTFT p50 | TTFT p99 | wall s | tokens/s | tokens/event "
        "| server CPU µs/token | server RSS MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
    ]


def held_section(results: list[BackendResult], args: argparse.Namespace) -> list[str]:
    tokens, _, _ = held_shape(args)
    rows = []
    for result in results:
        if result.held is not None and result.direct_held is not None:
            rows.append(held_row(result.direct_held, f"direct, during the {result.label} run"))
            rows.append(held_row(result.held, f"Roost, {result.label}"))
    return [
        "",
        f"### {args.streams:,} streams held open",
        "",
        f"{args.streams:,} streaming turns started at once, one session each (created "
        f"beforehand) and each on its own connection, the fake pacing each at "
        f"{args.stream_rate:g} tokens/s for {args.stream_seconds:g} s ({tokens:,} tokens); "
        "errors are counted as for the concurrent turns, and a stream not ended "
        f"{TURN_TIMEOUT_S:g} s after its last token was due is cut off and counted as one. "
        "Time to first token in ms, over every stream (*never*: a stream that had none "
        "before it was cut off); wall time from the first request to the last stream's end; "
        "tokens/s is all tokens received, by cut-off streams too, over the wall time. "
        "*Server RSS* is the server's "
        f"VmRSS {RSS_EARLY_S:g} s after the first request → {SETTLE_S:g} s after the last "
        "stream ended, in MiB; *server fds* is the number of its open file descriptors "
        f"before the streams / at their peak (sampled every {FD_SAMPLE_EVERY_S:g} s) / "
        f"{SETTLE_S:g} s after they ended and the client closed its connections. The bench "
        f"raises its own open-file limit to the hard limit ({args.fd_limit:,}) before it "
        "starts the fake and the server, which inherit it.",
        "",
        "| Path | errors | TTFT p50 | TTFT p99 | wall s | tokens/s | server RSS MiB | server fds |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
    ]


def tools_section(results: list[BackendResult], args: argparse.Namespace) -> list[str]:
    return [
        "",
        "### Tool round trips",
        "",
        f"{args.tool_turns} sequential turns per tool, after {WARMUP_TURNS} warm-up turns, a "
        "fresh session each: the fake first asks for one tool, then answers with a "
        "short text. *Roost* is the time from sending the message to `done`; *direct* is "
        "the two model requests Roost sent in that turn (as the fake recorded them), sent "
        "again straight to the fake right after it, each timed to `[DONE]`, summed; "
        "*added* is Roost less direct, per turn, in ms. Each turn is checked: one "
        "`tool_call` and its `tool_result` with `success: true`, the scripted text, "
        "`done {status: completed}`, two model calls. The built-in tool is `update_plan` "
        "(it needs no project); the MCP tool is `echo` of `tests/support/mcp_server.py`, "
        "registered through `POST /api/mcp/servers` as a stdio server run by the bench's "
        "Python, whose one session Roost keeps across the turns.",
        "",
        "| Backend | tool | direct p50 | Roost p50 | added p50 | added p99 |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
        *(tools_row(r.label, trips) for r in results for trips in r.tools),
    ]


def aims_section(results: list[BackendResult]) -> list[str]:
    lines = ["", "### Against the aims", ""]
    for result in results:
        if result.ttft is not None:
            lines += [ttft_aim(result.label, result.ttft), xacts_aim(result.label, result.ttft)]
        if result.long is not None:
            lines.append(long_aim(result.label, result.long))
        if result.load is not None and result.direct_load is not None:
            lines.append(load_aim(result.label, result.load, result.direct_load))
        if result.held is not None:
            lines.append(held_aim(result.label, result.held))
        lines += [tool_aim(result.label, trips) for trips in result.tools]
    return lines


def verdict(met: bool) -> str:
    return "met" if met else "not met"


def ttft_aim(label: str, ttft: Ttft) -> str:
    p50, p99, cpu = ttft.added_p50_ms, ttft.added_p99_ms, ttft.server_cpu_ms_per_turn
    met = p50 <= AIM_ADDED_TTFT_P50_MS and p99 <= AIM_ADDED_TTFT_P99_MS and cpu <= AIM_TURN_CPU_MS
    return (
        f"- **{label}, a short turn: {verdict(met)}** — Roost adds {p50:.1f} ms to the first "
        f"token at the median and {p99:.1f} ms at p99 (aim: ≤ {AIM_ADDED_TTFT_P50_MS:g} and "
        f"≤ {AIM_ADDED_TTFT_P99_MS:g} ms) and spends {cpu:.1f} ms of server CPU a turn (aim: "
        f"≤ {AIM_TURN_CPU_MS:g} ms)."
    )


def xacts_aim(label: str, ttft: Ttft) -> str:
    aim = AIM_XACTS_BEFORE + AIM_XACTS_AFTER
    per_turn = ttft.transactions_per_turn
    if per_turn is None:
        return (
            f"- **{label}, transactions a short turn: n/a** — SQLite counts no transactions "
            f"(aim: ≤ {AIM_XACTS_BEFORE} before the first token and ≤ {AIM_XACTS_AFTER} after "
            "the answer)."
        )
    return (
        f"- **{label}, transactions a short turn: {verdict(per_turn <= aim)}** — "
        f"{per_turn:.2f} a turn, reads included (aim: ≤ {AIM_XACTS_BEFORE} before the first "
        f"token and ≤ {AIM_XACTS_AFTER} after the answer, so ≤ {aim} in all; the counter "
        "gives the total only, so this verdict is on the total)."
    )


def long_aim(label: str, long: LongAnswer) -> str:
    cpu = long.per_token_us(long.server_cpu_s)
    first = long.median_ms(long.roost, lambda s: s.ttft)
    direct_end = long.median_ms(long.direct, lambda s: s.end)
    share = long.median_rate(long.roost) / long.median_rate(long.direct)
    met = cpu <= AIM_LONG_CPU_US and first < direct_end
    return (
        f"- **{label}, {long.tokens:,}-token answer: {verdict(met)}** — {cpu:.0f} µs of server "
        f"CPU a token (aim: ≤ {AIM_LONG_CPU_US:g} µs); Roost's first `text` came after "
        f"{first:.1f} ms, the direct stream's whole answer ended after {direct_end:.1f} ms "
        "(medians; aim: the first token before the answer has finished upstream). Roost "
        f"streams at {share:.0%} of the direct rate."
    )


def load_aim(label: str, load: Load, direct: Load) -> str:
    errors, p99 = load.errors, percentile(load.ttft_ms, 0.99)
    rate, direct_rate = load.tokens / load.wall_s, direct.tokens / direct.wall_s
    met = not errors and p99 <= AIM_LOAD_TTFT_P99_MS and rate >= AIM_RATE_SHARE * direct_rate
    line = (
        f"- **{label}, {load.turns} concurrent turns: {verdict(met)}** — {len(errors)} errors "
        f"(aim: none), time to first token {p99:,.0f} ms at p99 (aim: ≤ "
        f"{AIM_LOAD_TTFT_P99_MS:g} ms), {rate:,.0f} tokens/s against {direct_rate:,.0f} "
        f"direct, {rate / direct_rate:.0%} (aim: ≥ {AIM_RATE_SHARE:.0%})"
    )
    if errors:
        line += f"; first error: `{errors[0][:160]}`"
    return line + "."


def held_aim(label: str, held: Held) -> str:
    errors, p99 = held.errors, percentile(held.first_tokens_ms, 0.99)
    growth = held.rss_after_kib / held.rss_early_kib - 1
    met = (
        not errors
        and p99 <= AIM_LOAD_TTFT_P99_MS
        and growth <= AIM_RSS_GROWTH
        and held.fds_after <= held.fds_before
    )
    line = (
        f"- **{label}, {held.turns:,} streams held open: {verdict(met)}** — {len(errors)} "
        f"errors (aim: none), time to first token {ms(p99)} ms at p99 (aim: ≤ "
        f"{AIM_LOAD_TTFT_P99_MS:g} ms), server RSS {growth:+.0%} from {RSS_EARLY_S:g} s in "
        f"to after the end (aim: ≤ {AIM_RSS_GROWTH:+.0%}), {held.fds_after:,} open file "
        f"descriptors after the end against {held.fds_before:,} before (aim: back to the start)"
    )
    if errors:
        line += f"; first error: `{errors[0][:160]}`"
    return line + "."


def tool_aim(label: str, trips: ToolTrips) -> str:
    p50, p99 = statistics.median(trips.added_ms), percentile(trips.added_ms, 0.99)
    return (
        f"- **{label}, a {trips.label} tool round trip: {verdict(p50 <= AIM_TOOL_ADDED_MS)}** "
        f"— Roost adds {p50:.1f} ms over the two model calls at the median, {p99:.1f} ms at "
        f"p99 (aim: ≤ {AIM_TOOL_ADDED_MS:g} ms, judged at the median)."
    )


# The before/after table of FINDINGS: a measure, then SQLite before and after, then
# PostgreSQL before and after (the runs it names).
BEFORE_AFTER = [
    (
        "short turn: added time to first token p50 / p99, ms",
        "+42.99 / +61.77",
        "+9.60 / +13.98",
        "+34.50 / +43.43",
        "+16.10 / +19.68",
    ),
    ("short turn: server CPU, ms", "54.9", "14.0", "39.6", "18.8"),
    ("short turn: transactions (PostgreSQL's counter)", "n/a", "n/a", "12.03", "3.03"),
    ("2,000 tokens: server CPU a token, µs", "68", "13", "54", "13"),
    ("2,000 tokens: `text` events", "2,000", "3", "2,000", "3"),
    (
        "2,000 tokens: first / last token / `done`, ms (direct: all in)",
        "74 / 126 / 137 (13)",
        "16 / 20 / 24 (14)",
        "60 / 134 / 143 (11)",
        "23 / 26 / 32 (13)",
    ),
    ("200 turns at once: errors", "0 of 200", "0 of 200", "0 of 200", "0 of 200"),
    (
        "200 turns at once: first token p50 / p99, ms",
        "15,196 / 15,936",
        "1,947 / 3,620",
        "6,780 / 11,556",
        "2,636 / 4,159",
    ),
    (
        "200 turns at once: tokens/s (of direct)",
        "1,389 (23 %)",
        "5,678 (96 %)",
        "2,412 (39 %)",
        "5,726 (78 %)",
    ),
    ("200 turns at once: server CPU a token, µs", "629", "156", "394", "136"),
    ("1,000 held streams: errors", "1000 of 1000", "0 of 1000", "922 of 1000", "0 of 1000"),
    (
        "1,000 held streams: first token p50 / p99, ms",
        "122,867 / 137,714",
        "15,279 / 54,142",
        "never / never",
        "21,180 / 25,058",
    ),
    (
        "1,000 held streams: tokens/s (of direct)",
        "3,066 (36 %)",
        "5,241 (60 %)",
        "313 (4 %)",
        "7,287 (83 %)",
    ),
    (
        "1,000 held streams: RSS at 10 s → after, MiB",
        "215 → 532",
        "223 → 291",
        "232 → 295",
        "243 → 309",
    ),
    (
        "1,000 held streams: open files before / peak / after",
        "50 / 1,718 / 74",
        "19 / 2,021 / 20",
        "45 / 1,470 / 27",
        "26 / 2,048 / 28",
    ),
    (
        "tool round trip: added p50, built-in / stdio MCP, ms",
        "+88.9 / +85.3",
        "+24.1 / +27.3",
        "+61.6 / +80.0",
        "+28.2 / +29.7",
    ),
]

# Why the aims are met or missed. This comes from profiling by hand (``--profile``) and
# from runs of the code before and after a change, in the same hour; not from the run
# that writes the tables, so it is kept here as text with its date and commits: profile
# again and update it when the code on the token path changes.
FINDINGS = [
    "",
    "### Where the time goes",
    "",
    "Profiled on 2026-12-02 with py-spy (`--profile DIR`, 250 Hz), shares of the server's "
    "busy event loop, at commits `8721fc6` (the short turn) to `3d0ced3` (the loads). The "
    "tables above come from an Intel Xeon machine that runs this bench about 1.5-2 times "
    "slower than the AMD EPYC one of the earlier tables (the direct short turn: 1.25-1.64 "
    "ms to its first token, against 0.90-1.05): compare figures within one run, or the "
    "before/after table below, measured within the hour.",
    "",
    "- **A short turn** runs 3 transactions (7 statements to start it, 2 to commit its "
    "text, 5 to end it; `tests/api/test_turn_transactions.py` counts them: 2 before the "
    "first token reaches the client, 1 after the answer). PostgreSQL's counter says 3.03 "
    "a turn: the provider's model list is read again once a minute. Of the 14-19 ms of "
    "server CPU a turn costs on this machine (9-12 ms on the earlier one), SQLAlchemy and "
    "SQLite take about half (building, compiling and flushing the ORM's statements: "
    "loading the session, reading history and the commit are the largest), FastAPI, "
    "Starlette, the middleware and Pydantic about a quarter, the request to the model "
    "4 %; the rest is the turn's own Python. The aim of 5 ms a turn would take Core "
    "statements built once instead of the ORM's unit of work on the start and the end, "
    "and fewer layers around the request. Since these tables, a turn no longer hops to "
    "a worker thread (route dependencies are coroutines, and the provider's proxy is "
    "read once instead of by aiohttp in a thread on every model call): in same-hour runs "
    "up to 1 ms less at the median, within this machine's noise.",
    "- **A model's tokens in a burst are one event.** A `text` event carries what one "
    "read of the model's stream brought: a model streaming at its own pace gives one "
    "token an event; a burst, or a server behind under load, gives one event for many, "
    "sent, stored and committed once. The fake sends the 2,000-token answer in 8 bursts "
    "within about 14 ms, and Roost now passes it on in 3 events instead of 2,000: 13 µs "
    "of server CPU a token (68 and 54 before) and the whole answer 24-32 ms after the "
    "request (137-143 before). Its first token still comes after the upstream has "
    "finished, because starting the turn takes longer than the fake takes to send it all. "
    "`bench/bench_stream_reader.py` reads the same paced streams three ways in one "
    "process: the SDK's raw stream 41 µs of CPU an event, Roost's reader (aiohttp, the "
    "same parser) 22 µs, bare aiohttp 17 µs (2026-12-02, 20 streams of 1,000 tokens).",
    "- **Under load** one event loop is the ceiling, but the busier it is, the more "
    "tokens an event carries (1.2 on SQLite, 2.6 on PostgreSQL with 200 paced turns), so "
    "it no longer falls further behind: 200 turns at once reach 96 % of the direct rate "
    "on SQLite and 78 % on PostgreSQL (from 23 % and 39 %). Their first tokens at p99 "
    "(3.6 and 4.2 s) are no later than the direct run's own (3.3-4.3 s in the same runs): "
    "the client and the fake alone fill both cores here, so the aim of 250 ms cannot be "
    "judged on this machine; starting 200 turns also costs 14-19 ms of one core each.",
    "- **1,000 held streams** (10,000 tokens/s) end without an error on both back ends "
    "(before: 1,000 and 922 failed). On SQLite the event log's committer went first among "
    "the writers waiting every time, and as it always had work, the turns waiting to "
    "start got one write between two rounds: with the merged deltas alone, 124 of 1,000 "
    "clients gave up and the median first token came after 42 s (runs of the same "
    "evening). Now, after a round held the lock, the other writers get as long again "
    "first: 0 errors, 60 % of the direct rate. The first tokens (p99 54 s on SQLite, 25 s "
    "on PostgreSQL) wait for 1,000 starts of 14-19 ms of CPU each on the one loop that "
    "also streams. The server's memory had grown under the backlog (SQLite 312 → 964 "
    "MiB): SQLAlchemy compiles and caches a statement once for each shape, and the fenced "
    "update of a commit round had one `WHEN` a turn, so every number of turns a round "
    "carried was another large statement kept (a gigabyte for 600 rounds of up to 1,000 "
    "turns). Padded to a power of two and at most 64 turns a statement, seven small "
    "shapes serve every round (`tests/store/test_turn_repos.py` holds it). In runs of the "
    "same evening SQLite's growth went from +226 % to +23-30 %; PostgreSQL's is +27 %, as "
    "before this work. What remains is not found yet (the allocator keeping the memory "
    "freed after 1,000 connections and their buffers is the likeliest). Open files end at "
    "20 from 19 (SQLite) and 28 from 26 (PostgreSQL: the pool keeps up to 10 idle connections).",
    "- **A tool round trip** costs two model calls and the turn around them: what is "
    "added (24-30 ms on this machine, 12-26 ms on the earlier one) is the short turn's "
    "own cost (above) and the second call's request; the aim of 10 ms waits on the short "
    "turn's.",
    "- **What limits the next step** is one event loop per process: every start, token "
    "and end of every turn runs on it. The next steps are the start and end as Core "
    "statements built once (half a turn's CPU is the ORM), fewer layers around a request, "
    "and several processes sharing the turns (scale-out, `docs/architecture.md`), "
    "measured on a machine where the client and the fake do not share the server's cores.",
    "",
    "### Before and after",
    "",
    "The same bench (the command above) on the code before this work (`94a69b6`) and "
    "after it (`3d0ced3`), within the same hour on 2026-12-02 (started 22:24 and 22:52 "
    "UTC), nothing else running:",
    "",
    "| Measure | SQLite before | SQLite after | PostgreSQL before | PostgreSQL after |",
    "| --- | ---: | ---: | ---: | ---: |",
    *("| " + " | ".join(cells) + " |" for cells in BEFORE_AFTER),
    "",
    "What changed: a turn on an idle session starts in one transaction (its row, the "
    "user's message, the empty answer and `turn_start`, with the history the model "
    "reads) and the stream that started it reads nothing back (the bus holds a live "
    "turn's newest events); one committer per process commits every running turn's "
    "events a round at a time, ahead of other writers waiting, then gives them as long "
    "again; what one read of the model's stream brought is one event; tool calls, results "
    "and messages no longer wait for a commit each; a turn ends in one transaction; "
    "SQLite runs in the event loop's thread instead of a thread per connection; "
    "PostgreSQL writers wait for a connection instead of failing after 30 s (before, 922 "
    "of 1,000 held streams on PostgreSQL failed so); the streamed request goes over "
    "aiohttp instead of the SDK's stack. What limits the next step is written above.",
]


# --- entry point -----------------------------------------------------------------------


def phase_list(text: str) -> list[str]:
    phases = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(phases) - set(PHASES))
    if unknown or not phases:
        raise argparse.ArgumentTypeError(f"phases are a comma list of {', '.join(PHASES)}")
    return [phase for phase in PHASES if phase in phases]  # always in the same order


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--phases", type=phase_list, default=list(PHASES), help=f"Some of {','.join(PHASES)}."
    )
    parser.add_argument("--turns", type=int, default=200, help="Sequential turns for TTFT.")
    parser.add_argument("--concurrency", type=int, default=200, help="Concurrent turns.")
    parser.add_argument("--tokens", type=int, default=2000, help="Tokens in the long answer.")
    parser.add_argument(
        "--concurrent-tokens", type=int, default=150, help="Tokens in each concurrent answer."
    )
    parser.add_argument("--repeats", type=int, default=5, help="Long answers each way.")
    parser.add_argument("--streams", type=int, default=1000, help="Streams held open at once.")
    parser.add_argument(
        "--stream-rate", type=float, default=10.0, help="Tokens per second of each held stream."
    )
    parser.add_argument(
        "--stream-seconds", type=float, default=60.0, help="How long the streams are held."
    )
    parser.add_argument("--tool-turns", type=int, default=30, help="Round trips per tool.")
    parser.add_argument("--profile", type=Path, help="py-spy the server into DIR; no write.")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave the doc.")
    args = parser.parse_args(argv)
    counts = (args.turns, args.concurrency, args.repeats, args.tokens, args.concurrent_tokens)
    if min(*counts, args.streams, args.tool_turns) < 1:
        parser.error("the turn, stream, repeat and token counts must be >= 1")
    if args.stream_rate <= 0 or args.stream_seconds <= 0:
        parser.error("--stream-rate and --stream-seconds must be > 0")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.load_before = os.getloadavg()[0]  # for the report: how busy the machine was
    args.fd_limit = raise_fd_limit()[0]  # before the fake and the server start: they inherit it
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
