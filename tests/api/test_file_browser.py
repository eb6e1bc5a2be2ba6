"""A project's file browser: list, read, download, write, upload, move and delete inside
its folder, and every way out of it refused without touching anything outside."""

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.support.apps import ONE_DATABASE
from tests.support.projects import code, exists, is_dir, new_project, read, write

pytestmark = [pytest.mark.located, ONE_DATABASE]

Client = httpx.AsyncClient
SECRET = "the secret"
Request = tuple[str, str, dict[str, Any]]  # method, route, what httpx sends


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the location, with a file no request may read or change."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(SECRET)
    return folder


@pytest.fixture
async def project(client: Client, outside: Path) -> dict[str, Any]:
    made = await new_project(client, "Browse")
    root = Path(made["path"])
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("print('hi')\n")
    (root / "README.md").write_text("# Browse\n")
    (root / "link-out.txt").symlink_to(outside / "secret.txt")
    (root / "dir-out").symlink_to(outside)
    os.link(outside / "secret.txt", root / "hard.txt")
    return made


def url(project: dict[str, Any], route: str) -> str:
    return f"/api/projects/{project['id']}/{route}"


async def test_the_tree_lists_folders_first_and_never_follows_links(
    client: Client, project: dict[str, Any]
) -> None:
    listed = await client.get(url(project, "tree"))
    assert listed.status_code == 200
    entries = {e["name"]: e for e in listed.json()["entries"]}
    assert listed.json()["entries"][0]["name"] == "src"
    assert entries["README.md"]["type"] == "file" and entries["README.md"]["size"] == 9
    assert entries["link-out.txt"]["type"] == "symlink" and entries["dir-out"]["type"] == "symlink"
    assert entries["README.md"]["modified"].endswith("Z") and listed.json()["path"] == "."
    inner = (await client.get(url(project, "tree"), params={"path": "src"})).json()
    assert [(e["name"], e["path"]) for e in inner["entries"]] == [("app.py", "src/app.py")]
    into_link = await client.get(url(project, "tree"), params={"path": "dir-out"})
    assert into_link.status_code == 400 and code(into_link) == "PATH_OUTSIDE_PROJECT"


async def test_read_write_download_mkdir_rename_delete(
    client: Client, project: dict[str, Any]
) -> None:
    root = Path(project["path"])
    text = await client.get(url(project, "file"), params={"path": "src/app.py"})
    assert text.json()["content"] == "print('hi')\n" and text.json()["path"] == "src/app.py"
    written = await client.put(url(project, "file"), json={"path": "docs/new.md", "content": "é"})
    assert written.status_code == 200 and written.json()["size"] == 2
    assert read(root / "docs/new.md") == "é"
    download = await client.get(url(project, "download"), params={"path": "docs/new.md"})
    assert download.content == "é".encode()
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''new.md"
    made = await client.post(url(project, "mkdir"), json={"path": "a/b"})
    assert made.status_code == 201 and made.json()["type"] == "directory" and is_dir(root / "a/b")
    again = await client.post(url(project, "mkdir"), json={"path": "a/b"})
    assert again.status_code == 409 and code(again) == "ALREADY_EXISTS"
    moved = await client.post(
        url(project, "rename"), json={"from": "docs/new.md", "to": "a/b/x.md"}
    )
    assert moved.status_code == 200 and moved.json()["path"] == "a/b/x.md"
    assert not exists(root / "docs/new.md") and read(root / "a/b/x.md") == "é"
    onto = await client.post(url(project, "rename"), json={"from": "a/b/x.md", "to": "README.md"})
    assert onto.status_code == 409 and read(root / "README.md") == "# Browse\n"
    not_empty = await client.delete(url(project, "file"), params={"path": "a"})
    assert not_empty.status_code == 400 and code(not_empty) == "DIRECTORY_NOT_EMPTY"
    gone = await client.delete(url(project, "file"), params={"path": "a", "recursive": True})
    assert gone.status_code == 204 and not exists(root / "a")
    assert (
        await client.delete(url(project, "file"), params={"path": "README.md"})
    ).status_code == 204
    missing = await client.get(url(project, "file"), params={"path": "README.md"})
    assert missing.status_code == 404 and code(missing) == "FILE_NOT_FOUND"


async def test_uploads_go_into_a_folder_under_their_base_name(
    client: Client, project: dict[str, Any], outside: Path
) -> None:
    root = Path(project["path"])
    sent = await client.post(
        url(project, "upload"),
        data={"path": "src"},
        files=[("file", ("../../evil.bin", b"\x00\x01")), ("files", ("b.txt", b"bee"))],
    )
    assert sent.status_code == 201
    assert [f["path"] for f in sent.json()["files"]] == ["src/evil.bin", "src/b.txt"]
    assert (root / "src/evil.bin").read_bytes() == b"\x00\x01"
    clash = await client.post(url(project, "upload"), files={"file": ("b.txt", b"new")})
    assert clash.status_code == 201  # into the root: no clash there
    again = await client.post(
        url(project, "upload"), data={"path": "src"}, files={"file": ("b.txt", b"new")}
    )
    assert again.status_code == 409 and read(root / "src/b.txt") == "bee"
    replaced = await client.post(
        url(project, "upload"),
        data={"path": "src", "overwrite": "true"},
        files={"file": ("b.txt", b"new")},
    )
    assert replaced.status_code == 201 and read(root / "src/b.txt") == "new"
    into_link = await client.post(
        url(project, "upload"), data={"path": "dir-out"}, files={"file": ("x.txt", b"x")}
    )
    assert into_link.status_code == 400 and not exists(outside / "x.txt")
    over_link = await client.post(
        url(project, "upload"),
        data={"overwrite": "true"},
        files={"file": ("link-out.txt", b"pwned")},
    )
    assert over_link.status_code == 400 and read(outside / "secret.txt") == SECRET
    for name in ("..", "."):
        bad = await client.post(url(project, "upload"), files={"file": (name, b"x")})
        assert bad.status_code == 400, name
    empty = await client.post(url(project, "upload"), data={"path": "src"})
    assert empty.status_code == 400 and code(empty) == "NO_FILES"


ESCAPES = [
    "../outside/secret.txt",
    "src/../../outside/secret.txt",
    "/etc/passwd",
    "link-out.txt",
    "dir-out/secret.txt",
    "hard.txt",
    "bad\x00name",
]


@pytest.mark.parametrize("path", ESCAPES)
async def test_every_way_out_is_refused_for_reading(
    client: Client, project: dict[str, Any], path: str
) -> None:
    for route in ("file", "download", "tree"):
        answer = await client.get(url(project, route), params={"path": path})
        assert answer.status_code == 400, (route, answer.text)
        listed_file = route == "tree" and path == "hard.txt"  # a file: not a folder to list
        assert code(answer) == ("NOT_A_DIRECTORY" if listed_file else "PATH_OUTSIDE_PROJECT")
        assert SECRET not in answer.text
    spelled = quote(path, safe="/").replace(".", "%2E")  # no client may tidy the dots away
    logo = await client.get(f"/api/projects/logo/{project['id']}/{spelled}.png")
    assert logo.status_code in (400, 404) and SECRET not in logo.text


@pytest.mark.parametrize("path", [p for p in ESCAPES if "\x00" not in p])
async def test_every_way_out_is_refused_for_writing(
    client: Client, project: dict[str, Any], outside: Path, path: str
) -> None:
    attempts: list[Request] = [
        ("PUT", "file", {"json": {"path": path, "content": "pwned"}}),
        ("POST", "mkdir", {"json": {"path": path + "/sub"}}),
        ("POST", "rename", {"json": {"from": "README.md", "to": path}}),
        ("POST", "upload", {"data": {"path": path}, "files": {"file": ("x.txt", b"pwned")}}),
    ]
    for method, route, kwargs in attempts:
        answer = await client.request(method, url(project, route), **kwargs)
        # A link or a file of other links in the way of a move is there: not replaced.
        assert answer.status_code in (400, 404, 409 if route == "rename" else 400), (
            route,
            answer.text,
        )
    assert read(outside / "secret.txt") == SECRET
    assert os.listdir(outside) == ["secret.txt"]
    assert read(Path(project["path"]) / "README.md") == "# Browse\n"


async def test_nul_in_a_body_path_is_refused(client: Client, project: dict[str, Any]) -> None:
    for route, body in (("file", {"path": "a\x00b", "content": "x"}),):
        assert (await client.put(url(project, route), json=body)).status_code == 422
    for route, body in (
        ("mkdir", {"path": "a\x00b"}),
        ("rename", {"from": "README.md", "to": "\x00"}),
    ):
        assert (await client.post(url(project, route), json=body)).status_code == 422


async def test_deleting_a_link_removes_the_link_not_its_target(
    client: Client, project: dict[str, Any], outside: Path
) -> None:
    for path in ("link-out.txt", "dir-out"):
        assert (await client.delete(url(project, "file"), params={"path": path})).status_code == 204
    assert read(outside / "secret.txt") == SECRET
    assert not exists(Path(project["path"]) / "link-out.txt")
    for path in ("../outside/secret.txt", "/etc/hostname", "hard.txt", ".", ""):
        refused = await client.delete(url(project, "file"), params={"path": path})
        assert refused.status_code == 400, path
    assert read(outside / "secret.txt") == SECRET and is_dir(project["path"])


async def test_denied_paths_are_hidden_and_refused(client: Client, project: dict[str, Any]) -> None:
    root = Path(project["path"])
    write(root / "secrets/key.pem", "KEY")
    write(root / ".env", "TOKEN=1")
    await client.patch(
        f"/api/workspace/sandbox?project_id={project['id']}",
        json={"denied_paths": ["secrets", ".env"]},
    )
    names = [e["name"] for e in (await client.get(url(project, "tree"))).json()["entries"]]
    assert "secrets" not in names and ".env" not in names and "src" in names
    denied: list[Request] = [
        ("GET", "file", {"params": {"path": ".env"}}),
        ("GET", "download", {"params": {"path": "secrets/key.pem"}}),
        ("GET", "tree", {"params": {"path": "secrets"}}),
        ("PUT", "file", {"json": {"path": "secrets/new.txt", "content": "x"}}),
        ("DELETE", "file", {"params": {"path": ".env"}}),
        ("POST", "rename", {"json": {"from": "README.md", "to": ".env"}}),
        ("POST", "rename", {"json": {"from": "secrets", "to": "public"}}),
    ]
    for method, route, kwargs in denied:
        answer = await client.request(method, url(project, route), **kwargs)
        assert answer.status_code == 403 and code(answer) == "PATH_DENIED", (route, kwargs)
        assert "KEY" not in answer.text and "TOKEN" not in answer.text
    write(root / "holder/.env", "x")
    await client.patch(
        f"/api/workspace/sandbox?project_id={project['id']}",
        json={"denied_paths": ["secrets", ".env", "holder/.env"]},
    )
    holding: list[Request] = [
        ("DELETE", "file", {"params": {"path": "holder", "recursive": True}}),
        ("POST", "rename", {"json": {"from": "holder", "to": "moved"}}),
    ]
    for method, route, kwargs in holding:
        answer = await client.request(method, url(project, route), **kwargs)
        assert answer.status_code == 403 and code(answer) == "PATH_DENIED", route
    assert read(root / "holder/.env") == "x" and read(root / ".env") == "TOKEN=1"


async def test_a_read_only_project_refuses_every_change(
    client: Client, project: dict[str, Any]
) -> None:
    await client.patch(
        f"/api/workspace/sandbox?project_id={project['id']}", json={"read_only": True}
    )
    for method, route, kwargs in (
        ("PUT", "file", {"json": {"path": "README.md", "content": "x"}}),
        ("POST", "mkdir", {"json": {"path": "d"}}),
        ("POST", "rename", {"json": {"from": "README.md", "to": "R.md"}}),
        ("DELETE", "file", {"params": {"path": "README.md"}}),
        ("POST", "upload", {"files": {"file": ("u.txt", b"x")}}),
    ):
        answer = await client.request(method, url(project, route), **kwargs)
        assert answer.status_code == 403 and code(answer) == "PROJECT_READ_ONLY", route
    assert read(Path(project["path"]) / "README.md") == "# Browse\n"
    assert (await client.get(url(project, "file"), params={"path": "README.md"})).status_code == 200


async def test_big_or_binary_files_are_for_download(
    client: Client, project: dict[str, Any]
) -> None:
    root = Path(project["path"])
    write(root / "big.txt", "b" * (1024 * 1024 + 1))
    (root / "bin.dat").write_bytes(b"\x00\xff\x00")
    big = await client.get(url(project, "file"), params={"path": "big.txt"})
    assert big.status_code == 413 and code(big) == "FILE_TOO_LARGE"
    binary = await client.get(url(project, "file"), params={"path": "bin.dat"})
    assert binary.status_code == 400 and code(binary) == "FILE_NOT_TEXT"
    whole = await client.get(url(project, "download"), params={"path": "big.txt"})
    assert len(whole.content) == 1024 * 1024 + 1
    folder = await client.get(url(project, "file"), params={"path": "src"})
    assert folder.status_code == 400 and code(folder) == "NOT_A_FILE"


LONG = "n" * 256  # one byte over what a file system takes as a name


@pytest.mark.parametrize("path", [LONG, f"src/{LONG}", f"{'é' * 128}/x"])
async def test_a_name_over_255_bytes_is_a_clear_error_in_every_route(
    client: Client, project: dict[str, Any], path: str
) -> None:
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "tree", {"params": {"path": path}}),
        ("GET", "file", {"params": {"path": path}}),
        ("GET", "download", {"params": {"path": path}}),
        ("PUT", "file", {"json": {"path": path, "content": "x"}}),
        ("DELETE", "file", {"params": {"path": path}}),
        ("POST", "mkdir", {"json": {"path": path}}),
        ("POST", "rename", {"json": {"from": path, "to": "x.md"}}),
        ("POST", "rename", {"json": {"from": "README.md", "to": path}}),
        ("POST", "upload", {"data": {"path": path}, "files": {"file": ("x.txt", b"x")}}),
        ("POST", "upload", {"files": {"file": (LONG, b"x")}}),
        ("GET", f"../logo/{project['id']}/{path}.png", {}),
    ]
    for method, route, kwargs in attempts:
        answer = await client.request(method, url(project, route), **kwargs)
        assert answer.status_code == 400, (method, route, answer.text)
        assert answer.json()["error"]["message"], route
    assert read(Path(project["path"]) / "README.md") == "# Browse\n"
