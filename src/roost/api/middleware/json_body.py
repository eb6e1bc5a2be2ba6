"""Every JSON request body is plain, portable JSON (I-JSON, RFC 7493) before a route sees it.

Python's parser, which FastAPI uses, accepts what JSON does not: ``NaN``, ``Infinity``,
numbers that overflow to infinity (``1e400``), integers of any size, strings and keys
with unpaired surrogates. None of them survives the way out: orjson refuses integers
beyond 64 bits and unpaired surrogates, and non-finite numbers come back as ``null``.
So they are refused here, once for every route, as 422 with the place of each one.
"""

import math
import re
from collections.abc import Iterator
from typing import Any

from fastapi import Request
from starlette.requests import HTTPConnection

from roost.errors import ValidationFailed

MIN_INT = -(2**63)
MAX_INT = 2**63 - 1
MAX_REPORTED = 20  # a body full of problems gets a short answer

_SURROGATE = re.compile("[\ud800-\udfff]")


async def plain_json_body(request: HTTPConnection) -> None:
    """A dependency of every route: refuse a JSON body that holds what JSON cannot carry
    (a WebSocket has no body; its frames are checked as they come)."""
    if not isinstance(request, Request):
        return
    if not _is_json(request.headers.get("content-type")) or not await request.body():
        return
    try:
        value = await request.json()  # parsed once: FastAPI's own reading cached it
    except (ValueError, RecursionError):
        return  # not JSON at all: a route that reads the body answers 400 itself
    problems = [field for _, field in zip(range(MAX_REPORTED), _problems(value), strict=False)]
    if problems:
        raise ValidationFailed("The request body is not plain JSON", problems)


def _is_json(content_type: str | None) -> bool:
    """What FastAPI reads as JSON: ``application/json`` and ``application/*+json``."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _problems(value: Any) -> Iterator[dict[str, str]]:
    # A loop, not recursion: the parser allows nesting deeper than Python's stack.
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key, item in node.items():
                if _SURROGATE.search(key):
                    yield _field((*path, key), "keys must not hold unpaired surrogates")
                stack.append((item, (*path, key)))
        elif isinstance(node, list):
            stack.extend((item, (*path, index)) for index, item in enumerate(node))
        elif isinstance(node, str):
            if _SURROGATE.search(node):
                yield _field(path, "must not hold unpaired surrogates")
        elif isinstance(node, bool) or node is None:
            continue
        elif isinstance(node, int):
            if not MIN_INT <= node <= MAX_INT:
                yield _field(path, "integers must fit in 64 bits (-2**63 to 2**63-1)")
        elif isinstance(node, float) and not math.isfinite(node):
            yield _field(path, "must be a finite number (NaN, Infinity and 1e400 are not JSON)")


def _field(path: tuple[Any, ...], reason: str) -> dict[str, str]:
    # The path may itself hold the surrogates it reports: escape them to be writable.
    name = ".".join(str(part) for part in path) or "body"
    return {
        "field": name.encode("utf-8", "backslashreplace").decode(),
        "in": "body",
        "reason": reason,
    }
