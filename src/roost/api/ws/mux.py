"""``/api/ws`` (alias ``/api/ws/mux``): one WebSocket for everything live (Oqto's mux).

Frames are JSON objects ``{channel, type, id?, …}``. ``agent`` carries turns: a client
subscribes to sessions and gets their turns' events (the SSE stream's, with ``seq``;
``after`` resumes), and prompts, aborts, answers, sets the model, compacts and forks.
``sessions``, ``hstry``, ``tasks`` (alias ``trx``) and ``ui`` carry notices of changes
made anywhere (a second tab sees the first's); ``files`` carries changes under the
projects a client watches; ``system`` pings. A request with an ``id`` gets a reply with
the same ``id``: ``ok``, or ``error`` with the envelope's error.
"""

import asyncio
from contextlib import aclosing
from typing import Any

from fastapi import APIRouter, Request
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket

from roost.api.deps import Caller, services_of
from roost.api.schemas.sessions import SessionOut
from roost.api.schemas.turns import InputOut, TurnOut
from roost.api.ws import frames
from roost.api.ws.auth import caller_of, origin_allowed
from roost.api.ws.connection import POLICY, Connection, refuse
from roost.api.ws.files import FileWatches
from roost.api.ws.terminal import Terminals
from roost.domain.turn_status import ACTIVE
from roost.errors import ApiError, Forbidden, InvalidRequest
from roost.services.turns import InputResponse
from roost.wiring import Services as AppServices

router = APIRouter(tags=["websocket"])

NOTICE_CHANNELS = frozenset({"sessions", "hstry", "tasks", "trx", "ui"})
ALIASES = {"trx": "tasks"}  # Oqto's name for the tasks channel
WRITES = frozenset({"prompt", "abort", "input", "set_model", "compact", "fork"})


class Mux:
    def __init__(self, connection: Connection, services: AppServices) -> None:
        self.connection = connection
        self.caller = connection.caller
        self.services = services
        self.channels: set[str] = set()
        self.sessions: set[str] = set()
        self.following: dict[str, asyncio.Task[Any]] = {}  # turn id → its follower
        self.files = FileWatches(connection, services)
        self.terminals = Terminals(connection, services)

    def counts(self) -> dict[str, int]:
        return {
            "channels": len(self.channels),
            "sessions": len(self.sessions),
            "turns": len(self.following),
            "watches": len(self.files.watching),
        }

    async def notices(self) -> None:
        """The user's notices: those of subscribed channels sent on, new turns of
        subscribed sessions followed."""
        listener = self.services.notices.listen(self.caller.user_id)
        try:
            while True:
                notice = await listener.next()
                if listener.lagged:
                    listener.lagged = False
                    self.connection.send({"channel": "system", "type": "lagged"})
                channel = notice["channel"]
                started = channel == "agent" and notice["type"] == "turn_started"
                if started and notice["session_id"] in self.sessions:
                    self._follow(notice["session_id"], notice["turn_id"], 0)
                if channel in self.channels:
                    self.connection.send(dict(notice))
                if channel == "tasks" and "trx" in self.channels:
                    self.connection.send({**notice, "channel": "trx"})
        finally:
            listener.close()

    async def handle(self, raw: bytes) -> None:
        frame: dict[str, Any] | None = None
        try:
            frame = frames.envelope(raw)
            await self._dispatch(frame)
        except ApiError as error:
            self.connection.error(frame, error)

    async def _dispatch(self, frame: dict[str, Any]) -> None:
        channel, kind = frame["channel"], frame["type"]
        if kind in WRITES and self.caller.scopes is not None and "write" not in self.caller.scopes:
            raise Forbidden("This API key may only read")
        if channel == "system":
            if kind == "ping":
                self.connection.send({"channel": "system", "type": "pong", "id": frame.get("id")})
            elif kind != "pong":
                raise _unknown(channel, kind)
        elif channel == "agent":
            await self._agent(kind, frame)
        elif channel in NOTICE_CHANNELS and kind in ("subscribe", "unsubscribe"):
            (self.channels.add if kind == "subscribe" else self.channels.discard)(channel)
            self.connection.reply(frame, channels=sorted(self.channels))
        elif channel == "files" and kind in ("watch", "unwatch"):
            watch = frames.checked(frames.Watch, frame)
            if kind == "watch":
                await self.files.watch(watch.project_id)
            else:
                self.files.unwatch(watch.project_id)
            self.connection.reply(frame, project_id=watch.project_id)
        elif channel == "terminal":
            await self.terminals.handle(kind, frame)
        else:
            raise _unknown(channel, kind)

    async def _agent(self, kind: str, frame: dict[str, Any]) -> None:
        caller, services, reply = self.caller, self.services, self.connection.reply
        if kind == "subscribe":
            subscribe = frames.checked(frames.Subscribe, frame)
            await self._subscribe(subscribe)
            reply(frame, session_id=subscribe.session_id)
        elif kind == "unsubscribe":
            session_id = frames.checked(frames.SessionFrame, frame).session_id
            self.sessions.discard(session_id)
            for turn_id, task in list(self.following.items()):
                if task.get_name() == session_id:
                    task.cancel()
                    self.following.pop(turn_id, None)
            reply(frame, session_id=session_id)
        elif kind == "prompt":
            prompt = frames.checked(frames.Prompt, frame)
            request = prompt.request(prompt.content, prompt.attachments)
            turn = await services.turns.send(caller, prompt.session_id, request)
            self.sessions.add(prompt.session_id)
            self._follow(turn.session_id, turn.id, 0)
            reply(frame, turn=TurnOut.of(turn).model_dump(mode="json"))
        elif kind == "abort":
            session_id = frames.checked(frames.SessionFrame, frame).session_id
            cancelled = await services.turns.cancel_current(caller, session_id)
            reply(frame, cancelled=[t.id for t in cancelled])
        elif kind == "input":
            given = frames.checked(frames.Input, frame)
            response = InputResponse(
                given.approve, given.deny, given.answer, given.reason, given.remember
            )
            answered = await services.turn_inputs.answer(
                caller, given.session_id, given.turn_id, given.request_id, response
            )
            reply(
                frame,
                request=InputOut.of(answered.request).model_dump(mode="json"),
                resumed=answered.resumed,
            )
        elif kind == "set_model":
            change = frames.checked(frames.SetModel, frame)
            session = await services.sessions.update(
                caller, change.session_id, {"model": change.model}
            )
            reply(frame, session=SessionOut.of(session).model_dump(mode="json"))
        elif kind == "compact":
            compact = frames.checked(frames.Compact, frame)
            done = await services.turns.compact(
                caller, compact.session_id, keep_last=compact.keep_last
            )
            reply(frame, compacted=done[1] if done else 0)
        elif kind == "fork":
            fork = frames.checked(frames.Fork, frame)
            forked = await services.turns.fork(
                caller, fork.session_id, until=fork.message_id, title=fork.title
            )
            reply(frame, session=SessionOut.of(forked).model_dump(mode="json"))
        else:
            raise _unknown("agent", kind)

    async def _subscribe(self, subscribe: frames.Subscribe) -> None:
        """Follow the session's turns: the one named from ``after`` (a reconnect), else
        its active one from the start; and every turn that starts from now on."""
        caller, session_id = self.caller, subscribe.session_id
        await self.services.sessions.get(caller, session_id)  # the caller's, else 404
        self.sessions.add(session_id)
        if subscribe.turn_id is not None:
            # Checked now (404, a cursor past the end), so the reply can say so.
            events = await self.services.turns.events(
                caller, session_id, subscribe.turn_id, after=subscribe.after
            )
            self._follow(session_id, subscribe.turn_id, subscribe.after, events)
            return
        latest = await self.services.turns.page(caller, session_id, limit=1, before=None)
        if latest.items and latest.items[0].status in ACTIVE:
            self._follow(session_id, latest.items[0].id, 0)

    def _follow(self, session_id: str, turn_id: str, after: int, events: Any = None) -> None:
        if turn_id in self.following:
            return
        task = self.connection.spawn(self._relay(session_id, turn_id, after, events))
        task.set_name(session_id)
        self.following[turn_id] = task
        task.add_done_callback(lambda _: self.following.pop(turn_id, None))

    async def _relay(self, session_id: str, turn_id: str, after: int, events: Any) -> None:
        if events is None:
            events = await self.services.turns.events(self.caller, session_id, turn_id, after=after)
        async with aclosing(events):
            async for batch in events:
                for event in batch:
                    if event.type != "heartbeat":  # the socket has its own pings
                        self.connection.send({"channel": "agent", **event.as_dict()})


def _unknown(channel: str, kind: str) -> InvalidRequest:
    return InvalidRequest(
        f"Unknown frame: channel {channel!r}, type {kind!r}",
        details={"channel": channel, "type": kind},
    )


def live(connection: HTTPConnection) -> set[Mux]:
    """The app's open mux connections (for ``/api/ws/debug``)."""
    state = connection.app.state
    if not hasattr(state, "ws_connections"):
        state.ws_connections = set()
    connections: set[Mux] = state.ws_connections
    return connections


async def mux(websocket: WebSocket) -> None:
    services = services_of(websocket)
    if not origin_allowed(websocket, services.settings.cors_origins):
        await refuse(websocket, POLICY, "Origin not allowed")
        return
    try:
        caller = await caller_of(websocket)
    except ApiError as error:
        await refuse(websocket, POLICY, error.message)
        return
    await websocket.accept()
    connection = Connection(websocket, caller, services.settings)
    session = Mux(connection, services)
    connections = live(websocket)
    connections.add(session)
    connection.spawn(session.notices())
    try:
        await connection.serve(session.handle)
    finally:
        connections.discard(session)
        session.files.stop()
        session.terminals.stop()


for _path, _name in (("/ws", "websocket"), ("/ws/mux", "websocket_mux")):
    router.add_api_websocket_route(_path, mux, name=_name)


@router.get("/ws/debug")
async def websocket_debug(request: Request, caller: Caller) -> dict[str, Any]:
    """How many WebSocket connections this process holds and what they follow: counts
    only, the caller's own apart."""
    connections = list(live(request))
    yours = [m for m in connections if m.caller.user_id == caller.user_id]
    return {
        "connections": len(connections),
        "subscriptions": _summed(connections),
        "yours": {"connections": len(yours), "subscriptions": _summed(yours)},
    }


def _summed(connections: list[Mux]) -> dict[str, int]:
    totals = {"channels": 0, "sessions": 0, "turns": 0, "watches": 0}
    for connection in connections:
        for key, count in connection.counts().items():
            totals[key] += count
    return totals
