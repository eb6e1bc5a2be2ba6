"""Schemathesis hooks for ``fuzz_api.py`` (loaded through ``SCHEMATHESIS_HOOKS``).

Every POST declares an optional ``Idempotency-Key``, and the generator sends the same few
short keys (``!``, ``0``) to every operation, so most POSTs would be answered 400
``IDEMPOTENCY_KEY_REUSED`` (as declared) before their route is reached. A well-formed key
is made unique per request instead, keeping its shape; a malformed one is sent as it is,
since refusing it is what is being tested.
"""

import itertools
import re
from typing import Any

import schemathesis

HEADER = "Idempotency-Key"
WELL_FORMED = re.compile(r"[\x21-\x7e]{1,255}")
_numbers = itertools.count()


@schemathesis.hook
def before_call(_context: Any, case: Any, _kwargs: dict[str, Any]) -> None:
    if case.headers is None:
        return
    headers = case.headers
    key = headers.get(HEADER)
    if isinstance(key, str) and WELL_FORMED.fullmatch(key):
        suffix = f"-{next(_numbers)}"
        headers[HEADER] = key[: 255 - len(suffix)] + suffix
