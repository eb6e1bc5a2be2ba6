"""Rate limits per principal (API.md §4): requests a minute, and requests at once.

The principal is the API key or user the credential proves, else the client address
(``request.client.host``: the connecting peer, or the client a proxy of
``ROOST_TRUSTED_PROXIES`` names in ``X-Forwarded-For``; this layer never reads that
header itself). A credential that does not verify counts against the address, so a
forged token cannot spend someone else's budget.

This is a pure-ASGI layer inside CORS rather than a route dependency, because:

- it counts every request under ``/api``, unknown routes and bodies FastAPI cannot parse
  included (FastAPI parses the body before it runs any dependency), so every response
  can carry ``X-RateLimit-*``;
- it refuses before the body is read, so a throttled client cannot make us parse 10 MB;
- it holds a concurrency slot until the whole response has been sent: a stream's until
  it ends or its client leaves.

The caller is still resolved by :func:`roost.api.deps.optional_caller`, which caches it on
``request.state``; the route's own dependencies reuse it rather than verify again.
"""

from dataclasses import dataclass

import anyio
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roost.api.deps import optional_caller
from roost.api.middleware.context import RESPONSE_HEADERS
from roost.api.middleware.error_handlers import render
from roost.bus.limits import Counters, Window
from roost.config import Settings
from roost.errors import RateLimited

WINDOW_SECONDS = 60
DEFAULT_PER_MINUTE = 100
DEFAULT_ANONYMOUS_PER_MINUTE = 10
DEFAULT_CONCURRENT = 20
# Paths that count: the API (``/api/v1`` included) and the OpenAI-compatible routes of
# API.md §15. Health checks do not: a load balancer probes often, from one address, and
# must not use up that address's budget, nor be refused. Nor do the docs and static files.
LIMITED_PREFIXES = ("/api/", "/v1/")
LIMITED_PATHS = frozenset({"/api", "/v1"})
UNLIMITED_PATHS = frozenset({"/health", "/api/health", "/api/v1/health"})
# Headers a browser on another origin may read (CORS ``expose_headers``).
EXPOSED_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After")
# No slot frees at a known time; a client told to wait a second retries soon, not hard.
CONCURRENT_RETRY_SECONDS = 1


@dataclass(frozen=True)
class RateLimits:
    """The limits in force; ``None`` is no limit."""

    per_minute: int | None
    anonymous_per_minute: int | None
    concurrent: int | None

    @classmethod
    def from_settings(cls, settings: Settings) -> "RateLimits":
        if settings.auth_mode == "local":
            # The local owner is never throttled unless someone asked for it explicitly.
            return cls(
                settings.rate_limit_per_minute,
                settings.rate_limit_anonymous_per_minute,
                settings.rate_limit_concurrent,
            )
        return cls(
            _or(settings.rate_limit_per_minute, DEFAULT_PER_MINUTE),
            _or(settings.rate_limit_anonymous_per_minute, DEFAULT_ANONYMOUS_PER_MINUTE),
            _or(settings.rate_limit_concurrent, DEFAULT_CONCURRENT),
        )

    @property
    def enabled(self) -> bool:
        return (self.per_minute, self.anonymous_per_minute, self.concurrent) != (None,) * 3


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def limited(path: str) -> bool:
    if path in UNLIMITED_PATHS:
        return False
    return path in LIMITED_PATHS or path.startswith(LIMITED_PREFIXES)


def window_headers(window: Window) -> list[tuple[bytes, bytes]]:
    return [
        (b"x-ratelimit-limit", str(window.limit).encode()),
        (b"x-ratelimit-remaining", str(window.remaining).encode()),
        (b"x-ratelimit-reset", str(window.reset_at).encode()),
    ]


def refusal(retry_after: int, limit: str) -> RateLimited:
    return RateLimited(
        f"Rate limit exceeded ({limit}); retry in {retry_after} s",
        details={"retry_after_seconds": retry_after, "limit": limit},
        headers={"Retry-After": str(retry_after)},
    )


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def is_event_stream(message: Message) -> bool:
    for name, value in message.get("headers", ()):
        if name.lower() == b"content-type":
            return bool(value.lower().startswith(b"text/event-stream"))
    return False


class RateLimitMiddleware:
    """Counts each limited request once against its principal's window and holds one of
    its concurrent slots while it runs; refuses with 429 ``RATE_LIMITED`` past either."""

    def __init__(self, app: ASGIApp, limits: RateLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.limits.enabled or not limited(scope["path"]):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        caller = await optional_caller(request)
        counters: Counters = scope["app"].state.services.counters
        key = f"req:{caller.principal}"
        refused = await self._count(counters, key, caller.anonymous, scope)
        holding = False
        if refused is None and self.limits.concurrent is not None:
            holding = await counters.acquire(key, self.limits.concurrent)
            if not holding:
                limit = plural(self.limits.concurrent, "concurrent request")
                refused = refusal(CONCURRENT_RETRY_SECONDS, limit)
        if refused is not None:
            await render(request, refused)(scope, receive, send)
            return
        if not holding:
            await self.app(scope, receive, send)
            return

        # A stream holds its slot for as long as it is open, so that no principal can keep
        # unbounded readers (each a connection and a database reader); the slot frees when
        # the stream ends or its client leaves, which ends the app's call.
        try:
            await self.app(scope, receive, send)
        finally:
            # Shielded: a cancelled request must still give its slot back (in Redis it
            # would otherwise stay taken until the key expires).
            with anyio.CancelScope(shield=True):
                await counters.release(key)

    async def _count(
        self, counters: Counters, key: str, anonymous: bool, scope: Scope
    ) -> RateLimited | None:
        """Count the request in its window; the refusal when the window is spent."""
        per_minute = self.limits.anonymous_per_minute if anonymous else self.limits.per_minute
        if per_minute is None:
            return None
        window = await counters.hit(key, per_minute, WINDOW_SECONDS)
        # Left for RequestContextMiddleware, which adds them to whatever answers, errors too.
        scope.setdefault("state", {})[RESPONSE_HEADERS] = window_headers(window)
        if window.allowed:
            return None
        return refusal(window.retry_after, plural(per_minute, "request") + " per minute")
