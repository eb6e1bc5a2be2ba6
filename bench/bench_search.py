"""Search benchmark: messages and memories searched by words, by meaning and both.

Per backend, in one run:

1. ``index``: seeds a fresh database with ``--messages`` messages (default 1,000,000)
   spread over ``--users`` users (100 sessions each) and ``--memories`` memories
   (default 100,000), every one with a vector of ``--dims`` floats (default 384, the
   size of all-MiniLM-L6-v2's). Texts are drawn from a synthetic vocabulary with a Zipf
   law of word frequency, as natural language has. The messages are written without
   the full-text index, which is then built as migration 0016 builds it (FTS5 on
   SQLite, the GIN index on PostgreSQL) and timed; the vectors are written through
   Roost's own ``VectorIndex.put``. Disk sizes are read from the database.
2. ``search``: ``--queries`` searches of each kind through Roost's ``SearchService``
   and ``MemoryService`` in this process, over the real database (sqlite-vec or
   pgvector doing the comparing), each as a random user: messages by keyword, by
   meaning and hybrid, and memories hybrid. A query is two words of middling
   frequency; its vector is made in this process (deterministic, as ``roost
   fake-llm``'s), so the model's own time is not counted.
3. ``recall``: time to first token of a short turn through a real ``roost serve``
   whose user has 1,000 memories that match the prompt, with memory recall on (the
   default 500 tokens) and off (``ROOST_MEMORY_CONTEXT_TOKENS=0``), in alternating
   blocks against one database: the recall's added cost at the median and p99.

Results are printed and written into the ``bench_search`` section of
``docs/benchmarks.md``. Not part of the test suite; run it by hand:

    .venv/bin/python bench/bench_search.py [--backend sqlite|postgres|both]
        [--messages 1000000] [--memories 100000] [--users 100] [--dims 384]
        [--queries 300] [--turns 200] [--phases index,search,recall] [--no-write]

PostgreSQL runs use the server at ``ROOST_BENCH_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``), which needs pgvector: a
``roost_bench_<random>`` database is created there and dropped at the end. All
traffic stays on the loopback interface.
"""

import argparse
import asyncio
import contextlib
import os
import platform
import random
import secrets
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from bench_turns import API_KEY, MODEL, clean_env, running_fake, spawn, stop_process, wait_ready
from harness import (
    DEFAULT_POSTGRES_URL,
    create_database,
    drop_database,
    free_port,
    plain,
    roost_command,
    write_section,
)
from roost import ids
from roost.config import Settings
from roost.services.caller import Caller
from roost.services.embedder import Embedder
from roost.services.locations import LocationService
from roost.services.memories import MemoryService
from roost.services.projects import ProjectService
from roost.services.search import SearchService
from roost.store import migrate
from roost.store.db import Database
from roost.store.memories import Scope
from roost.store.message_search import MessageFilter
from roost.store.models import Memory, Message, Session, User
from roost.store.vectors import VectorIndex, backend_of, memory_vectors, message_vectors
from roost.testing._fake_embeddings import embed

SESSIONS_PER_USER = 100
VOCABULARY = 20_000
BATCH = 5_000
RECALL_MEMORIES = 1_000
AIM_KEYWORD_P99_MS = AIM_HYBRID_P99_MS = 50.0
AIM_RECALL_ADDED_MS = 5.0
PHASES = ("index", "search", "recall")
EMBEDDING_MODEL = "bench/fake"


# --- the corpus ----------------------------------------------------------------------


class Corpus:
    """Words with Zipf frequencies, and texts drawn from them."""

    def __init__(self, seed: int = 11) -> None:
        self.rng = random.Random(seed)
        syllables = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"]
        words: set[str] = set()
        while len(words) < VOCABULARY:
            words.add("".join(self.rng.choices(syllables, k=self.rng.randint(2, 4))))
        self.words = sorted(words)
        self.rng.shuffle(self.words)
        weights = [1 / (rank + 1) ** 1.07 for rank in range(VOCABULARY)]
        total, running = sum(weights), 0.0
        self.cumulative = []
        for weight in weights:
            running += weight / total
            self.cumulative.append(running)

    def text(self, low: int = 8, high: int = 40) -> str:
        count = self.rng.randint(low, high)
        return " ".join(self.rng.choices(self.words, cum_weights=self.cumulative, k=count))

    def query(self) -> str:
        """Two words of middling frequency (ranks 200 to 2,000)."""
        return " ".join(self.rng.sample(self.words[200:2_000], 2))


class BenchEmbedder(Embedder):
    """The fake's vectors, made in this process (no model call is timed)."""

    def __init__(self, dims: int) -> None:
        self.model = EMBEDDING_MODEL
        self.dims = dims

    async def vectors(self, texts: Sequence[str]) -> list[list[float]] | None:
        return [embed(t, self.dims) for t in texts]


# --- seeding -------------------------------------------------------------------------


@dataclass
class Seeded:
    owners: list[str]
    seconds: dict[str, float] = field(default_factory=dict)
    sizes_mb: dict[str, float] = field(default_factory=dict)


async def seed(database: Database, args: argparse.Namespace, corpus: Corpus) -> Seeded:
    sqlite = database.backend == "sqlite"
    index = VectorIndex("")
    async with database.read() as db:
        index.backend = await backend_of(db)
    now = datetime.now(UTC)
    owners = [ids.new_id("usr") for _ in range(args.users)]
    sessions = [(ids.new_id("ses"), owner) for owner in owners for _ in range(SESSIONS_PER_USER)]
    async with database.write() as db:
        await _drop_fulltext(db, sqlite)
        await db.execute(
            insert(User),
            [{"id": o, "email": f"{o}@bench.test", "name": o} for o in owners],
        )
        rows = [
            {"id": sid, "owner_id": owner, "title": f"Chat {n}", "agent": "build", "model": MODEL}
            for n, (sid, owner) in enumerate(sessions)
        ]
        await db.execute(insert(Session), rows)
    seeded = Seeded(owners)
    started = time.perf_counter()
    base = now - timedelta(seconds=args.messages)
    for offset in range(0, args.messages, BATCH):
        messages, vectors = [], []
        for position in range(offset, min(offset + BATCH, args.messages)):
            session_id, owner = sessions[corpus.rng.randrange(len(sessions))]
            content = corpus.text()
            message_id = ids.new_id("msg")
            role = "user" if position % 2 == 0 else "assistant"
            messages.append(
                {
                    "id": message_id,
                    "session_id": session_id,
                    "role": role,
                    "content": content,
                    "parts": [{"type": "text", "text": content}],
                    "created_at": base + timedelta(seconds=position),
                }
            )
            vectors.append((message_id, owner, EMBEDDING_MODEL, embed(content, args.dims)))
        async with database.write() as db:
            await db.execute(insert(Message), messages)
            await index.put(db, message_vectors, vectors)
        progress("messages", offset + len(messages), args.messages)
    seeded.seconds["messages and their vectors written"] = time.perf_counter() - started
    started = time.perf_counter()
    for offset in range(0, args.memories, BATCH):
        memories, vectors = [], []
        for _ in range(offset, min(offset + BATCH, args.memories)):
            owner = owners[corpus.rng.randrange(len(owners))]
            content = corpus.text(6, 20)
            memory_id = ids.new_id("mem")
            memories.append(
                {"id": memory_id, "owner_id": owner, "scope": "user", "content": content}
            )
            vectors.append((memory_id, owner, EMBEDDING_MODEL, embed(content, args.dims)))
        async with database.write() as db:
            await db.execute(insert(Memory), memories)
            await index.put(db, memory_vectors, vectors)
        progress("memories", offset + len(memories), args.memories)
    seeded.seconds["memories and their vectors written"] = time.perf_counter() - started
    started = time.perf_counter()
    async with database.write() as db:
        await _build_fulltext(db, sqlite)
    seeded.seconds["full-text index built"] = time.perf_counter() - started
    async with database.write() as db:
        await db.execute(text("ANALYZE"))
    seeded.sizes_mb = await _sizes(database, sqlite)
    return seeded


async def _drop_fulltext(db: Any, sqlite: bool) -> None:
    """The messages go in without their full-text index, which is built after."""
    if sqlite:
        for name in ("messages_fts_insert", "messages_fts_delete", "messages_fts_update"):
            await db.execute(text(f"DROP TRIGGER {name}"))
    else:
        await db.execute(text("DROP INDEX ix_messages_fulltext"))


async def _build_fulltext(db: Any, sqlite: bool) -> None:
    """As migration 0016 builds it: the index over what is there, then what keeps it."""
    from importlib import import_module

    migration = import_module("roost.store.migrations.versions.0016_message_search")
    statements = migration.SQLITE if sqlite else migration.POSTGRESQL
    backfill = [s for s in statements if not s.lstrip().startswith("CREATE VIRTUAL")]
    for statement in backfill if sqlite else statements:
        if sqlite and statement.lstrip().startswith("CREATE TABLE"):
            continue  # the key table is still there
        await db.execute(text(statement))


async def _sizes(database: Database, sqlite: bool) -> dict[str, float]:
    mb = 1024 * 1024
    async with database.read() as db:
        if sqlite:
            rows = (
                await db.execute(text("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"))
            ).all()
            by_name = {name: size for name, size in rows}
            fts = sum(s for n, s in by_name.items() if n.startswith(("messages_fts", "message_s")))
            return {
                "messages (table and indexes)": _sum_of(by_name, "messages", "ix_messages_") / mb,
                "full-text index": fts / mb,
                "message vectors": _sum_of(by_name, "message_vectors", "ix_message_vectors") / mb,
                "memory vectors": _sum_of(by_name, "memory_vectors", "ix_memory_vectors") / mb,
            }
        sizes = {}
        for label, relation, total in (
            ("messages (table and indexes)", "messages", True),
            ("full-text index", "ix_messages_fulltext", False),
            ("message vectors", "message_vectors", True),
            ("memory vectors", "memory_vectors", True),
        ):
            function = "pg_total_relation_size" if total else "pg_relation_size"
            query = text(f"SELECT {function}('{relation}')")
            sizes[label] = float(await db.scalar(query) or 0) / mb
        if sizes["messages (table and indexes)"]:
            sizes["messages (table and indexes)"] -= sizes["full-text index"]
        return sizes


def _sum_of(by_name: dict[str, int], table: str, index_prefix: str) -> float:
    autoindex = f"sqlite_autoindex_{table}_"
    return float(
        sum(
            size
            for name, size in by_name.items()
            if name == table or name.startswith((index_prefix, autoindex))
        )
    )


def progress(what: str, done: int, total: int) -> None:
    if done == total or done % (BATCH * 20) == 0:
        print(f"  {what}: {done:,} of {total:,}", flush=True)


# --- searching -----------------------------------------------------------------------


async def measure_search(
    database: Database, home: Path, args: argparse.Namespace, corpus: Corpus, owners: list[str]
) -> dict[str, list[float]]:
    settings = Settings(home=home, database_url=str(database.engine.url))
    projects = ProjectService(database, settings, LocationService(database, settings))
    embedder = BenchEmbedder(args.dims)
    index = VectorIndex("")
    async with database.read() as db:
        index.backend = await backend_of(db)
    search = SearchService(database, projects, embedder, index)
    memories = MemoryService(database, projects, embedder, index)
    where = MessageFilter()
    times: dict[str, list[float]] = {}
    kinds = ("keyword", "semantic", "hybrid", "memories")
    for round_number in range(args.queries + 10):
        caller = Caller(owners[corpus.rng.randrange(len(owners))])
        query = corpus.query()
        for kind in kinds:
            started = time.perf_counter()
            if kind == "memories":
                await memories.search(caller, [Scope("user")], query, limit=10)
            else:
                await search.messages(caller, query, where, limit=20, cursor=None, mode=kind)
            if round_number >= 10:  # the first ten warm the caches
                times.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
    return times


# --- recall's cost on a turn ---------------------------------------------------------


async def measure_recall(
    folder: Path, database_url: str | None, args: argparse.Namespace
) -> dict[str, list[float]]:
    """Time to first token with recall on and off, in alternating blocks of turns, for
    a prompt that shares a word with a few memories and one that shares with them all."""
    ttft: dict[str, list[float]] = {}
    with running_fake(folder / "fake") as fake_url:
        home = folder / "recall"
        async with (
            serving(home, database_url, fake_url, recall=True) as url,
            httpx.AsyncClient(base_url=url, timeout=60) as client,
        ):
            for n in range(0, RECALL_MEMORIES, 50):
                await asyncio.gather(
                    *(
                        client.post("/api/memories", json={"content": memory(n + i)})
                        for i in range(50)
                    )
                )
        blocks = 10
        per_block = max(1, args.turns // blocks)
        for block in range(blocks * 2):
            recall = "on" if block % 2 == 0 else "off"
            async with (
                serving(home, database_url, fake_url, recall=recall == "on") as url,
                httpx.AsyncClient(base_url=url, timeout=60) as client,
            ):
                for turn in range(per_block + 3):
                    for case, prompt in PROMPTS.items():
                        took = await first_token(client, prompt.format(turn))
                        if turn >= 3:  # the first turns of a server warm it
                            ttft.setdefault(f"{case} {recall}", []).append(took)
    return ttft


def memory(n: int) -> str:
    """Every memory shares "bench" and "turn" with the second prompt; one in 50 shares
    "orchard" with the first."""
    return f"bench turn note {n}: " + ("the orchard gate" if n % 50 == 0 else "keep it short")


PROMPTS = {"few": "what of the orchard {}?", "all": "bench turn {}"}


@contextlib.asynccontextmanager
async def serving(
    home: Path, database_url: str | None, fake_url: str, *, recall: bool
) -> AsyncIterator[str]:
    port = free_port()
    command = [*roost_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--home", str(home)]
    if database_url is not None:
        command += ["--database-url", database_url]
    env = clean_env(
        OPENAI_BASE_URL=f"{fake_url}/v1",
        OPENAI_API_KEY=API_KEY,
        ROOST_DEFAULT_MODEL=MODEL,
        ROOST_EMBEDDING_MODEL="none",
        ROOST_MEMORY_CONTEXT_TOKENS="500" if recall else "0",
    )
    process = spawn(command, home, env)
    try:
        url = f"http://127.0.0.1:{port}"
        await asyncio.to_thread(wait_ready, process, f"{url}/api/health", home)
        yield url
    finally:
        stop_process(process)


async def first_token(client: httpx.AsyncClient, content: str) -> float:
    session = (await client.post("/api/sessions", json={})).json()["id"]
    started = time.perf_counter()
    took, last = None, {}
    async with client.stream(
        "POST",
        f"/api/sessions/{session}/messages",
        json={"content": content},
        headers={"Accept": "text/event-stream"},
    ) as response:
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            event = orjson.loads(line[5:])
            if event["type"] == "text" and took is None:
                took = (time.perf_counter() - started) * 1000
            last = event
    if took is None or last.get("type") != "done" or last.get("status") != "completed":
        raise RuntimeError(f"the turn failed: {last}")
    return took


# --- reporting -----------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(
    label: str,
    args: argparse.Namespace,
    seeded: Seeded | None,
    times: dict[str, list[float]],
    ttft: dict[str, list[float]],
) -> str:
    lines = [f"### {label}", ""]
    if seeded is not None:
        lines += [
            f"{args.messages:,} messages over {args.users} users ({SESSIONS_PER_USER} sessions"
            f" each), {args.memories:,} memories, vectors of {args.dims} floats.",
            "",
            "| Building | Seconds |",
            "|---|---:|",
            *(f"| {what} | {seconds:.1f} |" for what, seconds in seeded.seconds.items()),
            "",
            "| On disk | MB |",
            "|---|---:|",
            *(f"| {what} | {size:,.0f} |" for what, size in seeded.sizes_mb.items()),
            "",
        ]
    if times:
        names = {
            "keyword": "Messages by keyword",
            "semantic": "Messages by meaning",
            "hybrid": "Messages, hybrid",
            "memories": "Memories, hybrid",
        }
        lines += [
            f"{args.queries} searches of each kind, 20 hits (memories: 10), a random user each:",
            "",
            "| Search | p50 ms | p99 ms |",
            "|---|---:|---:|",
            *(
                f"| {names[kind]} | {percentile(v, 0.5):.1f} | {percentile(v, 0.99):.1f} |"
                for kind, v in times.items()
            ),
            "",
        ]
    if ttft:
        rows = []
        for case, shares in (("few", "20 of them"), ("all", "all of them")):
            on, off = ttft[f"{case} on"], ttft[f"{case} off"]
            added50 = statistics.median(on) - statistics.median(off)
            added99 = percentile(on, 0.99) - percentile(off, 0.99)
            rows += [
                f"| {shares} | on | {statistics.median(on):.2f} | {percentile(on, 0.99):.2f} |",
                f"| {shares} | off | {statistics.median(off):.2f} | {percentile(off, 0.99):.2f} |",
                f"| {shares} | added | {added50:+.2f} | {added99:+.2f} |",
            ]
        turns = len(ttft["few on"])
        lines += [
            f"Time to first token of a short turn whose user has {RECALL_MEMORIES:,} memories,"
            f" with recall on (500 tokens) and off, {turns} turns each way in alternating"
            " blocks, for a prompt that shares a word with few of the memories and one that"
            " shares words with all of them:",
            "",
            "| Memories sharing a word | Recall | p50 ms | p99 ms |",
            "|---|---|---:|---:|",
            *rows,
            "",
        ]
    return "\n".join(lines)


async def run_backend(name: str, args: argparse.Namespace) -> str:
    folder = Path(tempfile.mkdtemp(prefix=f"roost-bench-search-{name}-"))
    admin = os.environ.get("ROOST_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    scratch = f"roost_bench_{secrets.token_hex(4)}"
    try:
        if name == "sqlite":
            url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
            recall_url = None
            from roost.store.sqlite_inline import DRIVER

            label = f"SQLite {DRIVER.sqlite_version} with sqlite-vec"
        else:
            version = await create_database(admin, scratch)
            target = make_url(admin).set(database=scratch)
            url = plain(target).replace("postgresql://", "postgresql+asyncpg://", 1)
            recall_url = url
            label = f"PostgreSQL {version} with pgvector"
        corpus = Corpus()
        seeded, times = None, {}
        ttft: dict[str, list[float]] = {}
        if {"index", "search"} & set(args.phases):
            database = Database(url)
            try:
                await migrate.upgrade(database)
                print(f"{label}: seeding", flush=True)
                seeded = await seed(database, args, corpus)
                if "search" in args.phases:
                    print(f"{label}: searching", flush=True)
                    times = await measure_search(
                        database, folder / "home", args, corpus, seeded.owners
                    )
            finally:
                await database.close()
        if "recall" in args.phases:
            if name == "postgres":
                await drop_database(admin, scratch)
                await create_database(admin, scratch)
            print(f"{label}: recall", flush=True)
            ttft = await measure_recall(folder, recall_url, args)
        return report(label, args, seeded, times, ttft)
    finally:
        if name == "postgres":
            await drop_database(admin, scratch)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--memories", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--dims", type=int, default=384)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--phases", default=",".join(PHASES))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    args.phases = [p for p in args.phases.split(",") if p]
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    sections = [asyncio.run(run_backend(name, args)) for name in backends]
    body = "\n".join(sections)
    print(body)
    if not args.no_write:
        header = (
            "## Search: messages and memories by words and by meaning\n\n"
            f"`bench/bench_search.py`, {datetime.now(UTC):%Y-%m-%d}, {platform.machine()},"
            f" {os.cpu_count()} cores, Python {platform.python_version()}.\n"
        )
        write_section("bench_search", header + "\n" + body)


if __name__ == "__main__":
    main()
