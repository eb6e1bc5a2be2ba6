"""The shell both adapters share: the clients, the raw stream, the errors.

An adapter built on :class:`StreamingAdapter` says only what its streaming request is
(its path and body) and how to parse the stream's ``data:`` payloads. The shell sends
that request with aiohttp, reads the SSE bytes straight from the response, closes the
upstream when the stream ends or is closed, and maps every failure to a ProviderError.
The vendor's SDK is kept for the cold paths (model lists) and supplies the headers it
would send. The hot path skips it: its typed request building and its HTTP stack cost
about twice as much CPU per streamed token (``bench/bench_stream_reader.py``, figures in
``docs/benchmarks.md``). Retrying before the first event is
``retry.stream_with_retries``, around any Provider.
"""

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Mapping
from types import ModuleType
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import aiohttp
import httpx2  # the HTTP client under both SDKs
import orjson
import yarl
from aiohttp.helpers import get_env_proxy_for_url

from roost.engine.providers.base import (
    ModelInfo,
    ModelRequest,
    ProviderError,
    ProviderEvent,
    merge_deltas,
)
from roost.engine.providers.retry import status_error
from roost.engine.providers.wire import SseLines, upstream_message

PLACEHOLDER_KEY = "unused"  # the SDKs insist on a key; without one the header is omitted
CONNECT_TIMEOUT = 10.0
# The SDKs' clients (model lists) keep few idle connections, as they are seldom used.
SDK_LIMITS = httpx2.Limits(max_connections=100, max_keepalive_connections=4, keepalive_expiry=5.0)
# Every running turn streams on a connection of its own, so their number is bounded by
# the turns, not here; an idle one closes after a few seconds, so that the sockets of a
# burst of turns go with it.
IDLE_CONNECTION_SECONDS = 5.0


class SdkClient(Protocol):
    async def close(self) -> None: ...

    @property
    def base_url(self) -> Any: ...

    @property
    def default_headers(self) -> dict[str, Any]: ...

    @property
    def auth_headers(self) -> dict[str, str]: ...


class StreamParser(Protocol):
    """Turns one stream's ``data:`` payloads into events, and says how it ended."""

    def feed(self, payload: bytes) -> list[ProviderEvent]: ...

    def finish(self) -> list[ProviderEvent]: ...


ClientT = TypeVar("ClientT", bound=SdkClient)


class StreamingAdapter(ABC, Generic[ClientT]):
    """A configured endpoint of one SDK; ``base_url`` None means the vendor's own."""

    sdk: ClassVar[ModuleType]  # ``openai`` or ``anthropic``: same error and Omit names
    default_base_url: ClassVar[str]
    credential_headers: ClassVar[tuple[str, ...]]  # left out when there is no key
    stream_path: ClassVar[str]  # after the base URL: where a streaming request goes

    def __init__(
        self,
        id: str,
        *,
        base_url: str | None,
        api_key: str | None,
        timeout: float = 600,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.id = id
        self.base_url = base_url or self.default_base_url
        self.timeout = timeout
        self._has_key = bool(api_key)
        # A key stored before keys were checked may hold what no header can carry; its
        # calls fail like a refused key's instead of breaking inside the HTTP client.
        self._sendable_key = api_key is None or all(" " < c <= "~" for c in api_key)
        self._headers: dict[str, Any] = (
            {} if api_key else {name: self.sdk.Omit() for name in self.credential_headers}
        )
        self._client = self._connect(
            api_key=api_key or PLACEHOLDER_KEY,
            base_url=self.base_url,
            timeout=httpx2.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)),
            max_retries=0,  # retries are Roost's: only before the first event
            default_headers=default_headers,
            http_client=self.sdk.DefaultAsyncHttpxClient(limits=SDK_LIMITS),
        )
        self._stream_url = str(self._client.base_url).rstrip("/") + self.stream_path
        self._stream_headers = self._wire_headers()
        self._timeouts = aiohttp.ClientTimeout(
            total=None, sock_connect=min(timeout, CONNECT_TIMEOUT), sock_read=timeout
        )
        self._proxy, self._proxy_auth = _env_proxy(self._stream_url)
        self._session: aiohttp.ClientSession | None = None

    @abstractmethod
    def _connect(self, **options: Any) -> ClientT:
        """The SDK client for these options."""

    @abstractmethod
    def _body(self, request: ModelRequest) -> dict[str, Any]:
        """The streaming request's JSON body for ``request``."""

    @abstractmethod
    def _parser(self) -> StreamParser:
        """A fresh parser for one stream."""

    @abstractmethod
    async def _models(self) -> list[ModelInfo]:
        """The endpoint's live model list; SDK errors are mapped by ``list_models``."""

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ProviderEvent, None]:
        """Stream one call; closing the generator closes the HTTP response at once."""
        self._check_key()
        body = orjson.dumps(self._body(request))
        lines = SseLines()
        parser = self._parser()
        answered = started = False
        try:
            async with self._http().post(
                self._stream_url,
                data=body,
                headers=self._stream_headers,
                timeout=self._timeouts,
                proxy=self._proxy,
                proxy_auth=self._proxy_auth,
            ) as response:
                answered = True
                if response.status >= 400:
                    raise self._refused(response.status, response.headers, await response.read())
                async for chunk in response.content.iter_any():
                    read: list[ProviderEvent] = []
                    failure: ProviderError | None = None
                    try:
                        for payload in lines.feed(chunk):
                            read += parser.feed(payload)
                    except ProviderError as error:  # an error event: what came first stands
                        failure = error
                    for event in merge_deltas(read):
                        started = True
                        yield event
                    if failure is not None:
                        raise failure
                    # A burst already received is read without a pause: let the other
                    # turns, and the commit and sending of this one's events, have a go.
                    await asyncio.sleep(0)
            for event in parser.finish():
                yield event
        except (TimeoutError, aiohttp.ClientError) as error:
            raise self._failed(error, answered=answered, started=started) from error

    async def list_models(self) -> list[ModelInfo]:
        self._check_key()
        try:
            return await self._models()
        except self.sdk.APIError as error:
            raise self.error(error) from error

    def _check_key(self) -> None:
        if not self._sendable_key:
            raise ProviderError(
                f"{self.id}: the API key holds characters an HTTP header cannot carry; "
                "set the key again",
                provider=self.id,
                status=401,
            )

    async def aclose(self) -> None:
        await self._client.close()
        if self._session is not None:
            await self._session.close()

    def _http(self) -> aiohttp.ClientSession:
        """The streaming client, made in the event loop that first streams."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=IDLE_CONNECTION_SECONDS)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    def _wire_headers(self) -> dict[str, str]:
        """The headers the SDK would send, without the credentials when there is no key."""
        client = self._client
        headers = {**client.default_headers, **(client.auth_headers if self._has_key else {})}
        headers["Accept"] = "text/event-stream"
        left_out = (
            {name.lower() for name in self.credential_headers} if not self._has_key else set()
        )
        return {
            name: value
            for name, value in headers.items()
            if isinstance(value, str) and name.lower() not in left_out
        }

    def _refused(self, status: int, headers: Mapping[str, str], raw: bytes) -> ProviderError:
        """The ProviderError for an error status, with the provider's own message."""
        try:
            body: object = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = raw.decode(errors="replace")
        return status_error(self.id, status, headers, upstream_message(body), has_key=self._has_key)

    def _failed(self, error: Exception, *, answered: bool, started: bool) -> ProviderError:
        """The ProviderError for a transport failure: before an answer, one that may be
        retried (could not connect) or not (no answer in time); once the stream was
        open, see :func:`cut_error`."""
        if answered:
            return cut_error(self.id, error, started=started, timeout=self.timeout)
        if isinstance(error, asyncio.TimeoutError):
            message = f"{self.id}: no answer within {self.timeout:g} s"
            return ProviderError(message, provider=self.id)
        return ProviderError(
            f"{self.id}: could not connect to {self.base_url}", provider=self.id, retryable=True
        )

    def error(self, error: Exception) -> ProviderError:
        """The ProviderError for an exception of the SDK."""
        return sdk_error(
            self.sdk,
            error,
            provider=self.id,
            base_url=self.base_url,
            timeout=self.timeout,
            has_key=self._has_key,
        )


def _env_proxy(url: str) -> tuple[yarl.URL | None, aiohttp.BasicAuth | None]:
    """The proxy the environment sets for ``url`` (``HTTPS_PROXY``, ``NO_PROXY``, …), as
    the SDKs follow it; read once. aiohttp's ``trust_env`` would read it, and ~/.netrc,
    in a worker thread on every request."""
    try:
        return get_env_proxy_for_url(yarl.URL(url))
    except LookupError:
        return None, None


def sdk_error(
    sdk: ModuleType,
    error: Exception,
    *,
    provider: str,
    base_url: str,
    timeout: float,
    has_key: bool,
) -> ProviderError:
    """The ProviderError for an exception of the ``openai`` or ``anthropic`` SDK, whose
    error classes have the same names and fields."""
    if isinstance(error, sdk.APIStatusError):
        message = upstream_message(error.body)
        headers = error.response.headers
        return status_error(provider, error.status_code, headers, message, has_key=has_key)
    if isinstance(error, sdk.APITimeoutError):
        return ProviderError(f"{provider}: no answer within {timeout:g} s", provider=provider)
    if isinstance(error, sdk.APIConnectionError):
        return ProviderError(
            f"{provider}: could not connect to {base_url}", provider=provider, retryable=True
        )
    return ProviderError(f"{provider}: {getattr(error, 'message', error)}", provider=provider)


def cut_error(provider: str, error: Exception, *, started: bool, timeout: float) -> ProviderError:
    """The ProviderError for a transport failure while reading a stream.

    A connection cut before any event is as safe to retry as a refused one; once events
    have gone out it is not. A stall is never retried: it has already cost ``timeout``.
    """
    if isinstance(error, httpx2.TimeoutException | asyncio.TimeoutError):
        message = f"{provider}: the stream stalled (nothing for {timeout:g} s)"
        return ProviderError(message, provider=provider)
    message = f"{provider}: the stream was cut before the model finished ({error})"
    return ProviderError(message, provider=provider, retryable=not started)
