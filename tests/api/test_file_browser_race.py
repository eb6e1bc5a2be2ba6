"""The file browser under a race: a folder of the project swapped for a symlink out, a
file for a hard link out, again and again while each route runs. Nothing outside is ever
read, written, created or deleted, and no answer is a server error."""

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.projects import new_project
from tests.support.races import attempts, lay_out, leaked, snapshot, swapping

pytestmark = pytest.mark.located

Client = httpx.AsyncClient

OPERATIONS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("read box", "GET", "file", {"params": {"path": "box/data.txt"}}),
    ("read linked", "GET", "file", {"params": {"path": "one.txt"}}),
    ("download box", "GET", "download", {"params": {"path": "box/sub/deep.txt"}}),
    ("download linked", "GET", "download", {"params": {"path": "one.txt"}}),
    ("tree", "GET", "tree", {"params": {"path": "box"}}),
    ("logo", "GET", "../logo/{id}/box/data.png", {}),
    ("write box", "PUT", "file", {"json": {"path": "box/sub/new.txt", "content": "x"}}),
    ("write linked", "PUT", "file", {"json": {"path": "one.txt", "content": "inside one\n"}}),
    ("upload box", "POST", "upload", {"data": {"path": "box"}, "files": {"file": ("u.txt", b"")}}),
    (
        "upload linked",
        "POST",
        "upload",
        {"data": {"overwrite": "true"}, "files": {"file": ("one.txt", b"inside one\n")}},
    ),
    ("mkdir", "POST", "mkdir", {"json": {"path": "box/newdir/inner"}}),
    ("delete", "DELETE", "file", {"params": {"path": "box/victim.txt"}}),
    ("delete folder", "DELETE", "file", {"params": {"path": "box/sub", "recursive": "true"}}),
    ("rename", "POST", "rename", {"json": {"from": "box/r1.txt", "to": "moved.txt"}}),
    ("rename into", "POST", "rename", {"json": {"from": "README.md", "to": "box/r.md"}}),
]


async def test_no_route_escapes_a_swapping_project(client: Client, tmp_path: Path) -> None:
    project = await new_project(client, "Raced")
    root, outside = Path(project["path"]), tmp_path / "outside"
    lay_out(root, outside)
    (root / "README.md").write_text("# Raced\n")
    escapes: dict[str, int] = {}
    errors: dict[str, str] = {}
    before = snapshot(outside)
    with swapping(root):
        for name, method, route, kwargs in OPERATIONS:
            target = f"/api/projects/{project['id']}/{route}".replace("{id}", project["id"])
            for _ in attempts():
                answer = await client.request(method, target, **kwargs)
                if answer.status_code >= 500:
                    errors[name] = answer.text
                now = snapshot(outside)
                if leaked(answer.text) or now != before:
                    escapes[name] = escapes.get(name, 0) + 1
                    before = now
    assert escapes == {} and errors == {}, (escapes, errors)
