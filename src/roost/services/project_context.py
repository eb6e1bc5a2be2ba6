"""What a project adds to every turn's context: references to its files (read when the
turn starts) and named snippets, within one budget."""

import posixpath
from pathlib import Path
from typing import Any

from roost import ids
from roost.clock import isoformat, utcnow
from roost.engine.tools.sandbox import Sandbox, SandboxError
from roost.errors import AlreadyExists, NotAFile, ProjectContextTooLarge, ProjectFileNotFound
from roost.services.sandbox_errors import existing

CONTEXT_BUDGET_BYTES = 64 * 1024
MAX_ENTRIES = 50

Entry = dict[str, Any]


def file_entry(sandbox: Sandbox, given: str, entries: list[Entry]) -> Entry:
    """A reference to a file inside the project, kept as its project-relative path."""
    path = existing(sandbox, given)
    if not path.is_file():
        raise NotAFile.make(f"{sandbox.relative(path)} is not a file", {"path": given})
    relative = sandbox.relative(path)
    if any(e.get("type") == "file" and e.get("path") == relative for e in entries):
        raise AlreadyExists(
            f"{relative} is already in the project's files", details={"path": relative}
        )
    entry = _entry("file", path=relative, size=path.stat().st_size)
    _check_budget([*entries, entry])
    return entry


def snippet_entry(name: str, content: str, entries: list[Entry]) -> Entry:
    if any(e.get("type") == "snippet" and e.get("name") == name for e in entries):
        raise AlreadyExists(f"A snippet named {name} exists", details={"name": name})
    entry = _entry("snippet", name=name, content=content, size=len(content.encode()))
    _check_budget([*entries, entry])
    return entry


def without_entry(
    entries: list[Entry], root: str, *, path: str | None, name: str | None, entry_id: str | None
) -> list[Entry]:
    """The entries less the one named by id, file path (as added) or snippet name."""
    wanted = _relative_key(root, path) if path is not None else None
    kept = [
        e
        for e in entries
        if not (
            (entry_id is not None and e.get("id") == entry_id)
            or (wanted is not None and e.get("type") == "file" and e.get("path") == wanted)
            or (name is not None and e.get("type") == "snippet" and e.get("name") == name)
        )
    ]
    if len(kept) == len(entries):
        raise ProjectFileNotFound(path=path, name=name, entry_id=entry_id)
    return kept


def render(sandbox: Sandbox | None, entries: list[Entry]) -> str | None:
    """The entries as text for the system prompt, read now, cut at the budget."""
    if not entries:
        return None
    left = CONTEXT_BUDGET_BYTES
    parts = ["Project files and snippets the user attached:"]
    for entry in entries:
        if entry.get("type") == "snippet":
            heading, body = f"--- snippet: {entry.get('name', '')} ---", str(entry.get("content"))
        else:
            heading = f"--- {entry.get('path', '')} ---"
            body = _read(sandbox, str(entry.get("path", "")), left)
        data = body.encode()
        if len(data) > left:
            body = data[:left].decode("utf-8", errors="ignore") + "\n[cut: context budget reached]"
        left -= min(len(data), left)
        parts.append(f"{heading}\n{body}")
        if left <= 0:
            parts.append("[further entries left out: context budget reached]")
            break
    return "\n\n".join(parts)


def _read(sandbox: Sandbox | None, relative: str, left: int) -> str:
    if sandbox is None:
        return "[not read: the project folder is unavailable]"
    try:
        path = sandbox.path(relative, must_exist=True)
        if not path.is_file():
            return "[not read: no longer a file]"
        data = sandbox.read_bytes(path, left + 1)
    except (SandboxError, OSError) as error:
        return f"[not read: {error}]"
    if b"\x00" in data[:8192]:
        return "[not read: binary file]"
    return data.decode("utf-8", errors="replace")


def _entry(kind: str, **fields: Any) -> Entry:
    return {"id": ids.new_id("file"), "type": kind, **fields, "added_at": isoformat(utcnow())}


def _check_budget(entries: list[Entry]) -> None:
    used = sum(int(e.get("size", 0)) for e in entries)
    if len(entries) > MAX_ENTRIES or used > CONTEXT_BUDGET_BYTES:
        raise ProjectContextTooLarge(len(entries), MAX_ENTRIES, used, CONTEXT_BUDGET_BYTES)


def _relative_key(root: str, given: str) -> str:
    """How a path was stored: relative to the root, normalised (it may be gone by now)."""
    if posixpath.isabs(given):
        relative = posixpath.relpath(posixpath.normpath(given), root)
    else:
        relative = posixpath.normpath(given)
    return Path(relative).as_posix()
