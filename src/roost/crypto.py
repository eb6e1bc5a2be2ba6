"""Secrets at rest: provider keys are encrypted with Fernet (AES-128-CBC + HMAC-SHA256).

The key comes from ``ROOST_SECRET_KEY``, else from ``<home>/secret.key``, made on first
use with mode 0600. Losing that file makes stored provider keys unreadable, nothing else.
"""

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

KEY_FILE = "secret.key"


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def from_home(cls, home: Path, configured: str | None = None) -> "SecretBox":
        if configured:
            return cls(configured.encode())
        path = home / KEY_FILE
        if not path.exists():
            home.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(Fernet.generate_key())
        return cls(path.read_bytes().strip())

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str | None:
        """The secret, or None if it was sealed with another key."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None


def preview(secret: str) -> str:
    """Enough of a key to recognise it, never enough to use it: ``sk-ant-api...bQAA``;
    a shorter secret shows only its end, a short one nothing."""
    if len(secret) <= 12:
        return "*" * len(secret)
    if len(secret) < 32:
        return f"...{secret[-4:]}"
    return f"{secret[:10]}...{secret[-4:]}"
