"""When a request is tried again, and how long to wait first."""

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from roost.client.errors import RoostError

# Statuses that say "later": over a rate limit, or briefly unavailable.
RETRY_STATUSES = frozenset({429, 503})
# A 503 that no wait fixes: the server has no model provider configured.
PERMANENT_CODES = frozenset({"PROVIDER_NOT_CONFIGURED"})
# Failures where the server has sent nothing back yet. Only errors raised while a request
# is sent and its headers awaited count: once a body has been read in part, a retry could
# repeat work whose answer was lost halfway.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.NetworkError,
    httpx.TimeoutException,
    httpx.RemoteProtocolError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """``max_retries`` tries after the first; waits of ``Retry-After`` when the server
    gives one (capped at ``max_delay``), else an exponential backoff with jitter."""

    max_retries: int = 2
    max_delay: float = 30.0
    base_delay: float = 0.25
    max_backoff: float = 8.0

    def retries(self, error: RoostError) -> bool:
        """Whether an error answer is worth another try."""
        if error.status == 409:
            # The same Idempotency-Key is still being answered: the server says when to
            # ask again, and the retry then gets the first request's answer.
            return error.code == "IDEMPOTENCY_KEY_IN_USE"
        return error.status in RETRY_STATUSES and error.code not in PERMANENT_CODES

    def delay(self, attempt: int, headers: Mapping[str, str] | None = None) -> float:
        """Seconds to wait before try ``attempt + 1`` (``attempt`` counts from 0)."""
        asked = retry_after(headers or {})
        if asked is not None:
            return min(max(asked, 0.0), self.max_delay)
        return self.backoff(attempt)

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.base_delay * 2.0**attempt, self.max_backoff)
        # Jitter keeps many clients cut off together from coming back in step.
        return ceiling * (0.5 + random.random() / 2)  # noqa: S311 - not for secrets


def retry_after(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` in seconds: a number of seconds, or an HTTP date."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None or not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)
