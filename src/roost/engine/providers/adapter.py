"""The shell both SDK-backed adapters share: the client, the raw stream, the errors.

An adapter built on :class:`StreamingAdapter` says only how to open its streaming request
(the request body) and how to parse the stream's ``data:`` payloads; the shell sets up the
SDK client, reads the raw SSE bytes (no SDK model per chunk), closes the upstream when the
stream ends or is closed, and maps every SDK or transport failure to a ProviderError.
Retrying before the first event is ``retry.stream_with_retries``, around any Provider.
"""

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from types import ModuleType
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import httpx2  # the HTTP client under both SDKs

from roost.engine.providers.base import ModelInfo, ModelRequest, ProviderError, ProviderEvent
from roost.engine.providers.retry import status_error
from roost.engine.providers.wire import SseLines, upstream_message

PLACEHOLDER_KEY = "unused"  # the SDKs insist on a key; without one the header is omitted
CONNECT_TIMEOUT = 10.0
# Every running turn streams on a connection of its own, so their number is bounded by
# the turns, not here; of the idle ones only a few are kept, so that sockets opened for
# a burst of turns close again after it (the SDKs' own default keeps a hundred).
UPSTREAM_LIMITS = httpx2.Limits(
    max_connections=None, max_keepalive_connections=16, keepalive_expiry=5.0
)


class SdkClient(Protocol):
    async def close(self) -> None: ...


class RawResponse(Protocol):
    """The SDK's streaming response, read as bytes."""

    def iter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]: ...


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
            http_client=self.sdk.DefaultAsyncHttpxClient(limits=UPSTREAM_LIMITS),
        )

    @abstractmethod
    def _connect(self, **options: Any) -> ClientT:
        """The SDK client for these options."""

    @abstractmethod
    def _open(self, request: ModelRequest) -> AbstractAsyncContextManager[RawResponse]:
        """The streaming request for ``request``, sent with ``self._headers``."""

    @abstractmethod
    def _parser(self) -> StreamParser:
        """A fresh parser for one stream."""

    @abstractmethod
    async def _models(self) -> list[ModelInfo]:
        """The endpoint's live model list; SDK errors are mapped by ``list_models``."""

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ProviderEvent, None]:
        """Stream one call; closing the generator closes the HTTP response at once."""
        self._check_key()
        lines = SseLines()
        parser = self._parser()
        started = False
        try:
            async with self._open(request) as response:
                async for chunk in response.iter_bytes():
                    for payload in lines.feed(chunk):
                        for event in parser.feed(payload):
                            started = True
                            yield event
            for event in parser.finish():
                yield event
        except self.sdk.APIError as error:
            raise self.error(error) from error
        except httpx2.RequestError as error:
            raise cut_error(self.id, error, started=started, timeout=self.timeout) from error

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
    if isinstance(error, httpx2.TimeoutException):
        message = f"{provider}: the stream stalled (nothing for {timeout:g} s)"
        return ProviderError(message, provider=provider)
    message = f"{provider}: the stream was cut before the model finished ({error})"
    return ProviderError(message, provider=provider, retryable=not started)
