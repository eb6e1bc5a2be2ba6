"""Project locations: seeded from the settings, listed for everyone, changed by admins
only; where new projects go; and one user's folder never becomes another's project."""

from pathlib import Path

import httpx
import pytest

from roost.app import create_app
from roost.config import Settings
from tests.support.admin import Team
from tests.support.apps import ONE_DATABASE
from tests.support.projects import code, exists, is_dir, new_project

pytestmark = [pytest.mark.located, ONE_DATABASE]


async def test_the_configured_location_is_made_listed_and_active(team: Team, work: Path) -> None:
    assert is_dir(work)
    member = await team.member("bob@example.com")
    listed = await team.client.get("/api/projects/locations", headers=member.headers)
    assert listed.status_code == 200
    body = listed.json()
    assert [(loc["path"], loc["name"], loc["is_active"]) for loc in body["locations"]] == [
        (str(work), "work", True)
    ]
    assert body["active_id"] == body["locations"][0]["id"] and body["data"] == body["locations"]


async def test_without_settings_the_location_is_projects_in_the_home(
    settings: Settings,
) -> None:
    app = create_app(settings.model_copy(update={"project_locations": []}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            listed = (await client.get("/api/projects/locations")).json()
    home = (settings.home / "projects").resolve()
    assert [loc["path"] for loc in listed["locations"]] == [str(home)] and home.is_dir()


async def test_only_admins_change_locations(team: Team, tmp_path: Path) -> None:
    member = await team.member("bob@example.com")
    location_id = (await team.call("GET", "/api/projects/locations")).json()["active_id"]
    for method, url, body in (
        ("POST", "/api/projects/locations", {"path": str(tmp_path / "mine")}),
        ("POST", "/api/projects/locations/active", {"id": location_id}),
        ("DELETE", f"/api/projects/locations/{location_id}", None),
    ):
        refused = await team.client.request(method, url, headers=member.headers, json=body)
        assert refused.status_code == 403 and code(refused) == "FORBIDDEN", url
    assert not (tmp_path / "mine").exists()
    assert len((await team.call("GET", "/api/projects/locations")).json()["locations"]) == 1


async def test_admins_add_rename_activate_and_remove_locations(team: Team, tmp_path: Path) -> None:
    (tmp_path / "real-second").mkdir()
    (tmp_path / "second").symlink_to(tmp_path / "real-second")
    added = await team.call(
        "POST", "/api/projects/locations", json={"path": str(tmp_path / "second")}
    )
    assert added.status_code == 201
    second = added.json()
    assert second["path"] == str((tmp_path / "real-second").resolve()) and not second["is_active"]
    renamed = await team.call(
        "POST", "/api/projects/locations", json={"path": second["path"], "name": "Second"}
    )
    assert renamed.status_code == 200 and renamed.json()["id"] == second["id"]
    assert renamed.json()["name"] == "Second"
    made = await team.call(
        "POST", "/api/projects/locations", json={"path": str(tmp_path / "new/x")}
    )
    assert made.status_code == 201 and (tmp_path / "new/x").is_dir()
    chosen = await team.call(
        "POST", "/api/projects/locations/active", json={"path": second["path"]}
    )
    assert chosen.json()["active_id"] == second["id"]
    project = await new_project(team.client, "There", headers=team.admin.headers)
    assert project["path"] == str(Path(second["path"]) / "there")
    assert project["location_id"] == second["id"]
    by_id = await team.call(
        "POST", "/api/projects/locations/active", json={"id": made.json()["id"]}
    )
    assert by_id.json()["active_id"] == made.json()["id"]
    assert (await team.call("DELETE", f"/api/projects/locations/{second['id']}")).status_code == 204
    unavailable = await team.call("GET", f"/api/projects/{project['id']}/tree")
    assert unavailable.status_code == 409 and code(unavailable) == "PROJECT_FOLDER_UNAVAILABLE"
    assert is_dir(project["path"])


async def test_bad_locations_are_refused(team: Team, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    for body, status, error in (
        ({"path": "relative/dir"}, 400, "INVALID_PATH"),
        ({"path": str(tmp_path / "file")}, 400, "PATH_NOT_A_DIRECTORY"),
        ({"path": ""}, 422, "VALIDATION_ERROR"),
        ({}, 422, "VALIDATION_ERROR"),
    ):
        refused = await team.call("POST", "/api/projects/locations", json=body)
        assert refused.status_code == status and code(refused) == error, body
    for body in ({"id": "loc_01m8a97z54byzvm9agg9cemc09"}, {"path": "/nowhere/at/all"}):
        unknown = await team.call("POST", "/api/projects/locations/active", json=body)
        assert unknown.status_code == 404 and code(unknown) == "LOCATION_NOT_FOUND"
    assert (await team.call("POST", "/api/projects/locations/active", json={})).status_code == 422


async def test_another_users_folder_cannot_be_claimed(team: Team, work: Path) -> None:
    bob = await team.member("bob@example.com")
    mine = await new_project(team.client, "Root's", headers=team.admin.headers)
    for path in (mine["path"], mine["path"] + "/inner", str(work / "root-s/../root-s")):
        taken = await team.client.post(
            "/api/projects", headers=bob.headers, json={"name": "B", "path": path}
        )
        assert taken.status_code == 409 and code(taken) == "PATH_IN_USE", path
    (work / "around").mkdir()
    inner = await new_project(team.client, "Inner", headers=bob.headers, path="around/inner")
    around = await team.call("POST", "/api/projects", json={"name": "A", "path": "around"})
    assert around.status_code == 409 and code(around) == "PATH_IN_USE"
    assert is_dir(inner["path"])


async def test_another_users_projects_do_not_exist(team: Team) -> None:
    bob = await team.member("bob@example.com")
    mine = await new_project(team.client, "Secret", headers=team.admin.headers)
    pid = mine["id"]
    for method, url, body in (
        ("GET", f"/api/projects/{pid}", None),
        ("PATCH", f"/api/projects/{pid}", {"name": "x"}),
        ("PUT", f"/api/projects/{pid}", {"name": "x"}),
        ("DELETE", f"/api/projects/{pid}", None),
        ("POST", f"/api/projects/{pid}/activate", None),
        ("POST", f"/api/projects/{pid}/files", {"type": "snippet", "name": "n", "content": "c"}),
        ("DELETE", f"/api/projects/{pid}/files", {"name": "n"}),
        ("GET", f"/api/projects/{pid}/tree", None),
        ("GET", f"/api/projects/{pid}/file?path=README.md", None),
        ("PUT", f"/api/projects/{pid}/file", {"path": "x.txt", "content": "x"}),
        ("POST", f"/api/projects/{pid}/mkdir", {"path": "d"}),
        ("GET", f"/api/projects/logo/{pid}/logo.png", None),
        ("GET", f"/api/workspace/meta?project_id={pid}", None),
        ("PATCH", f"/api/workspace/sandbox?project_id={pid}", {"read_only": True}),
        ("POST", "/api/sessions", {"project_id": pid}),
    ):
        answer = await team.client.request(method, url, headers=bob.headers, json=body)
        assert answer.status_code == 404 and code(answer) == "PROJECT_NOT_FOUND", (method, url)
    assert (await team.client.get("/api/projects", headers=bob.headers)).json()["projects"] == []
    assert (await team.client.get("/api/projects/active", headers=bob.headers)).json() is None
    still = (await team.call("GET", f"/api/projects/{pid}")).json()
    assert (
        still["name"] == "Secret"
        and still["files"] == []
        and still["sandbox"]["read_only"] is False
    )
    assert not exists(Path(mine["path"]) / "x.txt")


@pytest.mark.parametrize("path", ["/", "/etc", "/usr/lib", "/var", "/var/run", "HOME", "ABOVE"])
async def test_system_folders_and_roosts_home_are_refused_as_locations(
    team: Team, settings: Settings, path: str
) -> None:
    home = settings.home.resolve()
    given = {"HOME": str(home), "ABOVE": str(home.parent)}.get(path, path)
    refused = await team.call("POST", "/api/projects/locations", json={"path": given})
    assert refused.status_code == 409 and code(refused) == "PATH_RESERVED", refused.text
    assert "force" in refused.json()["error"]["message"]
    listed = (await team.call("GET", "/api/projects/locations")).json()["locations"]
    assert len(listed) == 1  # the configured one only


async def test_nothing_is_made_inside_a_system_folder_that_is_refused(team: Team) -> None:
    refused = await team.call("POST", "/api/projects/locations", json={"path": "/etc/roost-x"})
    assert refused.status_code == 409 and code(refused) == "PATH_RESERVED"
    assert not exists("/etc/roost-x")


async def test_an_admin_may_force_a_system_folder(team: Team) -> None:
    for path in ("/", "/etc"):
        body = {"path": path, "force": True}
        forced = await team.call("POST", "/api/projects/locations", json=body)
        assert forced.status_code == 201 and forced.json()["path"] == path, forced.text
        renamed = await team.call(
            "POST", "/api/projects/locations", json={"path": path, "name": "x"}
        )
        assert renamed.status_code == 200 and renamed.json()["name"] == "x"
    member = await team.member("bob@example.com")
    body = {"path": "/var", "force": True}
    refused = await team.client.post("/api/projects/locations", json=body, headers=member.headers)
    assert refused.status_code == 403
