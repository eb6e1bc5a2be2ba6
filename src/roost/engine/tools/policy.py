"""A project's sandbox policy: what its tools may do, beyond staying inside its root."""

import fnmatch
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SandboxPolicy:
    """What a project's tools may do. Owners may only tighten it (see :meth:`loosened_by`)."""

    read_only: bool = False
    allow_commands: bool = True
    allow_network: bool = True
    denied_paths: tuple[str, ...] = ()  # glob patterns, relative to the project root

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> "SandboxPolicy":
        data = data or {}
        return cls(
            read_only=bool(data.get("read_only", False)),
            allow_commands=bool(data.get("allow_commands", True)),
            allow_network=bool(data.get("allow_network", True)),
            denied_paths=tuple(
                dict.fromkeys(
                    pattern for pattern in map(_pattern, data.get("denied_paths") or ()) if pattern
                )
            ),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "read_only": self.read_only,
            "allow_commands": self.allow_commands,
            "allow_network": self.allow_network,
            "denied_paths": list(self.denied_paths),
        }

    def loosened_by(self, other: "SandboxPolicy") -> list[str]:
        """The fields where ``other`` allows something this policy does not."""
        loosened = []
        if self.read_only and not other.read_only:
            loosened.append("read_only")
        if not self.allow_commands and other.allow_commands:
            loosened.append("allow_commands")
        if not self.allow_network and other.allow_network:
            loosened.append("allow_network")
        if set(self.denied_paths) - set(other.denied_paths):
            loosened.append("denied_paths")
        return loosened

    def denies(self, relative: str) -> bool:
        """Whether a project-relative path, or a folder it is in, matches a denied pattern."""
        parts = relative.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        return any(
            fnmatch.fnmatch(prefix, pattern) for pattern in self.denied_paths for prefix in prefixes
        )


def _pattern(given: Any) -> str:
    """Patterns are matched against paths like ``src/app.py``: ``./secrets``, ``/secrets``
    and ``secrets/`` all mean ``secrets``."""
    pattern = str(given).strip()
    while pattern.startswith("./"):
        pattern = pattern[2:]
    return pattern.strip("/")
