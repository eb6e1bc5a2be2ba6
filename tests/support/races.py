"""A project under attack: a process keeps swapping a folder inside it for a symlink to an
outside folder, and a file for a hard link to an outside file, while file operations run.

Swaps use ``renameat2(RENAME_EXCHANGE)`` (both names always exist, so every lookup races
the swap itself), or two renames where the C library lacks it.
"""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

OUTSIDE_MARK = "OUTSIDE-SECRET"
TRIES = 200
SECONDS_PER_OPERATION = 0.25


def lay_out(root: Path, outside: Path) -> None:
    """``root/box`` (a folder) and ``root/one.txt`` (a file of one link), each with a twin
    that leads out: ``root/.box-twin`` -> ``outside/box``, ``root/.one-twin`` a hard link of
    ``outside/one.txt``. Everything outside holds the mark."""
    for folder in (root / "box", outside / "box"):
        (folder / "sub").mkdir(parents=True)
    (root / "box" / "data.txt").write_text("inside data\n")
    (root / "box" / "sub" / "deep.txt").write_text("inside deep\n")
    for name in ("data.txt", "victim.txt", "r1.txt", "sub/deep.txt", "outside-only.txt"):
        (outside / "box" / name).write_text(f"{OUTSIDE_MARK} {name}\n")
    (outside / "one.txt").write_text(f"{OUTSIDE_MARK} one\n")
    (root / "one.txt").write_text("inside one\n")
    (root / ".box-twin").symlink_to(outside / "box")
    os.link(outside / "one.txt", root / ".one-twin")


def leaked(text: str) -> bool:
    return OUTSIDE_MARK in text


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every entry under ``folder`` (links not followed) with its content."""
    found: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames:
            found[os.path.relpath(os.path.join(dirpath, name), folder) + "/"] = None
        for name in filenames:
            path = os.path.join(dirpath, name)
            found[os.path.relpath(path, folder)] = Path(path).read_bytes()
    return found


_SWAPPER = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
names = [os.fsencode(a) for a in sys.argv[1:]]
pairs = list(zip(names[::2], names[1::2]))
print("ready", flush=True)
while True:
    for a, b in pairs:
        if libc.renameat2(-100, a, -100, b, 2) != 0:  # RENAME_EXCHANGE
            os.rename(a, b"%s.tmp" % a); os.rename(b, a); os.rename(b"%s.tmp" % a, b)
"""


@contextmanager
def swapping(root: Path) -> Iterator[None]:
    """Swap ``box`` with its twin, and ``one.txt`` with its twin, until the block ends.

    The swapper is a process of its own, so that it runs truly alongside the operations
    (a thread would wait for the interpreter lock they hold)."""
    names = ["box", ".box-twin", "one.txt", ".one-twin"]
    swapper = subprocess.Popen(
        [sys.executable, "-c", _SWAPPER, *(str(root / n) for n in names)],
        stdout=subprocess.PIPE,
    )
    try:
        assert swapper.stdout is not None and swapper.stdout.readline() == b"ready\n"
        yield
    finally:
        swapper.kill()
        swapper.wait()


def attempts() -> Iterator[int]:
    """Up to :data:`TRIES` numbers, fewer when :data:`SECONDS_PER_OPERATION` runs out."""
    deadline = time.monotonic() + SECONDS_PER_OPERATION
    for number in range(TRIES):
        if time.monotonic() > deadline:
            return
        yield number
