"""Project templates (copied with ``{{variable}}`` filled in, names included, nothing run)
and project logos (images only, from inside the project)."""

from pathlib import Path
from typing import Any

import httpx
import pytest

from roost.config import Settings
from tests.support.projects import code, exists, new_project, read, write

pytestmark = pytest.mark.located

Client = httpx.AsyncClient
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


async def scaffold(client: Client, **body: Any) -> httpx.Response:
    return await client.post("/api/projects/templates", json=body)


async def test_the_built_in_templates_are_listed(client: Client) -> None:
    listed = (await client.get("/api/projects/templates")).json()
    names = [t["name"] for t in listed["templates"]]
    assert {"blank", "python", "notes"} <= set(names) and listed["data"] == listed["templates"]
    python = next(t for t in listed["templates"] if t["name"] == "python")
    assert python["source"] == "builtin" and "Python" in python["description"]
    assert {v["name"] for v in python["variables"]} == {"module", "python_version"}


async def test_a_python_project_is_filled_in_names_and_contents(client: Client, work: Path) -> None:
    made = await scaffold(
        client,
        template="python",
        name="Weather Tools",
        description="Forecasts",
        variables={"python_version": "3.12"},
    )
    assert made.status_code == 201
    root = Path(made.json()["path"])
    assert root == work / "weather-tools" and made.json()["name"] == "Weather Tools"
    assert (
        read(root / "src/weather_tools/__init__.py")
        == '"""Weather Tools."""\n\n__version__ = "0.1.0"\n'
    )
    assert "import weather_tools" in read(root / "tests/test_weather_tools.py")
    pyproject = read(root / "pyproject.toml")
    assert 'requires-python = ">=3.12"' in pyproject and 'description = "Forecasts"' in pyproject
    assert exists(root / ".gitignore") and not exists(root / ".gitignore.tmpl")
    listed = (await client.get("/api/projects")).json()["projects"]
    assert [p["id"] for p in listed] == [made.json()["id"]]


async def test_variables_fill_folder_names_and_defaults(client: Client) -> None:
    notes = await scaffold(
        client, template="notes", name="Notebook", variables={"first_topic": "recipes"}
    )
    root = Path(notes.json()["path"])
    assert read(root / "recipes/README.md") == "# recipes\n\n"
    assert "[recipes](recipes/README.md)" in read(root / "README.md")
    blank = await scaffold(client, template="blank", name="Empty", path="elsewhere/empty")
    assert read(Path(blank.json()["path"]) / "README.md").startswith("# Empty\n")


async def test_variables_that_would_leave_the_folder_are_refused(
    client: Client, work: Path
) -> None:
    for value in ("../../escape", "..", "a/b", "a\\b", ""):
        refused = await scaffold(
            client, template="notes", name=f"N{len(value)}", variables={"first_topic": value}
        )
        assert refused.status_code == 422 and code(refused) == "VALIDATION_ERROR", value
        assert refused.json()["error"]["details"]["fields"][0]["field"] == "variables.first_topic"
    assert not exists(work.parent / "escape") and not exists(work / "escape")
    assert (await client.get("/api/projects")).json()["projects"] == []
    nul = await scaffold(client, template="notes", name="N", variables={"first_topic": "a\x00"})
    assert nul.status_code == 422


async def test_templates_need_a_new_or_empty_folder_inside_a_location(
    client: Client, work: Path
) -> None:
    write(work / "taken/keep.txt", "mine")
    full = await scaffold(client, template="blank", name="Taken", path="taken")
    assert full.status_code == 409 and code(full) == "PATH_NOT_EMPTY"
    assert read(work / "taken/keep.txt") == "mine" and not exists(work / "taken/README.md")
    outside = await scaffold(client, template="blank", name="Out", path="/tmp/roost-outside")
    assert outside.status_code == 400 and code(outside) == "PATH_OUTSIDE_LOCATIONS"
    unknown = await scaffold(client, template="nope", name="X")
    assert unknown.status_code == 404 and code(unknown) == "TEMPLATE_NOT_FOUND"
    assert (await scaffold(client, template="blank")).status_code == 422


async def test_templates_in_the_home_are_listed_and_never_follow_links(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    folder = settings.home / "templates" / "site"
    write(
        folder / "template.toml",
        'description = "A site"\n[[variables]]\nname = "title"\nrequired = true\n',
    )
    write(folder / "files/index.html", "<h1>{{title}}</h1>{{unknown}}")
    write(tmp_path / "private.txt", "private")
    (folder / "files/leak.txt").symlink_to(tmp_path / "private.txt")
    write(settings.home / "templates/Bad Name/template.toml", "")
    listed = (await client.get("/api/projects/templates")).json()["templates"]
    site = next(t for t in listed if t["name"] == "site")
    assert site["source"] == "home" and site["variables"][0]["required"] is True
    assert "Bad Name" not in [t["name"] for t in listed]
    missing = await scaffold(client, template="site", name="Site")
    assert missing.status_code == 422
    made = await scaffold(client, template="site", name="Site", variables={"title": "Hi"})
    root = Path(made.json()["path"])
    assert read(root / "index.html") == "<h1>Hi</h1>{{unknown}}" and not exists(root / "leak.txt")


# --- logos ------------------------------------------------------------------------------


async def test_a_logo_is_served_as_an_image_from_inside_the_project(client: Client) -> None:
    project = await new_project(client, "Logo")
    root = Path(project["path"])
    (root / "assets").mkdir()
    (root / "assets/logo.png").write_bytes(PNG)
    served = await client.get(f"/api/projects/logo/{project['id']}/assets/logo.png")
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    none_yet = await client.get(f"/api/projects/logo/{project['id']}")
    assert none_yet.status_code == 404 and code(none_yet) == "FILE_NOT_FOUND"
    write(root / "logo.svg", "<svg xmlns='http://www.w3.org/2000/svg'><script>x()</script></svg>")
    svg = await client.get(f"/api/projects/logo/{project['id']}")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert "sandbox" in svg.headers["content-security-policy"]
    assert "default-src 'none'" in svg.headers["content-security-policy"]


async def test_only_small_images_are_served_as_logos(client: Client) -> None:
    project = await new_project(client, "Logo")
    root = Path(project["path"])
    write(root / "page.html", "<script>alert(1)</script>")
    (root / "huge.png").write_bytes(PNG + b"\x00" * (1024 * 1024))
    html = await client.get(f"/api/projects/logo/{project['id']}/page.html")
    assert html.status_code == 400 and code(html) == "NOT_AN_IMAGE"
    huge = await client.get(f"/api/projects/logo/{project['id']}/huge.png")
    assert huge.status_code == 413 and code(huge) == "FILE_TOO_LARGE"
    unknown = await client.get("/api/projects/logo/proj_01m8a97z54byzvm9agg9cemc09/logo.png")
    assert unknown.status_code == 404 and code(unknown) == "PROJECT_NOT_FOUND"
