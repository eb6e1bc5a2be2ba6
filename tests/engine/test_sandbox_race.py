"""The file tools under a race: a folder swapped for a symlink out, a file for a hard link
out, again and again while each tool runs. Nothing outside is ever read, written, created
or deleted, and every refusal is a clear tool error."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from roost.engine.tools import beneath
from roost.engine.tools.files import edit_file, glob, grep, list_dir, read_file, write_file
from roost.engine.tools.registry import ToolError
from roost.engine.tools.sandbox import Sandbox
from tests.support.races import attempts, lay_out, leaked, snapshot, swapping

Tool = Callable[[Sandbox, dict[str, Any]], Any]

OPERATIONS: list[tuple[str, Tool, dict[str, Any]]] = [
    ("read box", read_file, {"path": "box/data.txt"}),
    ("read deep", read_file, {"path": "box/sub/deep.txt"}),
    ("read linked", read_file, {"path": "one.txt"}),
    ("write box", write_file, {"path": "box/new.txt", "content": "x"}),
    ("write deep", write_file, {"path": "box/sub/new.txt", "content": "x"}),
    ("write linked", write_file, {"path": "one.txt", "content": "inside one\n"}),
    ("edit box", edit_file, {"path": "box/data.txt", "old_text": "data", "new_text": "data."}),
    ("edit linked", edit_file, {"path": "one.txt", "old_text": "one", "new_text": "one."}),
    ("list", list_dir, {"path": "box"}),
    ("glob", glob, {"pattern": "*"}),
    ("grep", grep, {"pattern": "SECRET"}),
    ("grep box", grep, {"pattern": "SECRET", "path": "box"}),
    ("grep linked", grep, {"pattern": "SECRET", "path": "one.txt"}),
]


@pytest.fixture(params=["openat2", "walk"])
def resolution(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of resolving: ``openat2`` where the kernel has it, the walk elsewhere."""
    if request.param == "walk":
        monkeypatch.setattr(beneath, "_OPENAT2", None)
    return str(request.param)


@pytest.mark.usefixtures("resolution")
def test_no_tool_escapes_a_swapping_project(tmp_path: Path) -> None:
    root, outside = tmp_path / "project", tmp_path / "outside"
    root.mkdir()
    lay_out(root, outside)
    sandbox = Sandbox(root)
    escapes: dict[str, int] = {}
    crashes: dict[str, str] = {}
    before = snapshot(outside)
    with swapping(root):
        for name, tool, args in OPERATIONS:
            for _ in attempts():
                try:
                    answer = str(tool(sandbox, dict(args)))
                except ToolError as refused:
                    answer = str(refused)
                except Exception as error:  # anything else would be a 500
                    crashes[name] = repr(error)
                    continue
                now = snapshot(outside)
                if leaked(answer) or now != before:
                    escapes[name] = escapes.get(name, 0) + 1
                    before = now
    assert escapes == {} and crashes == {}, (escapes, crashes)
