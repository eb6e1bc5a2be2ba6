"""Passwords: argon2id hashes, computed off the event loop, and a floor on strength."""

import asyncio
import re
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from roost.errors import ValidationFailed

HASHER = PasswordHasher()  # argon2id, RFC 9106 defaults (~0.1 s, 64 MiB)
MAX_LENGTH = 256
COMMON = frozenset(
    {
        "password",
        "password1",
        "password123",
        "1234567890",
        "12345678910",
        "qwertyuiop",
        "letmein123",
        "iloveyou12",
        "administrator",
        "0123456789",
        "passw0rd12",
        "changeme123",
    }
)


@cache
def _dummy_hash() -> str:
    """Verifying against this when an email is unknown keeps the two answers equally slow;
    made at first use, not at import (a hash costs every process that imports this ~0.1 s)."""
    return HASHER.hash("roost-dummy-password")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(HASHER.hash, password)


async def verify_password(stored: str | None, password: str) -> bool:
    def check() -> bool:
        try:
            return HASHER.verify(stored or _dummy_hash(), password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def check_strength(password: str, min_length: int, *, email: str = "", name: str = "") -> None:
    problems = []
    if len(password) < min_length:
        problems.append(f"must be at least {min_length} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    lowered = password.lower()
    if lowered in COMMON or len(set(password)) < 4:
        problems.append("is too easy to guess")
    if (email and lowered == email.lower()) or (name and lowered == name.lower()):
        problems.append("must not be your email or name")
    if re.fullmatch(r"\d+", password):
        problems.append("must not be only digits")
    if problems:
        raise ValidationFailed(
            "The password is too weak",
            [{"field": "password", "in": "body", "reason": "; ".join(problems)}],
        )
