"""Every request the clients make, described once for both: its method, path, query,
body and the model its answer is read into. Paths are the canonical ``/api`` ones of the
served OpenAPI document."""

import uuid
from collections.abc import Callable
from typing import Any, Literal, TypedDict, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from roost.client._http import IDEMPOTENCY_HEADER, Call
from roost.client.models import (
    Agent,
    Health,
    InputAnswer,
    InputRequest,
    Message,
    Model,
    Page,
    RoostModel,
    Session,
    SessionDetail,
    Turn,
    TurnResult,
)

M = TypeVar("M", bound=BaseModel)
# What a message sent to a busy session does: docs/api.md, "on_busy".
OnBusy = Literal["reject", "enqueue", "interrupt", "rollback"]


class TurnOptions(TypedDict, total=False):
    """How a turn runs; what is left out is the server's default."""

    agent: str
    model: str
    on_busy: OnBusy
    enable_tools: bool
    generate_title: bool


# Connecting is bounded; a turn answered when it ends may take as long as it runs.
CONNECT_TIMEOUT = 10.0
SSE = "text/event-stream"
RESUME_HEADER = "Last-Event-ID"


def _as(model: type[M]) -> Callable[[httpx.Response], M]:
    return lambda response: model.model_validate_json(response.content)


def _nothing(_response: httpx.Response) -> None:
    return None


def _path(template: str, **ids: str) -> str:
    # Ids are opaque to the client: escaped, so that no value can reach another path.
    return template.format(**{name: quote(value, safe="") for name, value in ids.items()})


class _Models(RoostModel):
    data: list[Model]


class _Cancelled(RoostModel):
    cancelled: list[Turn]


class _Inputs(RoostModel):
    data: list[InputRequest]


def _model_list(response: httpx.Response) -> list[Model]:
    return _Models.model_validate_json(response.content).data


def _cancelled(response: httpx.Response) -> list[Turn]:
    return _Cancelled.model_validate_json(response.content).cancelled


def _input_list(response: httpx.Response) -> list[InputRequest]:
    return _Inputs.model_validate_json(response.content).data


def request(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Call[Any]:
    """Any route, for what the client has no method for yet; the answer as plain JSON."""
    return Call(method, path, _plain_json, params=params, json=json)


def _plain_json(response: httpx.Response) -> Any:
    return response.json() if response.content else None


def health() -> Call[Health]:
    return Call("GET", "/api/health", _as(Health))


def create_session(fields: dict[str, Any], key: str | None) -> Call[Session]:
    body = {name: value for name, value in fields.items() if value is not None}
    return Call("POST", "/api/sessions", _as(Session), json=body, headers=_key(key))


def list_sessions(params: dict[str, Any]) -> Call[Page[Session]]:
    return Call("GET", "/api/sessions", _as(Page[Session]), params=params)


def get_session(session_id: str, limit: int | None) -> Call[SessionDetail]:
    path = _path("/api/sessions/{session_id}", session_id=session_id)
    return Call("GET", path, _as(SessionDetail), params={"limit": limit})


def delete_session(session_id: str) -> Call[None]:
    return Call("DELETE", _path("/api/sessions/{session_id}", session_id=session_id), _nothing)


def messages(session_id: str, params: dict[str, Any]) -> Call[Page[Message]]:
    path = _path("/api/sessions/{session_id}/messages", session_id=session_id)
    return Call("GET", path, _as(Page[Message]), params=params)


def turn_body(content: str, options: TurnOptions) -> dict[str, Any]:
    return {"content": content, **{k: v for k, v in options.items() if v is not None}}


def send(
    session_id: str, body: dict[str, Any], key: str | None, read_timeout: float | None
) -> Call[TurnResult]:
    path = _path("/api/sessions/{session_id}/messages", session_id=session_id)
    limit = httpx.Timeout(CONNECT_TIMEOUT, read=read_timeout)
    return Call("POST", path, _as(TurnResult), json=body, headers=_key(key), timeout=limit)


class _Accepted(RoostModel):
    turn: Turn


def _accepted(response: httpx.Response) -> Turn:
    return _Accepted.model_validate_json(response.content).turn


def start(session_id: str, body: dict[str, Any], key: str | None) -> Call[Turn]:
    """The turn's start, answered at once (202) with the turn, which runs on."""
    path = _path("/api/sessions/{session_id}/messages", session_id=session_id)
    params = {"background": "true"}
    return Call("POST", path, _accepted, params=params, json=body, headers=_key(key))


def start_stream(session_id: str, body: dict[str, Any], key: str) -> Call[None]:
    """The turn's start, answered by its event stream (read by ``streams``)."""
    path = _path("/api/sessions/{session_id}/messages", session_id=session_id)
    headers = {"Accept": SSE, IDEMPOTENCY_HEADER: key}
    return Call("POST", path, _nothing, json={**body, "stream": True}, headers=headers)


def follow(session_id: str, turn_id: str, after: int) -> Call[None]:
    """The turn's events after seq ``after`` (0: from the first), then live until done."""
    path = _path(
        "/api/sessions/{session_id}/turns/{turn_id}/events",
        session_id=session_id,
        turn_id=turn_id,
    )
    headers = {"Accept": SSE, RESUME_HEADER: str(after)} if after else {"Accept": SSE}
    return Call("GET", path, _nothing, headers=headers)


def get_turn(session_id: str, turn_id: str) -> Call[Turn]:
    path = _path(
        "/api/sessions/{session_id}/turns/{turn_id}", session_id=session_id, turn_id=turn_id
    )
    return Call("GET", path, _as(Turn))


def list_turns(session_id: str, limit: int | None, before: str | None) -> Call[Page[Turn]]:
    path = _path("/api/sessions/{session_id}/turns", session_id=session_id)
    return Call("GET", path, _as(Page[Turn]), params={"limit": limit, "before": before})


def cancel(session_id: str) -> Call[list[Turn]]:
    path = _path("/api/sessions/{session_id}/current-turn", session_id=session_id)
    return Call("DELETE", path, _cancelled)


def inputs(session_id: str, turn_id: str) -> Call[list[InputRequest]]:
    path = _path(
        "/api/sessions/{session_id}/turns/{turn_id}/inputs",
        session_id=session_id,
        turn_id=turn_id,
    )
    return Call("GET", path, _input_list)


def answer(session_id: str, turn_id: str, body: dict[str, Any]) -> Call[InputAnswer]:
    path = _path(
        "/api/sessions/{session_id}/turns/{turn_id}/input",
        session_id=session_id,
        turn_id=turn_id,
    )
    return Call("POST", path, _as(InputAnswer), json=body)


def answer_body(
    request_id: str,
    answer: str | None,
    approve: bool,
    deny: bool,
    reason: str | None,
    remember: bool,
) -> dict[str, Any]:
    body: dict[str, Any] = {"request_id": request_id}
    if answer is not None:
        body["answer"] = answer
    if approve:
        body["approve"] = True
    if deny:
        body["deny"] = True
    if reason is not None:
        body["reason"] = reason
    if remember:
        body["remember"] = True
    return body


def list_agents(limit: int | None, after: str | None) -> Call[Page[Agent]]:
    return Call("GET", "/api/agents", _as(Page[Agent]), params={"limit": limit, "after": after})


def get_agent(agent: str) -> Call[Agent]:
    return Call("GET", _path("/api/agents/{agent_ref}", agent_ref=agent), _as(Agent))


def list_models(provider: str | None) -> Call[list[Model]]:
    return Call("GET", "/api/models", _model_list, params={"provider": provider})


def new_key() -> str:
    return str(uuid.uuid4())


def _key(key: str | None) -> dict[str, str]:
    return {IDEMPOTENCY_HEADER: key or new_key()}
