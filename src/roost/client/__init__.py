"""A typed client of Roost's HTTP API, blocking (``Roost``) or asyncio (``AsyncRoost``).

    from roost.client import Roost

    with Roost("http://127.0.0.1:8787") as roost:
        session = roost.sessions.create(title="Notes")
        for event in roost.turns.stream(session.id, "Hello!"):
            print(event.text, end="")

docs/client.md describes streaming, resuming, retries and errors.
"""

from roost.client.async_ import AsyncRoost
from roost.client.errors import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RoostError,
    ServerError,
    UnprocessableError,
)
from roost.client.models import (
    Agent,
    Event,
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
from roost.client.streams import AsyncTurnStream, TurnStream
from roost.client.sync import Roost

__all__ = [
    "APIConnectionError",
    "Agent",
    "AsyncRoost",
    "AsyncTurnStream",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "Event",
    "Health",
    "InputAnswer",
    "InputRequest",
    "Message",
    "Model",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "RateLimitedError",
    "Roost",
    "RoostError",
    "ServerError",
    "Session",
    "SessionDetail",
    "Turn",
    "TurnResult",
    "TurnStream",
    "UnprocessableError",
]
