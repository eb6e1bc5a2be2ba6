"""The transport under both clients: one request described once (a ``Call``), sent with
the credential, the retries and the error envelope handled the same way, sync or async."""

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx

from roost import __version__
from roost.client._retry import TRANSIENT_ERRORS, RetryPolicy
from roost.client.errors import APIConnectionError, RoostError, error_from_response

T = TypeVar("T")

DEFAULT_URL = "http://127.0.0.1:8787"
DEFAULT_TIMEOUT = 30.0
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API request and how to read its answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: httpx.Timeout | None = None


@dataclass(frozen=True)
class Settings:
    base_url: str
    token: str | None
    timeout: httpx.Timeout
    policy: RetryPolicy
    headers: dict[str, str]

    @classmethod
    def of(
        cls,
        base_url: str | None,
        token: str | None,
        timeout: float | httpx.Timeout,
        max_retries: int,
        headers: Mapping[str, str] | None,
    ) -> "Settings":
        """Arguments first, then ``ROOST_URL`` and ``ROOST_TOKEN``, then the defaults."""
        url = (base_url or os.environ.get("ROOST_URL") or DEFAULT_URL).rstrip("/")
        token = token if token is not None else (os.environ.get("ROOST_TOKEN") or None)
        sent = {"User-Agent": f"roost-client/{__version__}", "Accept": "application/json"}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        sent.update(headers or {})
        limit = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        return cls(url, token, limit, RetryPolicy(max_retries=max(max_retries, 0)), sent)


def _request(client: httpx.Client | httpx.AsyncClient, call: Call[Any]) -> httpx.Request:
    headers = dict(call.headers)
    if call.method == "POST" and IDEMPOTENCY_HEADER not in headers:
        # Every POST carries a key, so that a retry after a lost answer is never done
        # twice: the server answers it again from what it kept.
        headers[IDEMPOTENCY_HEADER] = str(uuid.uuid4())
    params = {k: v for k, v in (call.params or {}).items() if v is not None}
    return client.build_request(
        call.method,
        call.path,
        params=params or None,
        json=call.json,
        headers=headers,
        timeout=call.timeout if call.timeout is not None else httpx.USE_CLIENT_DEFAULT,
    )


def _broken(error: Exception) -> APIConnectionError:
    return APIConnectionError(f"{type(error).__name__}: {error}")


class SyncHTTP:
    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None) -> None:
        self.settings = settings
        self.policy = settings.policy
        self._client = httpx.Client(
            base_url=settings.base_url,
            headers=settings.headers,
            timeout=settings.timeout,
            transport=transport,
        )

    def run(self, call: Call[T]) -> T:
        return call.parse(self._send(call, stream=False))

    @contextmanager
    def open(self, call: Call[Any]) -> Iterator[httpx.Response]:
        """The response with its body unread (a stream); closed on leaving."""
        response = self._send(call, stream=True)
        try:
            yield response
        finally:
            response.close()

    def close(self) -> None:
        self._client.close()

    def _send(self, call: Call[Any], *, stream: bool) -> httpx.Response:
        request = _request(self._client, call)
        attempt = 0
        while True:
            try:
                response = self._client.send(request, stream=True)
            except TRANSIENT_ERRORS as error:
                failure: RoostError = _broken(error)
                if attempt >= self.policy.max_retries:
                    raise failure from error
            else:
                if response.is_success and stream:
                    return response
                self._read(response)
                if response.is_success:
                    return response
                failure = error_from_response(response)
                if attempt >= self.policy.max_retries or not self.policy.retries(failure):
                    raise failure
            time.sleep(self.policy.delay(attempt, failure.headers))
            attempt += 1

    @staticmethod
    def _read(response: httpx.Response) -> None:
        try:
            response.read()
        except httpx.TransportError as error:
            raise _broken(error) from error
        finally:
            response.close()


class AsyncHTTP:
    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None) -> None:
        self.settings = settings
        self.policy = settings.policy
        self._client = httpx.AsyncClient(
            base_url=settings.base_url,
            headers=settings.headers,
            timeout=settings.timeout,
            transport=transport,
        )

    async def run(self, call: Call[T]) -> T:
        return call.parse(await self._send(call, stream=False))

    @asynccontextmanager
    async def open(self, call: Call[Any]) -> AsyncIterator[httpx.Response]:
        """The response with its body unread (a stream); closed on leaving."""
        response = await self._send(call, stream=True)
        try:
            yield response
        finally:
            await response.aclose()

    async def close(self) -> None:
        await self._client.aclose()

    async def _send(self, call: Call[Any], *, stream: bool) -> httpx.Response:
        request = _request(self._client, call)
        attempt = 0
        while True:
            try:
                response = await self._client.send(request, stream=True)
            except TRANSIENT_ERRORS as error:
                failure: RoostError = _broken(error)
                if attempt >= self.policy.max_retries:
                    raise failure from error
            else:
                if response.is_success and stream:
                    return response
                await self._read(response)
                if response.is_success:
                    return response
                failure = error_from_response(response)
                if attempt >= self.policy.max_retries or not self.policy.retries(failure):
                    raise failure
            await asyncio.sleep(self.policy.delay(attempt, failure.headers))
            attempt += 1

    @staticmethod
    async def _read(response: httpx.Response) -> None:
        try:
            await response.aread()
        except httpx.TransportError as error:
            raise _broken(error) from error
        finally:
            await response.aclose()
