"""The asyncio client: ``AsyncRoost``, with the methods of ``Roost`` to await."""

import builtins
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self, Unpack

import httpx

from roost.client import _calls, _sse, _ws
from roost.client._calls import TurnOptions
from roost.client._http import DEFAULT_TIMEOUT, AsyncHTTP, Settings
from roost.client.models import (
    Agent,
    Health,
    InputAnswer,
    InputRequest,
    Message,
    Model,
    Page,
    Session,
    SessionDetail,
    Turn,
    TurnResult,
)
from roost.client.streams import AsyncTurnStream, Via, by_websocket


class AsyncSessions:
    def __init__(self, http: AsyncHTTP) -> None:
        self._http = http

    async def create(
        self,
        *,
        title: str | None = None,
        agent: str | None = None,
        model: str | None = None,
        folder: str | None = None,
        working_directory: str | None = None,
        project_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Session:
        fields = {
            "title": title,
            "agent": agent,
            "model": model,
            "folder": folder,
            "working_directory": working_directory,
            "project_id": project_id,
            "metadata": metadata,
        }
        return await self._http.run(_calls.create_session(fields, idempotency_key))

    async def list(
        self,
        *,
        limit: int | None = None,
        before: str | None = None,
        after: str | None = None,
        folder: str | None = None,
        archived: bool | None = None,
        pinned: bool | None = None,
        q: str | None = None,
    ) -> Page[Session]:
        """Pinned first, then most recently updated; ``after=page.next_cursor`` pages on."""
        params = {"limit": limit, "before": before, "after": after, "folder": folder}
        params |= {"archived": archived, "pinned": pinned, "q": q}
        return await self._http.run(_calls.list_sessions(params))

    async def get(self, session_id: str, *, limit: int | None = None) -> SessionDetail:
        """The session with its newest ``limit`` messages."""
        return await self._http.run(_calls.get_session(session_id, limit))

    async def delete(self, session_id: str) -> None:
        await self._http.run(_calls.delete_session(session_id))

    async def messages(
        self,
        session_id: str,
        *,
        limit: int | None = None,
        before: str | None = None,
        after: str | None = None,
    ) -> Page[Message]:
        """Oldest first; without a cursor, the newest page."""
        params = {"limit": limit, "before": before, "after": after}
        return await self._http.run(_calls.messages(session_id, params))


class AsyncTurns:
    def __init__(self, http: AsyncHTTP) -> None:
        self._http = http

    async def send(
        self,
        session_id: str,
        content: str,
        *,
        idempotency_key: str | None = None,
        read_timeout: float | None = None,
        **options: Unpack[TurnOptions],
    ) -> TurnResult:
        """Start a turn and wait until it ends, or until it waits on the user. Without
        ``read_timeout`` (seconds) it waits as long as the turn runs. ``options``:
        ``agent``, ``model``, ``on_busy``, ``enable_tools``, ``generate_title``."""
        body = _calls.turn_body(content, options)
        return await self._http.run(_calls.send(session_id, body, idempotency_key, read_timeout))

    async def start(
        self,
        session_id: str,
        content: str,
        *,
        idempotency_key: str | None = None,
        **options: Unpack[TurnOptions],
    ) -> Turn:
        """Start a turn and return at once; follow it with ``events``."""
        body = _calls.turn_body(content, options)
        return await self._http.run(_calls.start(session_id, body, idempotency_key))

    def stream(
        self,
        session_id: str,
        content: str,
        *,
        idempotency_key: str | None = None,
        via: Via = "sse",
        **options: Unpack[TurnOptions],
    ) -> AsyncTurnStream:
        """Start a turn and iterate over its events, resuming after a dropped connection.
        The request is sent when iteration starts. ``via="websocket"``: the turn is
        started over HTTP and its events read over ``/api/ws``."""
        body = _calls.turn_body(content, options)
        key = idempotency_key or _calls.new_key()
        if by_websocket(via):
            source = _ws.async_source(self._http, _calls.start(session_id, body, key))
        else:
            source = _sse.async_source(self._http, _calls.start_stream(session_id, body, key))
        return AsyncTurnStream(source, self._http.policy, session_id)

    def events(
        self, session_id: str, turn_id: str, *, after: int | None = None, via: Via = "sse"
    ) -> AsyncTurnStream:
        """A turn's events after seq ``after`` (all of them without it), then live ones
        until ``done``; a finished turn's log is replayed. ``via``: as for ``stream``."""
        ws = by_websocket(via)
        source = _ws.async_source(self._http) if ws else _sse.async_source(self._http)
        return AsyncTurnStream(
            source, self._http.policy, session_id, turn_id=turn_id, after=after or 0
        )

    async def get(self, session_id: str, turn_id: str) -> Turn:
        return await self._http.run(_calls.get_turn(session_id, turn_id))

    async def list(
        self, session_id: str, *, limit: int | None = None, before: str | None = None
    ) -> Page[Turn]:
        """Newest first."""
        return await self._http.run(_calls.list_turns(session_id, limit, before))

    async def cancel(self, session_id: str, turn_id: str | None = None) -> builtins.list[Turn]:
        """Cancel the session's running turn and those queued behind it; the turns
        cancelled. With ``turn_id``, nothing is cancelled once that turn has ended."""
        if turn_id is not None and (await self.get(session_id, turn_id)).finished:
            return []
        return await self._http.run(_calls.cancel(session_id))

    async def inputs(self, session_id: str, turn_id: str) -> builtins.list[InputRequest]:
        """Every question and approval the turn asked for, with their answers."""
        return await self._http.run(_calls.inputs(session_id, turn_id))

    async def answer(
        self,
        session_id: str,
        turn_id: str,
        request_id: str,
        *,
        answer: str | None = None,
        approve: bool = False,
        deny: bool = False,
        reason: str | None = None,
        remember: bool = False,
    ) -> InputAnswer:
        """Answer a question, or allow (``approve``) or decline (``deny``) a tool call:
        exactly one of the three."""
        body = _calls.answer_body(request_id, answer, approve, deny, reason, remember)
        return await self._http.run(_calls.answer(session_id, turn_id, body))


class AsyncAgents:
    def __init__(self, http: AsyncHTTP) -> None:
        self._http = http

    async def list(self, *, limit: int | None = None, after: str | None = None) -> Page[Agent]:
        return await self._http.run(_calls.list_agents(limit, after))

    async def get(self, agent: str) -> Agent:
        """By id or by name."""
        return await self._http.run(_calls.get_agent(agent))


class AsyncModels:
    def __init__(self, http: AsyncHTTP) -> None:
        self._http = http

    async def list(self, *, provider: str | None = None) -> builtins.list[Model]:
        return await self._http.run(_calls.list_models(provider))


class AsyncRoost:
    """An asyncio client of one Roost server; the arguments are ``Roost``'s.

    ``base_url`` defaults to ``ROOST_URL``, then ``http://127.0.0.1:8787``; ``token`` (an
    access token or an API key) to ``ROOST_TOKEN``. Failed requests are tried again up to
    ``max_retries`` times (see docs/client.md)."""

    sessions: AsyncSessions
    turns: AsyncTurns
    agents: AsyncAgents
    models: AsyncModels

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        settings = Settings.of(base_url, token, timeout, max_retries, headers)
        self._http = AsyncHTTP(settings, transport)
        self.sessions = AsyncSessions(self._http)
        self.turns = AsyncTurns(self._http)
        self.agents = AsyncAgents(self._http)
        self.models = AsyncModels(self._http)

    @property
    def base_url(self) -> str:
        return self._http.settings.base_url

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """Any route of the API (``path`` from ``/api``), for what has no method here yet:
        the same credential, retries and errors; the answer as plain JSON."""
        return await self._http.run(_calls.request(method, path, json, params))

    async def health(self) -> Health:
        return await self._http.run(_calls.health())

    async def close(self) -> None:
        await self._http.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
