"""The built-in file tools, and every way out of the project root they refuse."""

import os
from pathlib import Path
from typing import Any

import pytest

from roost.engine.tools.files import edit_file, glob, grep, list_dir, read_file, write_file
from roost.engine.tools.policy import SandboxPolicy
from roost.engine.tools.registry import ToolError
from roost.engine.tools.sandbox import Sandbox, SandboxError


@pytest.fixture
def project(tmp_path: Path) -> Sandbox:
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def main():\n    return 1\n\nprint(main())\n")
    (root / "README.md").write_text("# Demo\n")
    (tmp_path / "secret.txt").write_text("the secret")
    return Sandbox(root)


@pytest.mark.parametrize(
    "path", ["../secret.txt", "src/../../secret.txt", "/etc/passwd", "a\x00b", "/"]
)
def test_paths_out_of_the_root_are_refused(project: Sandbox, path: str) -> None:
    with pytest.raises(SandboxError):
        read_file(project, {"path": path})
    with pytest.raises(SandboxError):
        write_file(project, {"path": path, "content": "x"})
    assert (project.root.parent / "secret.txt").read_text() == "the secret"


def test_symlinks_pointing_out_are_refused(project: Sandbox) -> None:
    outside = project.root.parent / "secret.txt"
    (project.root / "link.txt").symlink_to(outside)
    (project.root / "linkdir").symlink_to(project.root.parent)
    for path in ("link.txt", "linkdir/secret.txt"):
        with pytest.raises(SandboxError):
            read_file(project, {"path": path})
        with pytest.raises(SandboxError):
            write_file(project, {"path": path, "content": "pwned"})
    assert outside.read_text() == "the secret"
    listed = grep(project, {"pattern": "secret"})
    assert listed == []  # the walk does not follow links


def test_a_hard_link_to_a_file_outside_is_refused(project: Sandbox) -> None:
    os.link(project.root.parent / "secret.txt", project.root / "hard.txt")
    with pytest.raises(SandboxError, match="hard links"):
        read_file(project, {"path": "hard.txt"})
    with pytest.raises(SandboxError):
        write_file(project, {"path": "hard.txt", "content": "pwned"})
    assert (project.root.parent / "secret.txt").read_text() == "the secret"


def test_a_link_swapped_in_after_the_check_is_not_followed(project: Sandbox) -> None:
    checked = project.path("swap.txt")
    checked.symlink_to(project.root.parent / "secret.txt")  # swapped in after the check
    with pytest.raises(SandboxError, match="link"):
        project.write_text("swap.txt", "pwned")
    assert (project.root.parent / "secret.txt").read_text() == "the secret"


def test_links_inside_the_project_are_not_followed_either(project: Sandbox) -> None:
    (project.root / "inner").symlink_to(project.root / "src")
    (project.root / "app-link.py").symlink_to(project.root / "src" / "app.py")
    for path in ("inner/app.py", "app-link.py"):
        with pytest.raises(SandboxError, match="link"):
            read_file(project, {"path": path})
    assert list_dir(project, {}) == ["README.md", "app-link.py", "inner", "src/"]


def test_read_write_and_line_ranges(project: Sandbox) -> None:
    assert read_file(project, {"path": "src/app.py", "offset": 2, "limit": 1}) == "    return 1\n"
    assert "Wrote" in write_file(project, {"path": "new/dir/notes.txt", "content": "hi"})
    assert read_file(project, {"path": "/" + str(project.root / "new/dir/notes.txt")[1:]}) == "hi"


def test_edit_needs_exactly_one_match_unless_replace_all(project: Sandbox) -> None:
    with pytest.raises(ToolError, match="not found"):
        edit_file(project, {"path": "src/app.py", "old_text": "nope", "new_text": "x"})
    write_file(project, {"path": "twice.txt", "content": "a a"})
    with pytest.raises(ToolError, match="2 times"):
        edit_file(project, {"path": "twice.txt", "old_text": "a", "new_text": "b"})
    edit_file(project, {"path": "twice.txt", "old_text": "a", "new_text": "b", "replace_all": True})
    assert read_file(project, {"path": "twice.txt"}) == "b b"
    edit_file(project, {"path": "src/app.py", "old_text": "return 1", "new_text": "return 2"})
    assert "return 2" in read_file(project, {"path": "src/app.py"})


def test_listing_globbing_and_searching(project: Sandbox) -> None:
    assert list_dir(project, {}) == ["README.md", "src/"]
    assert glob(project, {"pattern": "src/*.py"}) == ["src/app.py"]
    with pytest.raises(ToolError):
        glob(project, {"pattern": "../*"})
    assert grep(project, {"pattern": r"def \w+"}) == ["src/app.py:1: def main():"]
    with pytest.raises(ToolError, match="regular expression"):
        grep(project, {"pattern": "("})


@pytest.mark.parametrize("args", [{"path": 5}, {"path": None}, {}])
def test_wrong_arguments_are_tool_errors(project: Sandbox, args: dict[str, Any]) -> None:
    with pytest.raises(ToolError):
        read_file(project, args)


def test_denied_paths_are_hidden_from_every_tool(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("API_KEY=hunter2\n")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "k.txt").write_text("topsecret\n")
    (tmp_path / "app.py").write_text("print('open')\n")
    # Spelled the ways people write them: all mean the same project-relative names.
    policy = SandboxPolicy.from_json({"denied_paths": ["./.env", "/secrets/", "secrets"]})
    assert policy.denied_paths == (".env", "secrets")
    sandbox = Sandbox(tmp_path, policy)
    assert list_dir(sandbox, {}) == ["app.py"]
    assert glob(sandbox, {"pattern": "*"}) == ["app.py"]
    assert grep(sandbox, {"pattern": "."}) == ["app.py:1: print('open')"]
    for path in (".env", "secrets/k.txt", "secrets"):
        with pytest.raises(ToolError, match="denied"):
            read_file(sandbox, {"path": path})
    with pytest.raises(ToolError, match="denied"):
        grep(sandbox, {"pattern": ".", "path": "secrets"})


def test_a_symlink_loop_is_a_clear_error(project: Sandbox) -> None:
    (project.root / "loop").symlink_to(project.root / "loop")
    for path in ("loop", "loop/x"):
        with pytest.raises(ToolError, match="goes through a link"):
            read_file(project, {"path": path})


LONG = "n" * 256  # one byte over what a file system takes as a name


@pytest.mark.parametrize("path", [LONG, f"src/{LONG}/app.py", "é" * 128])
def test_a_name_over_255_bytes_is_a_clear_error(project: Sandbox, path: str) -> None:
    calls: list[tuple[Any, dict[str, Any]]] = [
        (read_file, {"path": path}),
        (write_file, {"path": path, "content": "x"}),
        (edit_file, {"path": path, "old_text": "a", "new_text": "b"}),
        (list_dir, {"path": path}),
        (grep, {"pattern": "x", "path": path}),
    ]
    for tool, args in calls:
        with pytest.raises(SandboxError, match="255") as refused:
            tool(project, args)
        assert refused.value.reason == "invalid", tool
    assert glob(project, {"pattern": LONG}) == []


def test_a_file_too_big_to_edit_is_left_whole(project: Sandbox) -> None:
    big = "a" * (4 * 1024 * 1024) + "tail"
    (project.root / "big.txt").write_text(big)
    with pytest.raises(ToolError, match="not changed"):
        edit_file(project, {"path": "big.txt", "old_text": "a", "new_text": "b"})
    assert (project.root / "big.txt").read_text() == big
