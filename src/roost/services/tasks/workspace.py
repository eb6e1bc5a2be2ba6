"""What a task changed in its project: a snapshot of the folder when the task starts,
and the unified diff from it to the folder as it is.

Snapshots go to a git repository of Roost's own per task (``<home>/tasks/<id>/git``)
whose work tree is the project: so the diff holds the task's changes only, not the
user's uncommitted work, whether or not the project is a repository itself; its
``.gitignore`` files are honoured. The project's own ``.git`` is never read or
written, and no configuration of the project's reaches git (hooks, filters and the
like in a repository's config could run commands), only Roost's empty one.
"""

import asyncio
import os
import shutil
import weakref
from pathlib import Path
from typing import Any

GIT_TIMEOUT_SECONDS = 60.0
MAX_FILES = 20_000
MAX_BYTES = 200 * 1024 * 1024
MAX_DIFF_BYTES = 5 * 1024 * 1024
# Folders too big and too derived to snapshot, whatever the project's .gitignore says.
LEFT_OUT = (".git", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache", ".tox")


class WorkspaceError(Exception):
    """The project could not be snapshotted or compared; the message says why."""


async def snapshot(root: str, store: Path) -> dict[str, Any]:
    """Record the project's files now; the baseline a task's diff is taken against."""
    if shutil.which("git") is None:
        return {"kind": "none", "reason": "git is not installed on the server"}
    counted = await asyncio.to_thread(_count, Path(root))
    if counted is not None:
        return {"kind": "none", "reason": counted}
    await asyncio.to_thread(_prepare, store)
    tree = await _tree(root, store)
    return {"kind": "git", "tree": tree}


async def diff(root: str, store: Path, baseline: dict[str, Any] | None) -> bytes:
    """The unified diff from ``baseline`` to the project's files now."""
    if not baseline or baseline.get("kind") != "git":
        reason = (baseline or {}).get("reason", "the task has not started")
        return f"# No diff: {reason}\n".encode()
    now = await _tree(root, store)
    patch = await _git(
        store,
        root,
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--binary",
        baseline["tree"],
        now,
    )
    if len(patch) > MAX_DIFF_BYTES:
        kept = patch[:MAX_DIFF_BYTES]
        return (
            kept + f"\n# Diff cut: {len(patch)} bytes, the first {MAX_DIFF_BYTES} shown\n".encode()
        )
    return patch


def forget(store: Path) -> None:
    """Remove a task's snapshots (the task was deleted)."""
    shutil.rmtree(store, ignore_errors=True)


async def _tree(root: str, store: Path) -> str:
    """The project's files as a git tree in the task's own repository (one at a time:
    the index is the task's, and git refuses a second writer)."""
    lock = _locks.setdefault(store, asyncio.Lock())
    async with lock:
        await _git(store, root, "add", "--all", ".")
        return (await _git(store, root, "write-tree")).decode().strip()


_locks: weakref.WeakValueDictionary[Path, asyncio.Lock] = weakref.WeakValueDictionary()


def _count(root: Path) -> str | None:
    """Why the project is too big to snapshot, or None when it is not."""
    files = size = 0
    for folder, folders, names in os.walk(root):
        folders[:] = [name for name in folders if name not in LEFT_OUT]
        for name in names:
            files += 1
            try:
                size += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
            if files > MAX_FILES or size > MAX_BYTES:
                return f"the project holds more than {MAX_FILES} files or {MAX_BYTES} bytes"
    return None


def _prepare(store: Path) -> None:
    store.mkdir(parents=True, exist_ok=True)
    git = store / "git"
    if not (git / "HEAD").exists():
        (git / "info").mkdir(parents=True, exist_ok=True)
        (git / "objects").mkdir(exist_ok=True)
        (git / "refs").mkdir(exist_ok=True)
        (git / "HEAD").write_text("ref: refs/heads/main\n")
        (git / "config").write_text("[core]\n\trepositoryformatversion = 0\n\tbare = false\n")
    (git / "info" / "exclude").write_text("".join(f"{name}/\n" for name in LEFT_OUT))


async def _git(store: Path, root: str, *args: str) -> bytes:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_DIR": str(store / "git"),
        "GIT_WORK_TREE": root,
        "GIT_INDEX_FILE": str(store / "index"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "Roost",
        "GIT_AUTHOR_EMAIL": "roost@localhost",
        "GIT_COMMITTER_NAME": "Roost",
        "GIT_COMMITTER_EMAIL": "roost@localhost",
        "HOME": str(store),
        "LC_ALL": "C",
    }
    process = await asyncio.create_subprocess_exec(
        "git",
        "-c",
        "core.fsmonitor=false",
        "-c",
        "core.hooksPath=" + os.devnull,
        "-c",
        "core.autocrlf=false",
        "-c",
        "core.quotePath=false",
        *args,
        cwd=root,
        env=environment,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), GIT_TIMEOUT_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise WorkspaceError(f"git {args[0]} took longer than {GIT_TIMEOUT_SECONDS:g} s") from None
    if process.returncode != 0:
        raise WorkspaceError(f"git {args[0]} failed: {err.decode(errors='replace').strip()}")
    return out
