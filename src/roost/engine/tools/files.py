"""Built-in file tools, each confined to the project root by a :class:`Sandbox`."""

import fnmatch
import os
import re
import stat
from collections.abc import Callable
from typing import Any

from roost.engine.tools.registry import Tool, ToolContext, ToolError
from roost.engine.tools.sandbox import Parts, Sandbox, SandboxError

MAX_READ_BYTES = 256 * 1024
MAX_LISTED = 500
MAX_MATCHES = 200
MAX_GREP_FILE_BYTES = 1024 * 1024
SKIPPED_DIRS = frozenset({".git", "node_modules", "__pycache__", ".venv", ".mypy_cache"})

SandboxFor = Callable[[ToolContext], Sandbox]


def _schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _text(args: dict[str, Any], name: str, default: str | None = None) -> str:
    value = args.get(name, default)
    if not isinstance(value, str):
        raise ToolError(f"{name} must be a string")
    return value


def _int(args: dict[str, Any], name: str, default: int) -> int:
    value = args.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ToolError(f"{name} must be a non-negative integer")
    return value


def read_file(sandbox: Sandbox, args: dict[str, Any]) -> str:
    given = _text(args, "path")
    data = sandbox.read_bytes(given, MAX_READ_BYTES + 1)
    if b"\x00" in data[:8192]:
        raise ToolError(f"{sandbox.relative(sandbox.parts(given))} looks binary; not read")
    text = data[:MAX_READ_BYTES].decode("utf-8", errors="replace")
    lines = text.splitlines(keepends=True)
    start = _int(args, "offset", 1)
    count = _int(args, "limit", len(lines))
    chosen = lines[max(start, 1) - 1 : max(start, 1) - 1 + count]
    note = "\n[file longer than 256 KiB: cut]" if len(data) > MAX_READ_BYTES else ""
    return "".join(chosen) + note


def write_file(sandbox: Sandbox, args: dict[str, Any]) -> str:
    given, content = _text(args, "path"), _text(args, "content")
    sandbox.write_text(given, content)
    return f"Wrote {len(content.encode())} bytes to {sandbox.relative(sandbox.parts(given))}"


def edit_file(sandbox: Sandbox, args: dict[str, Any]) -> str:
    """Replace an exact piece of text: absent or ambiguous matches are clear errors."""
    given = _text(args, "path")
    shown = sandbox.relative(sandbox.parts(given))
    old, new = _text(args, "old_text"), _text(args, "new_text")
    if not old:
        raise ToolError("old_text must not be empty")
    every = bool(args.get("replace_all", False))
    found = 0

    def change(data: bytes) -> bytes:
        nonlocal found
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ToolError(f"{shown} is not UTF-8 text; not edited") from error
        found = text.count(old)
        if found == 0:
            raise ToolError(f"old_text was not found in {shown}")
        if found > 1 and not every:
            raise ToolError(
                f"old_text occurs {found} times in {shown}; add context to make it unique, "
                "or set replace_all"
            )
        return (text.replace(old, new) if every else text.replace(old, new, 1)).encode()

    sandbox.update(given, MAX_READ_BYTES * 16, change)
    return f"Replaced {found if every else 1} occurrence(s) in {shown}"


def list_dir(sandbox: Sandbox, args: dict[str, Any]) -> list[str]:
    entries = sandbox.listing(sandbox.parts(_text(args, "path", ".")))[:MAX_LISTED]
    return [name + ("/" if stat.S_ISDIR(status.st_mode) else "") for name, status in entries]


def _files(sandbox: Sandbox, start: Parts) -> list[Parts]:
    """Regular files under ``start``, links not followed, skipping tool caches and what
    the project's policy denies."""

    def skipped(parts: Parts, status: os.stat_result) -> bool:
        return stat.S_ISDIR(status.st_mode) and parts[-1] in SKIPPED_DIRS

    found = sandbox.walk(start, skipped, 20_000)
    return sorted(parts for parts, status in found if stat.S_ISREG(status.st_mode))


def glob(sandbox: Sandbox, args: dict[str, Any]) -> list[str]:
    pattern = _text(args, "pattern")
    if pattern.startswith("/") or ".." in pattern.split("/"):
        raise ToolError("A pattern is relative to the project and stays inside it")
    names = ["/".join(parts) for parts in _files(sandbox, ())]
    return [n for n in names if fnmatch.fnmatch(n, pattern)][:MAX_LISTED]


def grep(sandbox: Sandbox, args: dict[str, Any]) -> list[str]:
    try:
        regex = re.compile(_text(args, "pattern"))
    except re.error as bad:
        raise ToolError(f"Not a regular expression: {bad}") from bad
    start = sandbox.parts(_text(args, "path", "."))
    only = args.get("glob")
    is_folder = stat.S_ISDIR(sandbox.status(start).st_mode)
    matches: list[str] = []
    for file in _files(sandbox, start) if is_folder else [start]:
        name = sandbox.relative(file)
        if only and not fnmatch.fnmatch(name, str(only)):
            continue
        try:  # a file of other links, or one changed meanwhile, is passed over
            data = sandbox.read_bytes(name, MAX_GREP_FILE_BYTES + 1)
        except SandboxError:
            continue
        if len(data) > MAX_GREP_FILE_BYTES or b"\x00" in data[:8192]:
            continue
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if regex.search(line):
                matches.append(f"{name}:{number}: {line[:300]}")
                if len(matches) >= MAX_MATCHES:
                    return [*matches, f"[stopped at {MAX_MATCHES} matches]"]
    return matches


def file_tools(sandbox_for: SandboxFor) -> list[Tool]:
    """The file tools, given how to find a call's sandbox (its session's project root)."""

    def tool(name: str, description: str, schema: dict[str, Any], run: Any) -> Tool:
        async def handler(args: dict[str, Any], context: ToolContext) -> Any:
            return run(sandbox_for(context), args)

        return Tool(name, description, schema, handler)

    path = {"type": "string", "description": "Path relative to the project root"}
    return [
        tool(
            "read_file",
            "Read a text file (optionally lines offset..offset+limit).",
            _schema(
                {"path": path, "offset": {"type": "integer"}, "limit": {"type": "integer"}},
                ["path"],
            ),
            read_file,
        ),
        tool(
            "write_file",
            "Create or overwrite a text file.",
            _schema({"path": path, "content": {"type": "string"}}, ["path", "content"]),
            write_file,
        ),
        tool(
            "edit_file",
            "Replace an exact piece of text in a file.",
            _schema(
                {
                    "path": path,
                    "old_text": {"type": "string"},
                    "new_text": {"type": "string"},
                    "replace_all": {"type": "boolean"},
                },
                ["path", "old_text", "new_text"],
            ),
            edit_file,
        ),
        tool(
            "list_dir",
            "List a directory (folders end with /).",
            _schema({"path": path}, []),
            list_dir,
        ),
        tool(
            "glob",
            "Find files whose project-relative path matches a pattern.",
            _schema({"pattern": {"type": "string"}}, ["pattern"]),
            glob,
        ),
        tool(
            "grep",
            "Search file contents with a regular expression.",
            _schema(
                {"pattern": {"type": "string"}, "path": path, "glob": {"type": "string"}},
                ["pattern"],
            ),
            grep,
        ),
    ]
