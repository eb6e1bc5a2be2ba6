"""What the benchmarks share: ports and the roost command, scratch PostgreSQL
databases, and their sections of docs/benchmarks.md."""

import socket
import sys
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def roost_command() -> list[str]:
    script = Path(sys.executable).parent / "roost"
    return [str(script)] if script.exists() else [sys.executable, "-m", "roost"]


def plain(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def create_database(admin_dsn: str, name: str) -> str:
    """Make a scratch database; returns the server's version."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        return str(await conn.fetchval("SHOW server_version")).split(" ")[0]
    finally:
        await conn.close()


async def drop_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def write_section(name: str, section: str) -> None:
    """Replace only the ``name`` benchmark's section, so other benchmarks keep theirs."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{section}\n{end}"
    current = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if start in current and end in current:
        head, rest = current.split(start, 1)
        _, tail_text = rest.split(end, 1)
        updated = f"{head}{block}{tail_text}"
    else:
        updated = f"{current.rstrip()}\n\n{block}\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(updated)
