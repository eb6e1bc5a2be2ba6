"""The blocking client: ``Roost``."""

import builtins
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self, Unpack

import httpx

from roost.client import _calls, _sse, _ws
from roost.client._calls import TurnOptions
from roost.client._http import DEFAULT_TIMEOUT, Settings, SyncHTTP
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
from roost.client.streams import TurnStream, Via, by_websocket


class Sessions:
    def __init__(self, http: SyncHTTP) -> None:
        self._http = http

    def create(
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
        return self._http.run(_calls.create_session(fields, idempotency_key))

    def list(
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
        return self._http.run(_calls.list_sessions(params))

    def get(self, session_id: str, *, limit: int | None = None) -> SessionDetail:
        """The session with its newest ``limit`` messages."""
        return self._http.run(_calls.get_session(session_id, limit))

    def delete(self, session_id: str) -> None:
        self._http.run(_calls.delete_session(session_id))

    def messages(
        self,
        session_id: str,
        *,
        limit: int | None = None,
        before: str | None = None,
        after: str | None = None,
    ) -> Page[Message]:
        """Oldest first; without a cursor, the newest page."""
        params = {"limit": limit, "before": before, "after": after}
        return self._http.run(_calls.messages(session_id, params))


class Turns:
    def __init__(self, http: SyncHTTP) -> None:
        self._http = http

    def send(
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
        return self._http.run(_calls.send(session_id, body, idempotency_key, read_timeout))

    def start(
        self,
        session_id: str,
        content: str,
        *,
        idempotency_key: str | None = None,
        **options: Unpack[TurnOptions],
    ) -> Turn:
        """Start a turn and return at once; follow it with ``events``."""
        body = _calls.turn_body(content, options)
        return self._http.run(_calls.start(session_id, body, idempotency_key))

    def stream(
        self,
        session_id: str,
        content: str,
        *,
        idempotency_key: str | None = None,
        via: Via = "sse",
        **options: Unpack[TurnOptions],
    ) -> TurnStream:
        """Start a turn and iterate over its events, resuming after a dropped connection.
        The request is sent when iteration starts. ``via="websocket"``: the turn is
        started over HTTP and its events read over ``/api/ws``."""
        body = _calls.turn_body(content, options)
        key = idempotency_key or _calls.new_key()
        if by_websocket(via):
            source = _ws.source(self._http, _calls.start(session_id, body, key))
        else:
            source = _sse.source(self._http, _calls.start_stream(session_id, body, key))
        return TurnStream(source, self._http.policy, session_id)

    def events(
        self, session_id: str, turn_id: str, *, after: int | None = None, via: Via = "sse"
    ) -> TurnStream:
        """A turn's events after seq ``after`` (all of them without it), then live ones
        until ``done``; a finished turn's log is replayed. ``via``: as for ``stream``."""
        ws = by_websocket(via)
        source = _ws.source(self._http) if ws else _sse.source(self._http)
        return TurnStream(source, self._http.policy, session_id, turn_id=turn_id, after=after or 0)

    def get(self, session_id: str, turn_id: str) -> Turn:
        return self._http.run(_calls.get_turn(session_id, turn_id))

    def list(
        self, session_id: str, *, limit: int | None = None, before: str | None = None
    ) -> Page[Turn]:
        """Newest first."""
        return self._http.run(_calls.list_turns(session_id, limit, before))

    def cancel(self, session_id: str, turn_id: str | None = None) -> builtins.list[Turn]:
        """Cancel the session's running turn and those queued behind it; the turns
        cancelled. With ``turn_id``, nothing is cancelled once that turn has ended."""
        if turn_id is not None and self.get(session_id, turn_id).finished:
            return []
        return self._http.run(_calls.cancel(session_id))

    def inputs(self, session_id: str, turn_id: str) -> builtins.list[InputRequest]:
        """Every question and approval the turn asked for, with their answers."""
        return self._http.run(_calls.inputs(session_id, turn_id))

    def answer(
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
        return self._http.run(_calls.answer(session_id, turn_id, body))


class Agents:
    def __init__(self, http: SyncHTTP) -> None:
        self._http = http

    def list(self, *, limit: int | None = None, after: str | None = None) -> Page[Agent]:
        return self._http.run(_calls.list_agents(limit, after))

    def get(self, agent: str) -> Agent:
        """By id or by name."""
        return self._http.run(_calls.get_agent(agent))


class Models:
    def __init__(self, http: SyncHTTP) -> None:
        self._http = http

    def list(self, *, provider: str | None = None) -> builtins.list[Model]:
        return self._http.run(_calls.list_models(provider))


class Roost:
    """A client of one Roost server.

    ``base_url`` defaults to ``ROOST_URL``, then ``http://127.0.0.1:8787``; ``token`` (an
    access token or an API key) to ``ROOST_TOKEN``. Failed requests are tried again up to
    ``max_retries`` times (see docs/client.md)."""

    sessions: Sessions
    turns: Turns
    agents: Agents
    models: Models

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        settings = Settings.of(base_url, token, timeout, max_retries, headers)
        self._http = SyncHTTP(settings, transport)
        self.sessions = Sessions(self._http)
        self.turns = Turns(self._http)
        self.agents = Agents(self._http)
        self.models = Models(self._http)

    @property
    def base_url(self) -> str:
        return self._http.settings.base_url

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """Any route of the API (``path`` from ``/api``), for what has no method here yet:
        the same credential, retries and errors; the answer as plain JSON."""
        return self._http.run(_calls.request(method, path, json, params))

    def health(self) -> Health:
        return self._http.run(_calls.health())

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
