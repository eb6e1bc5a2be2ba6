"""Which provider failures may be retried, how long to wait, and the retrying itself.

Retries happen only before the first event: once text has reached the user, a new
attempt would repeat or contradict it, so later errors propagate.
"""

import asyncio
import email.utils
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing

from roost.engine.providers.base import (
    ModelRequest,
    Provider,
    ProviderError,
    ProviderEvent,
    TextDelta,
    UsageReport,
)

RETRYABLE_STATUSES = frozenset({408, 409, 429})  # and every 5xx


def status_error(
    provider: str,
    status: int,
    headers: Mapping[str, str],
    upstream: str | None,
    *,
    has_key: bool = True,
) -> ProviderError:
    """The ProviderError for an HTTP error status, with ``retry_after`` from its headers."""
    detail = f": {upstream}" if upstream else ""
    if status in (401, 403):
        what = "the API key was rejected" if has_key else "no API key is configured"
        return ProviderError(
            f"{provider}: {what} (HTTP {status}){detail}", provider=provider, status=status
        )
    retryable = status in RETRYABLE_STATUSES or status >= 500
    kind = (
        "rate limited" if status == 429 else "server error" if status >= 500 else "request refused"
    )
    return ProviderError(
        f"{provider}: {kind} (HTTP {status}){detail}",
        provider=provider,
        status=status,
        retryable=retryable,
        retry_after=retry_after_seconds(headers) if retryable else None,
    )


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff(attempt: int, base_delay: float, max_delay: float, retry_after: float | None) -> float:
    """Seconds before retry ``attempt`` (1-based): the server's word if given, else jittered."""
    if retry_after is not None:
        return min(retry_after, max_delay)
    ceiling = min(max_delay, base_delay * 2.0 ** (attempt - 1))
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not secrecy


async def stream_with_retries(
    provider: Provider,
    request: ModelRequest,
    *,
    attempts: int = 3,
    base_delay: float = 0.5,
    max_delay: float = 8.0,
) -> AsyncGenerator[ProviderEvent, None]:
    """``provider.stream(request)``, retrying retryable errors that come before the first event."""
    for attempt in range(1, attempts + 1):
        started = False
        events = provider.stream(request)
        try:
            async for event in events:
                started = True
                yield event
            return
        except ProviderError as error:
            if started or not error.retryable or attempt >= attempts:
                raise
            delay = backoff(attempt, base_delay, max_delay, error.retry_after)
        finally:
            await _close(events)
        await asyncio.sleep(delay)


async def _close(events: AsyncIterator[ProviderEvent]) -> None:
    close = getattr(events, "aclose", None)
    if close is not None:
        await close()


async def complete(
    provider: Provider, request: ModelRequest, *, attempts: int = 3
) -> tuple[str, UsageReport | None]:
    """Drain a stream into its text and usage, for cold paths such as titles."""
    parts: list[str] = []
    usage: UsageReport | None = None
    async with aclosing(stream_with_retries(provider, request, attempts=attempts)) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                parts.append(event.text)
            elif isinstance(event, UsageReport):
                usage = event
    return "".join(parts), usage
