"""A project's file references and snippets: added and removed, kept within a budget,
and read into the context of each turn."""

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from roost.engine.tools.sandbox import Sandbox
from roost.errors import ProjectNotFound
from roost.services.project_context import CONTEXT_BUDGET_BYTES, MAX_ENTRIES
from roost.store.users import LOCAL_USER_ID
from tests.support.projects import code, new_project, write

pytestmark = pytest.mark.located

Client = httpx.AsyncClient


@pytest.fixture
async def project(client: Client) -> dict[str, Any]:
    made = await new_project(client, "Context")
    root = Path(made["path"])
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("print('hi')\n")
    (root / "README.md").write_text("# Context\n")
    return made


async def add(client: Client, project: dict[str, Any], **body: Any) -> httpx.Response:
    return await client.post(f"/api/projects/{project['id']}/files", json=body)


async def test_files_and_snippets_are_added_with_ids_and_removed(
    client: Client, project: dict[str, Any]
) -> None:
    by_path = await add(client, project, type="file", path="src/app.py")
    assert by_path.status_code == 201
    absolute = await add(client, project, type="file", path=project["path"] + "/README.md")
    snippet = await add(client, project, type="snippet", name="Example", content="x = 1")
    files = snippet.json()["files"]
    assert [(f["type"], f["path"], f["name"]) for f in files] == [
        ("file", "src/app.py", None),
        ("file", "README.md", None),
        ("snippet", None, "Example"),
    ]
    assert absolute.json()["files"][1]["size"] == len("# Context\n")
    assert all(f["id"].startswith("file_") for f in files) and files[2]["content"] == "x = 1"
    pid = project["id"]
    gone = await client.request("DELETE", f"/api/projects/{pid}/files", json={"path": "src/app.py"})
    assert gone.status_code == 204
    assert (
        await client.delete(f"/api/projects/{pid}/files", params={"name": "Example"})
    ).status_code == 204
    by_id = await client.delete(f"/api/projects/{pid}/files", params={"id": files[1]["id"]})
    assert by_id.status_code == 204
    assert (await client.get(f"/api/projects/{pid}")).json()["files"] == []
    missing = await client.delete(f"/api/projects/{pid}/files", params={"name": "Example"})
    assert missing.status_code == 404 and code(missing) == "PROJECT_FILE_NOT_FOUND"
    nothing = await client.delete(f"/api/projects/{pid}/files")
    assert nothing.status_code == 400


async def test_type_is_inferred_and_bad_entries_are_refused(
    client: Client, project: dict[str, Any], tmp_path: Path
) -> None:
    inferred = await add(client, project, name="Note", content="remember")
    assert inferred.json()["files"][0]["type"] == "snippet"
    (tmp_path / "outside.txt").write_text("secret")
    os.symlink(tmp_path / "outside.txt", Path(project["path"]) / "link.txt")
    for body, status, error in (
        ({"type": "file", "path": "../outside.txt"}, 400, "PATH_OUTSIDE_PROJECT"),
        ({"type": "file", "path": str(tmp_path / "outside.txt")}, 400, "PATH_OUTSIDE_PROJECT"),
        ({"type": "file", "path": "link.txt"}, 400, "PATH_OUTSIDE_PROJECT"),
        ({"type": "file", "path": "missing.txt"}, 404, "FILE_NOT_FOUND"),
        ({"type": "file", "path": "src"}, 400, "NOT_A_FILE"),
        ({"type": "file"}, 422, "VALIDATION_ERROR"),
        ({"type": "snippet", "name": "x"}, 422, "VALIDATION_ERROR"),
        ({"type": "folder", "path": "src"}, 422, "VALIDATION_ERROR"),
        ({"type": "snippet", "name": "Note", "content": "again"}, 409, "ALREADY_EXISTS"),
    ):
        refused = await add(client, project, **body)
        assert refused.status_code == status and code(refused) == error, body
    assert len((await client.get(f"/api/projects/{project['id']}")).json()["files"]) == 1


async def test_the_budget_and_the_entry_count_are_enforced(
    client: Client, project: dict[str, Any]
) -> None:
    write(Path(project["path"]) / "big.txt", "b" * (CONTEXT_BUDGET_BYTES - 100))
    assert (await add(client, project, type="file", path="big.txt")).status_code == 201
    over = await add(client, project, type="snippet", name="S", content="s" * 200)
    assert over.status_code == 413 and code(over) == "PROJECT_CONTEXT_TOO_LARGE"
    assert over.json()["error"]["details"]["budget_bytes"] == CONTEXT_BUDGET_BYTES
    await client.delete(f"/api/projects/{project['id']}/files", params={"path": "big.txt"})
    for i in range(MAX_ENTRIES):
        assert (await add(client, project, name=f"s{i}", content="x")).status_code == 201
    too_many = await add(client, project, name="one more", content="x")
    assert too_many.status_code == 413 and code(too_many) == "PROJECT_CONTEXT_TOO_LARGE"


async def test_a_turn_gets_the_files_read_now_and_the_snippets(
    app: Any, client: Client, project: dict[str, Any]
) -> None:
    await add(client, project, type="file", path="src/app.py")
    await add(client, project, type="file", path="README.md")
    await add(client, project, name="Style", content="Use tabs.")
    write(Path(project["path"]) / "src/app.py", "print('changed')\n")
    os.remove(Path(project["path"], "README.md"))
    turn = await app.state.services.projects.for_turn(LOCAL_USER_ID, project["id"])
    assert turn.id == project["id"] and turn.root == project["path"]
    assert turn.policy.read_only is False
    assert "--- src/app.py ---\nprint('changed')" in turn.context
    assert "--- README.md ---\n[not read:" in turn.context
    assert "--- snippet: Style ---\nUse tabs." in turn.context
    assert await app.state.services.projects.for_turn(LOCAL_USER_ID, None) is None
    unknown = "proj_01m8a97z54byzvm9agg9cemc09"
    assert await app.state.services.projects.for_turn(LOCAL_USER_ID, unknown) is None
    assert await app.state.services.projects.for_turn("usr_other", project["id"]) is None


async def test_the_context_is_cut_at_the_budget_when_files_grow(
    app: Any, client: Client, project: dict[str, Any]
) -> None:
    await add(client, project, type="file", path="src/app.py")
    await add(client, project, name="After", content="never reached")
    write(Path(project["path"]) / "src/app.py", "g" * (CONTEXT_BUDGET_BYTES * 2))
    turn = await app.state.services.projects.for_turn(LOCAL_USER_ID, project["id"])
    run = "g" * CONTEXT_BUDGET_BYTES
    assert f"\n{run}\n[cut: context budget reached]" in turn.context
    assert "[cut: context budget reached]" in turn.context and "never reached" not in turn.context
    assert "[further entries left out" in turn.context


async def test_a_file_swapped_for_a_link_out_is_not_read_into_a_turn(
    app: Any, client: Client, project: dict[str, Any], tmp_path: Path
) -> None:
    await add(client, project, type="file", path="README.md")
    (tmp_path / "secret.txt").write_text("the secret")
    os.remove(Path(project["path"], "README.md"))
    os.symlink(tmp_path / "secret.txt", Path(project["path"], "README.md"))
    turn = await app.state.services.projects.for_turn(LOCAL_USER_ID, project["id"])
    assert "the secret" not in turn.context and "links are not followed" in turn.context


async def test_sandbox_for_gives_the_projects_boundary(app: Any, project: dict[str, Any]) -> None:
    projects = app.state.services.projects
    sandbox = await projects.sandbox_for(LOCAL_USER_ID, project["id"])
    assert isinstance(sandbox, Sandbox) and str(sandbox.root) == project["path"]
    with pytest.raises(ProjectNotFound) as caught:
        await projects.sandbox_for("usr_other", project["id"])
    assert caught.value.code == "PROJECT_NOT_FOUND"
