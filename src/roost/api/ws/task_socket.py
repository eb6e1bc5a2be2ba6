"""``/ws/tasks/{task_id}``: Mini-Devin's task socket. The task's runs, as Mini-Devin's
frames (``token``, ``tool_call``, ``tool_result``, ``plan_update``, ``status``,
``error``, each with a ``timestamp``); the client sends ``stop``, or ``input`` to answer
what the task waits on. Authenticated like the mux (``?token=`` for browsers)."""

from contextlib import aclosing
from typing import Any

import orjson
from starlette.websockets import WebSocket

from roost.api.deps import services_of
from roost.api.ws.auth import caller_of, origin_allowed
from roost.api.ws.connection import NORMAL, POLICY, Connection, refuse
from roost.clock import isoformat, utcnow
from roost.domain.events import Event
from roost.errors import ApiError, InvalidRequest, NotFound
from roost.services.turns import InputResponse
from roost.wiring import Services

DECLINES = ("no", "n", "deny", "stop", "cancel")  # an answer that declines an approval


class TaskSocket:
    def __init__(self, connection: Connection, services: Services, task_id: str) -> None:
        self.connection = connection
        self.services = services
        self.task_id = task_id

    def send(self, kind: str, **fields: Any) -> None:
        self.connection.send({"type": kind, **fields, "timestamp": isoformat(utcnow())})

    async def follow(self) -> None:
        """Every run of the task, from the current one on, until the client leaves."""
        caller = self.connection.caller
        listener = self.services.notices.listen(caller.user_id)
        try:
            followed: str | None = None
            while True:
                shown = await self.services.tasks.get(caller, self.task_id)
                turn_id = shown.task.turn_id
                if turn_id is not None and turn_id != followed:
                    followed = turn_id
                    await self._relay(shown.task.session_id, turn_id)
                    ended = await self.services.tasks.get(caller, self.task_id)
                    summary = (ended.task.result or {}).get("summary", "")
                    self.send("status", status=ended.status, message=summary)
                while True:  # until the task starts another run
                    notice = await listener.next()
                    if notice.get("task_id") == self.task_id and notice["type"] == "started":
                        break
                    if notice.get("task_id") == self.task_id and notice["type"] == "deleted":
                        self.connection.close(NORMAL, "The task was deleted")
                        return
        finally:
            listener.close()

    async def _relay(self, session_id: str, turn_id: str) -> None:
        caller = self.connection.caller
        events: Any = await self.services.turns.events(caller, session_id, turn_id)
        async with aclosing(events):
            async for batch in events:
                for event in batch:
                    self._translate(event)

    def _translate(self, event: Event) -> None:
        data = event.data
        if event.type == "text":
            self.send("token", content=data["content"])
        elif event.type == "tool_call":
            self.send("tool_call", tool=data["tool"], input=data["args"])
        elif event.type == "tool_result":
            output = data.get("result") if data.get("success") else data.get("error")
            self.send("tool_result", tool=data["tool"], output=output, success=data["success"])
        elif event.type == "plan_update":
            self.send("plan_update", plan=data["plan"])
        elif event.type == "status":
            self.send("status", status=data["status"], message=data.get("message", ""))
        elif event.type == "input_required":
            self.send("status", status="waiting", message=data.get("prompt", ""))
        elif event.type == "error":
            self.send("error", error=data["message"], code=data["code"])

    async def handle(self, raw: bytes) -> None:
        try:
            frame = orjson.loads(raw)
            if not isinstance(frame, dict) or frame.get("type") not in ("stop", "input"):
                raise InvalidRequest('A frame is {"type": "stop"} or {"type": "input", ...}')
            if frame["type"] == "stop":
                shown = await self.services.tasks.stop(self.connection.caller, self.task_id)
                self.send("status", status=shown.status, message="Task stopped")
            else:
                await self._answer(frame.get("content"))
        except orjson.JSONDecodeError:
            self.send("error", error="A frame must be a JSON object", code="INVALID_REQUEST")
        except ApiError as error:
            self.send("error", error=error.message, code=error.code)

    async def _answer(self, content: Any) -> None:
        """What the task waits on, answered: a question with ``content``, an approval
        allowed unless ``content`` declines it."""
        if not isinstance(content, str) or not content.strip():
            raise InvalidRequest("input needs a content string")
        caller = self.connection.caller
        shown = await self.services.tasks.get(caller, self.task_id)
        turn_id = shown.task.turn_id
        pending = await self.services.turn_inputs.pending(turn_id) if turn_id else []
        if not pending or turn_id is None:
            raise InvalidRequest("The task is not waiting for input")
        request = pending[0]
        if request.kind == "question":
            response = InputResponse(answer=content)
        elif content.strip().lower() in DECLINES:
            response = InputResponse(deny=True)
        else:
            response = InputResponse(approve=True)
        await self.services.turn_inputs.answer(
            caller, shown.task.session_id, turn_id, request.id, response
        )


async def task_socket(websocket: WebSocket, task_id: str) -> None:
    services = services_of(websocket)
    if not origin_allowed(websocket, services.settings.cors_origins):
        await refuse(websocket, POLICY, "Origin not allowed")
        return
    try:
        caller = await caller_of(websocket)
        await services.tasks.get(caller, task_id)
    except NotFound as missing:
        await websocket.accept()
        await websocket.send_json({"type": "error", "error": missing.message, "code": missing.code})
        await websocket.close(POLICY, "Task not found")
        return
    except ApiError as error:
        await refuse(websocket, POLICY, error.message)
        return
    await websocket.accept()
    connection = Connection(websocket, caller, services.settings)
    socket = TaskSocket(connection, services, task_id)
    connection.spawn(socket.follow())
    await connection.serve(socket.handle)
