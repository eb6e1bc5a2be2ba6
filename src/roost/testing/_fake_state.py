"""The fake LLM's mutable state: the reply queue, the config, the counters, the request log.

It is shared by the server's thread and the test's thread, so every change holds one lock;
nothing on the per-token path touches it.
"""

import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from roost.testing._fake_script import Api, FakeConfig, Reply, parse_reply, request_texts

Outcome = Literal["completed", "aborted", "dropped"]


@dataclass(frozen=True)
class RecordedRequest:
    """A model request the fake received. ``auth`` is ``"bearer"``, ``"x-api-key"`` or None."""

    api: Api
    path: str
    model: str | None
    stream: bool
    auth: str | None
    headers: dict[str, str]  # every header but the credentials
    body: dict[str, Any]


@dataclass(frozen=True)
class FakeStats:
    """Counters since the last reset, and the last requests received (oldest first)."""

    requests: int
    streams_started: int
    streams_completed: int
    streams_aborted: int  # the client went away before the end
    streams_dropped: int  # cut on purpose by a "drop" fault
    streams_open: int
    replies_queued: int
    last_requests: tuple[RecordedRequest, ...]

    @property
    def last_request(self) -> RecordedRequest:
        if not self.last_requests:
            raise LookupError("the fake LLM has received no model request")
        return self.last_requests[-1]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FakeState:
    def __init__(self, config: FakeConfig) -> None:
        self._lock = threading.Lock()
        self._initial = config
        self.config = config
        self._replies: deque[Reply] = deque()
        # Queued replies with a ``match`` or ``for_model``: only then is the request searched.
        self._matching = 0
        self._requests: deque[RecordedRequest] = deque(maxlen=config.keep_requests)
        self._serial = 0
        self._counts = dict.fromkeys(("requests", "started", "completed", "aborted", "dropped"), 0)
        self._open = 0

    def configure(self, changes: Mapping[str, Any]) -> FakeConfig:
        with self._lock:
            self.config = self.config.updated(changes)
            if self.config.keep_requests != self._requests.maxlen:
                self._requests = deque(self._requests, maxlen=self.config.keep_requests)
            return self.config

    def add_replies(self, replies: Iterable[Mapping[str, Any]]) -> int:
        parsed = [parse_reply(reply) for reply in replies]  # all or nothing
        with self._lock:
            self._replies.extend(parsed)
            self._matching += sum(reply.conditional for reply in parsed)
            return len(self._replies)

    def reset(self) -> None:
        """Forget replies, counters and requests; the config goes back to the initial one."""
        with self._lock:
            self.config = self._initial
            self._replies.clear()
            self._matching = 0
            self._requests = deque(maxlen=self._initial.keep_requests)
            self._counts = dict.fromkeys(self._counts, 0)

    def record(self, request: RecordedRequest) -> int:
        """Log a model request; the serial number it returns keeps generated ids distinct."""
        with self._lock:
            self._requests.append(request)
            self._counts["requests"] += 1
            self._serial += 1
            return self._serial

    def take_reply(self, api: Api, body: Mapping[str, Any]) -> Reply | None:
        """The first reply whose conditions the request meets (its ``match`` in the
        request's text, its ``for_model`` the model asked for), else the first plain one,
        else None."""
        with self._lock:
            if not self._replies:
                return None
            if not self._matching and not self._replies[0].conditional:
                return self._replies.popleft()
        haystack = "\n".join(request_texts(api, body)) if self._matching else ""
        model = body.get("model")
        with self._lock:
            chosen = next(
                (
                    i
                    for i, r in enumerate(self._replies)
                    if r.conditional
                    and (r.match is None or r.match in haystack)
                    and (r.for_model is None or r.for_model == model)
                ),
                None,
            )
            if chosen is None:
                chosen = next((i for i, r in enumerate(self._replies) if not r.conditional), None)
            if chosen is None:
                return None
            reply = self._replies[chosen]
            del self._replies[chosen]
            self._matching -= reply.conditional
            return reply

    def stream_opened(self) -> None:
        with self._lock:
            self._counts["started"] += 1
            self._open += 1

    def stream_closed(self, outcome: Outcome) -> None:
        with self._lock:
            self._counts[outcome] += 1
            self._open -= 1

    def stats(self) -> FakeStats:
        with self._lock:
            counts = self._counts
            return FakeStats(
                requests=counts["requests"],
                streams_started=counts["started"],
                streams_completed=counts["completed"],
                streams_aborted=counts["aborted"],
                streams_dropped=counts["dropped"],
                streams_open=self._open,
                replies_queued=len(self._replies),
                last_requests=tuple(self._requests),
            )
