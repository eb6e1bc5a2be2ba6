"""The project root as a boundary: every path a tool touches resolves inside it.

Paths are resolved to real paths (symlinks followed) before the check, so ``..``,
absolute paths and symlinks pointing out are all refused the same way; files with
more than one hard link are refused too, since a hard link can reach a file outside
the root that no path check would see. Files are then opened without following a
final symlink, so a link swapped in after the check is refused as well.
"""

import os
from pathlib import Path

from roost.engine.tools.policy import SandboxPolicy
from roost.engine.tools.registry import ToolContext, ToolError


class SandboxError(ToolError):
    """A path outside the project root, or one that is not allowed."""


class Sandbox:
    def __init__(self, root: str | Path, policy: SandboxPolicy | None = None) -> None:
        resolved = Path(root).resolve()
        if not resolved.is_dir():
            raise SandboxError(f"The project root {root} is not a directory")
        self.root = resolved
        self.policy = policy or SandboxPolicy()

    @classmethod
    def of(cls, context: ToolContext) -> "Sandbox":
        """The sandbox of a tool call: its session's project root and policy."""
        if context.working_directory is None:
            raise SandboxError(
                "This session has no project: file tools work inside a project's folder"
            )
        return cls(context.working_directory, context.policy)

    def path(self, given: str, *, must_exist: bool = False) -> Path:
        """``given`` (relative to the root, or absolute inside it) as a real path inside."""
        if not isinstance(given, str) or "\x00" in given:
            raise SandboxError("A path must be text without NUL characters")
        candidate = Path(given) if os.path.isabs(given) else self.root / given
        try:
            resolved = candidate.resolve()
        except (RuntimeError, OSError) as error:  # a symlink loop, a name too long
            raise SandboxError(f"{given} cannot be resolved: {error}") from error
        if resolved != self.root and not resolved.is_relative_to(self.root):
            raise SandboxError(f"{given} is outside the project")
        if resolved != self.root and self.policy.denies(self.relative(resolved)):
            raise SandboxError(f"{self.relative(resolved)} is denied by the project's sandbox")
        if must_exist and not resolved.exists():
            raise SandboxError(f"{self.relative(resolved)} does not exist")
        if resolved.is_file() and resolved.stat().st_nlink > 1:
            raise SandboxError(f"{self.relative(resolved)} has other hard links; not touched")
        return resolved

    def denied(self, path: Path) -> bool:
        """Whether a path inside the root is one the policy hides (for listings)."""
        return path != self.root and self.policy.denies(self.relative(path))

    def relative(self, path: Path) -> str:
        return "." if path == self.root else path.relative_to(self.root).as_posix()

    def read_bytes(self, path: Path, limit: int) -> bytes:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(descriptor, "rb") as handle:
            return handle.read(limit)

    def writable(self, path: Path) -> None:
        if self.policy.read_only:
            raise SandboxError("The project is read-only")

    def write_text(self, path: Path, text: str) -> None:
        self.writable(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.parent.resolve() != path.parent or not path.parent.is_relative_to(self.root):
            raise SandboxError(f"{self.relative(path)} is outside the project")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
        descriptor = os.open(path, flags, 0o644)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
