"""The logins ``roost login`` keeps: one per server URL, in ``<home>/credentials.json``,
readable by its owner only (mode 0600)."""

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FILE_NAME = "credentials.json"


def normalise(url: str) -> str:
    """The key a server's login is kept under: its URL without a trailing slash."""
    return url.strip().rstrip("/")


@dataclass(frozen=True)
class Login:
    url: str
    access_token: str
    refresh_token: str
    email: str = ""


class CredentialStore:
    """``{"logins": {url: {url, email, access_token, refresh_token}}}`` in one file."""

    def __init__(self, home: Path) -> None:
        self.path = home / FILE_NAME

    def get(self, url: str) -> Login | None:
        entry = self._read().get(normalise(url))
        if not isinstance(entry, dict):
            return None
        try:
            return Login(
                url=normalise(url),
                access_token=str(entry["access_token"]),
                refresh_token=str(entry["refresh_token"]),
                email=str(entry.get("email", "")),
            )
        except KeyError:
            return None

    def save(self, login: Login) -> None:
        logins = self._read()
        logins[normalise(login.url)] = asdict(login)
        self._write(logins)

    def forget(self, url: str) -> Login | None:
        """Removes the login kept for ``url``; the login it was, if any."""
        login = self.get(url)
        logins = self._read()
        if logins.pop(normalise(url), None) is not None:
            self._write(logins)
        return login

    def _read(self) -> dict[str, Any]:
        try:
            stored = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        logins = stored.get("logins") if isinstance(stored, dict) else None
        return dict(logins) if isinstance(logins, dict) else {}

    def _write(self, logins: dict[str, Any]) -> None:
        """Written whole to a file made with mode 0600, then moved into place, so that the
        tokens are never readable by others, not even for a moment."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fresh = self.path.with_name(f".{FILE_NAME}.{os.getpid()}")
        descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump({"logins": logins}, file, indent=2)
        os.chmod(fresh, 0o600)  # an older file of that name kept its own mode
        os.replace(fresh, self.path)
