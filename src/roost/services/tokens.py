"""Tokens: signed access tokens (JWT, HS256, a ``kid`` per secret so secrets can
rotate) and opaque secrets (refresh tokens, API keys) kept only as SHA-256 hashes."""

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt

from roost.clock import utcnow

JWT_KEY_FILE = "jwt.key"
CLOCK_SKEW_SECONDS = 30
ALGORITHM = "HS256"


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    version: int
    login_id: str | None


def fingerprint(secret: str) -> str:
    return hashlib.sha256(f"roost-jwt:{secret}".encode()).hexdigest()[:12]


def hash_secret(secret: str) -> str:
    """High-entropy secrets need no slow hash: SHA-256 is the lookup key."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(prefix: str) -> str:
    return f"{prefix}{secrets.token_urlsafe(32)}"


def secret_from_home(home: Path) -> str:
    """The signing secret kept in ``<home>/jwt.key`` (mode 0600), made on first use."""
    path = home / JWT_KEY_FILE
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


class TokenSigner:
    def __init__(self, current: str, previous: list[str]) -> None:
        self._current_kid = fingerprint(current)
        self._keys = {fingerprint(secret): secret for secret in [*previous, current]}

    def issue(self, claims: AccessClaims, lifetime: timedelta) -> str:
        now = utcnow()
        payload: dict[str, Any] = {
            "sub": claims.user_id,
            "ver": claims.version,
            "typ": "access",
            "iat": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp()),
        }
        if claims.login_id:
            payload["sid"] = claims.login_id
        return jwt.encode(
            payload, self._keys[self._current_kid], ALGORITHM, headers={"kid": self._current_kid}
        )

    def verify(self, token: str) -> AccessClaims | None:
        """The claims of a good token; None for anything else (bad, expired, forged)."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._keys.get(kid) if isinstance(kid, str) else None
            if key is None:
                return None
            payload = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.PyJWTError:
            return None
        if payload.get("typ") != "access" or not isinstance(payload.get("ver"), int):
            return None
        login = payload.get("sid")
        return AccessClaims(
            str(payload["sub"]), payload["ver"], login if isinstance(login, str) else None
        )
