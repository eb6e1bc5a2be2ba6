"""Prefixed, time-ordered, URL-safe ids: ``ses_01jd3x…``.

An id is a type prefix, an underscore and 26 Crockford base32 characters: 48 bits
of milliseconds since the epoch, then 80 bits that are random for the first id of
each millisecond and counted up after it, so ids made by one process sort in the
order they were made (ULID's monotonic scheme). Lower case keeps them tidy in URLs.
"""

import re
import secrets
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_BODY = re.compile(r"[0-9a-hjkmnp-tv-z]{26}")
_RANDOM_BITS = 80

PREFIXES = frozenset(
    {"usr", "ses", "msg", "turn", "evt", "task", "agent", "key", "req", "proj", "skill", "mem"}
    | {"rt", "inv", "lgn", "loc", "mcp", "inp", "file", "art", "job", "jrun", "term"}
    | {"run", "tset", "case", "eval", "res"}
)

_lock = threading.Lock()
_last_ms = -1
_last_random = 0


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def _next_value() -> int:
    global _last_ms, _last_random
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms > _last_ms:
            _last_ms = now_ms
            _last_random = secrets.randbits(_RANDOM_BITS - 1)  # room left to count up
        else:
            _last_random += 1
        return (_last_ms << _RANDOM_BITS) | _last_random


def new_id(prefix: str) -> str:
    """A new id with ``prefix``, greater than every id this process made before."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    return f"{prefix}_{_encode(_next_value(), 26)}"


def is_valid(prefix: str, value: str) -> bool:
    """Whether ``value`` has the shape of an id with ``prefix``."""
    head, sep, body = value.partition("_")
    return sep == "_" and head == prefix and _BODY.fullmatch(body) is not None
