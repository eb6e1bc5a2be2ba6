"""Server-Sent Events, read line by line: frames, and the turn events they carry."""

from dataclasses import dataclass, field

from roost.client.models import Event


@dataclass(frozen=True)
class Frame:
    id: str | None
    event: str
    data: str


@dataclass
class Decoder:
    """Builds frames from a stream's lines (without their line endings), as the SSE
    specification reads them: ``field: value`` lines, a blank line ends a frame, lines
    starting with ``:`` are comments. A frame cut off by a dropped connection never
    completes, so it is never returned half-read."""

    _id: str | None = None
    _event: str = ""
    _data: list[str] = field(default_factory=list)

    def feed(self, line: str) -> Frame | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\x00" not in value:
            self._id = value
        return None

    def _dispatch(self) -> Frame | None:
        frame = None
        if self._data:
            frame = Frame(self._id, self._event or "message", "\n".join(self._data))
        self._id, self._event, self._data = None, "", []
        return frame


def event_of(frame: Frame) -> Event | None:
    """The turn event a frame carries; None for a heartbeat, which is not in the log
    (it has no ``id``) and says only that the connection is alive."""
    if frame.event == "heartbeat" or frame.id is None:
        return None
    return Event.model_validate_json(frame.data)
