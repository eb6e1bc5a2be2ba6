"""Projects: made in a location's folder, listed, changed, activated, deleted; and the
sessions that work in them."""

import os
from pathlib import Path

import httpx
import pytest

from roost.config import Settings
from tests.support.projects import code, is_dir, new_project

pytestmark = pytest.mark.located

Client = httpx.AsyncClient


async def test_create_get_change_list_and_delete(client: Client, work: Path) -> None:
    made = await new_project(client, "My Project", description="Things")
    assert made["id"].startswith("proj_") and made["path"] == str(work / "my-project")
    assert (work / "my-project").is_dir() and made["description"] == "Things"
    assert made["files"] == [] and made["meta"] == {} and made["is_active"] is False
    assert made["sandbox"] == {
        "read_only": False,
        "allow_commands": True,
        "allow_network": True,
        "denied_paths": [],
    }
    assert made["created"] > 1_700_000_000_000 and made["created_at"].endswith("Z")
    assert (await client.get(f"/api/projects/{made['id']}")).json() == made
    patched = await client.patch(f"/api/projects/{made['id']}", json={"name": "Renamed"})
    assert patched.json()["name"] == "Renamed" and patched.json()["description"] == "Things"
    put = await client.put(f"/api/projects/{made['id']}", json={"description": "Other"})
    assert put.json()["name"] == "Renamed" and put.json()["description"] == "Other"
    listed = (await client.get("/api/projects")).json()
    assert [p["id"] for p in listed["projects"]] == [made["id"]]
    assert listed["data"] == listed["projects"] and listed["has_more"] is False
    assert listed["active_id"] is None and listed["activeId"] is None
    assert (await client.delete(f"/api/projects/{made['id']}")).status_code == 204
    gone = await client.get(f"/api/projects/{made['id']}")
    assert gone.status_code == 404 and code(gone) == "PROJECT_NOT_FOUND"
    assert (work / "my-project").is_dir()  # the record goes, never the folder


async def test_paths_absolute_relative_or_from_the_name(client: Client, work: Path) -> None:
    (work / "existing").mkdir()
    (work / "existing" / "keep.txt").write_text("kept")
    used = await new_project(client, "Old", path=str(work / "existing"))
    assert used["path"] == str(work / "existing")
    assert (work / "existing" / "keep.txt").read_text() == "kept"
    relative = await new_project(client, "Rel", path="nested/deeper")
    assert relative["path"] == str(work / "nested" / "deeper") and is_dir(relative["path"])
    made = await new_project(client, "Fresh", path=str(work / "fresh" / "one"))
    assert is_dir(made["path"])
    odd = await new_project(client, "  ../Ünïcode Name!! ")
    assert Path(odd["path"]).parent == work and Path(odd["path"]).name == "ünïcode-name"


async def test_a_path_outside_every_location_is_refused(
    client: Client, work: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (work / "link-out").symlink_to(outside)
    for path in (
        str(outside),
        "/etc",
        "../elsewhere",
        "a/../../elsewhere",
        str(work),
        ".",
        "link-out",
        "link-out/inner",
    ):
        refused = await client.post("/api/projects", json={"name": "X", "path": path})
        assert refused.status_code == 400, (path, refused.text)
        assert code(refused) == "PATH_OUTSIDE_LOCATIONS", path
        assert str(work) in refused.json()["error"]["details"]["locations"]
    assert not (outside / "inner").exists()
    assert (await client.get("/api/projects")).json()["projects"] == []


async def test_a_link_inside_the_location_is_stored_as_its_real_path(
    client: Client, work: Path
) -> None:
    (work / "real").mkdir()
    (work / "alias").symlink_to(work / "real")
    made = await new_project(client, "Linked", path="alias")
    assert made["path"] == str(work / "real")
    again = await client.post("/api/projects", json={"name": "Dup", "path": str(work / "real/")})
    assert again.status_code == 409 and code(again) == "ALREADY_EXISTS"


async def test_a_file_is_not_a_project_folder(client: Client, work: Path) -> None:
    (work / "afile").write_text("x")
    refused = await client.post("/api/projects", json={"name": "F", "path": "afile"})
    assert refused.status_code == 400 and code(refused) == "PATH_NOT_A_DIRECTORY"


async def test_moving_a_project_points_it_and_its_sessions_elsewhere(
    client: Client, work: Path
) -> None:
    made = await new_project(client, "Mover")
    session = (await client.post("/api/sessions", json={"project_id": made["id"]})).json()
    moved = await client.patch(f"/api/projects/{made['id']}", json={"path": "moved/here"})
    assert moved.status_code == 200 and moved.json()["path"] == str(work / "moved/here")
    assert (work / "mover").is_dir()  # nothing moved on disk
    after = (await client.get(f"/api/sessions/{session['id']}")).json()
    assert after["working_directory"] == str(work / "moved/here")
    refused = await client.patch(f"/api/projects/{made['id']}", json={"path": "/tmp"})
    assert refused.status_code == 400 and code(refused) == "PATH_OUTSIDE_LOCATIONS"
    other = await new_project(client, "Other")
    taken = await client.put(f"/api/projects/{made['id']}", json={"path": other["path"]})
    assert taken.status_code == 409 and code(taken) == "ALREADY_EXISTS"


async def test_one_active_project_at_a_time(client: Client) -> None:
    first, second = await new_project(client, "One"), await new_project(client, "Two")
    assert (await client.get("/api/projects/active")).json() is None
    on = await client.post(f"/api/projects/{first['id']}/activate")
    assert on.status_code == 200 and on.json()["is_active"] is True
    await client.post(f"/api/projects/{second['id']}/activate")
    listed = (await client.get("/api/projects")).json()
    assert listed["active_id"] == listed["activeId"] == second["id"]
    assert [p["is_active"] for p in listed["projects"]] == [False, True]
    assert (await client.get("/api/projects/active")).json()["id"] == second["id"]
    off = await client.post("/api/projects/deactivate")
    assert off.json() == {"success": True, "active_id": None}
    assert (await client.get("/api/projects/active")).json() is None
    assert (await client.get("/api/projects")).json()["active_id"] is None


async def test_lists_page_by_cursor(client: Client) -> None:
    made = [(await new_project(client, f"P{i}"))["id"] for i in range(3)]
    first = (await client.get("/api/projects", params={"limit": 2})).json()
    assert [p["id"] for p in first["data"]] == made[:2] and first["has_more"] is True
    rest = (await client.get("/api/projects", params={"after": first["next_cursor"]})).json()
    assert [p["id"] for p in rest["data"]] == made[2:] and rest["has_more"] is False
    back = (await client.get("/api/projects", params={"before": made[2]})).json()
    assert [p["id"] for p in back["data"]] == made[:2]
    for cursor in ("proj_01m8a97z54byzvm9agg9cemc09", "nope"):
        bad = await client.get("/api/projects", params={"after": cursor})
        assert bad.status_code == 400 and code(bad) == "INVALID_REQUEST"


async def test_bad_project_bodies_are_refused(client: Client) -> None:
    for body in (
        {},
        {"name": ""},
        {"name": 5},
        {"name": "x", "path": "a\x00b"},
        {"name": "x", "path": "p" * 1100},
        {"name": "n" * 201},
    ):
        refused = await client.post("/api/projects", json=body)
        assert refused.status_code == 422, body
    assert (await client.get("/api/projects")).json()["projects"] == []


async def test_unknown_ids_are_not_found(client: Client) -> None:
    for project_id in ("proj_01m8a97z54byzvm9agg9cemc09", "nope", "ses_01m8a97z54byzvm9agg9cemc09"):
        for method, suffix in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/activate")):
            answer = await client.request(method, f"/api/projects/{project_id}{suffix}", json={})
            assert answer.status_code == 404 and code(answer) == "PROJECT_NOT_FOUND"


# --- sessions in projects ---------------------------------------------------------------


async def test_a_session_in_a_project_works_in_its_folder(client: Client) -> None:
    project = await new_project(client, "Home")
    made = await client.post("/api/sessions", json={"project_id": project["id"]})
    assert made.status_code == 201
    assert made.json()["project_id"] == project["id"]
    assert made.json()["working_directory"] == project["path"]
    listed = await client.get("/api/sessions", params={"project_id": project["id"]})
    assert [s["id"] for s in listed.json()["data"]] == [made.json()["id"]]
    unknown = await client.post(
        "/api/sessions", json={"project_id": "proj_01m8a97z54byzvm9agg9cemc09"}
    )
    assert unknown.status_code == 404 and code(unknown) == "PROJECT_NOT_FOUND"


async def test_new_sessions_join_the_active_project_unless_told_otherwise(client: Client) -> None:
    project = await new_project(client, "Active")
    await client.post(f"/api/projects/{project['id']}/activate")
    joined = (await client.post("/api/sessions", json={})).json()
    assert joined["project_id"] == project["id"] and joined["working_directory"] == project["path"]
    opted_out = (await client.post("/api/sessions", json={"project_id": None})).json()
    assert opted_out["project_id"] is None and opted_out["working_directory"] is None
    elsewhere = (await client.post("/api/sessions", json={"working_directory": "/srv/x"})).json()
    assert elsewhere["project_id"] is None and elsewhere["working_directory"] == "/srv/x"
    await client.post("/api/projects/deactivate")
    assert (await client.post("/api/sessions", json={})).json()["project_id"] is None


async def test_patch_binds_and_unbinds_a_session(client: Client) -> None:
    project = await new_project(client, "Bind")
    sid = (await client.post("/api/sessions", json={"title": "t"})).json()["id"]
    bound = await client.patch(f"/api/sessions/{sid}", json={"project_id": project["id"]})
    assert bound.json()["project_id"] == project["id"]
    assert bound.json()["working_directory"] == project["path"]
    renamed = await client.patch(f"/api/sessions/{sid}", json={"title": "still bound"})
    assert renamed.json()["project_id"] == project["id"]
    bad = await client.patch(f"/api/sessions/{sid}", json={"project_id": "proj_nope"})
    assert bad.status_code == 404 and code(bad) == "PROJECT_NOT_FOUND"
    assert (await client.get(f"/api/sessions/{sid}")).json()["project_id"] == project["id"]
    unbound = await client.patch(f"/api/sessions/{sid}", json={"project_id": None})
    assert unbound.json()["project_id"] is None and unbound.json()["working_directory"] is None


async def test_deleting_a_project_unbinds_its_sessions(client: Client) -> None:
    project = await new_project(client, "Doomed")
    sid = (await client.post("/api/sessions", json={"project_id": project["id"]})).json()["id"]
    await client.delete(f"/api/projects/{project['id']}")
    session = (await client.get(f"/api/sessions/{sid}")).json()
    assert session["project_id"] is None and session["working_directory"] is None
    assert is_dir(project["path"])


async def test_a_project_folder_gone_is_a_clear_error(client: Client) -> None:
    project = await new_project(client, "Vanishing")
    os.rmdir(project["path"])
    answer = await client.get(f"/api/projects/{project['id']}/tree")
    assert answer.status_code == 409 and code(answer) == "PROJECT_FOLDER_UNAVAILABLE"


async def test_no_project_may_hold_roosts_own_data(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    # An admin forces a location around the home (here the test's folder holds both).
    home = settings.home.resolve()
    added = await client.post(
        "/api/projects/locations", json={"path": str(tmp_path), "name": "all", "force": True}
    )
    assert added.status_code in (200, 201), added.text
    for path in (home, home / "mcp", home / "projects" / ".." / "keys"):
        refused = await client.post("/api/projects", json={"name": "x", "path": str(path)})
        assert refused.status_code == 409, (path, refused.text)
        assert code(refused) == "PATH_RESERVED"
    assert not (home / "mcp").exists()
