"""What OpenAI's clients send (chat completions, the Responses API) and how it becomes
a Roost conversation: system and developer messages are the turn's instructions, the
last user message is the turn's, the messages before it are the session's history.

Fields of OpenAI's requests that Roost has no use for (sampling, ``store``, ``user``…)
are accepted and ignored, as an agent's own settings decide them; what Roost cannot honour
(client-side tools, several choices) is refused rather than silently dropped."""

import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, Field, StrictBool, StringConstraints, model_validator

from roost.api.schemas.common import Body, ClientModel, Metadata, Name, NoNul
from roost.api.schemas.turns import Attachment
from roost.errors import InvalidRequest
from roost.services.conversations import Conversation
from roost.services.messages import ImportedMessage
from roost.services.turns import TurnRequest

MODEL_PREFIX = "roost/"
MAX_MESSAGES = 1000
DATA_URL = re.compile(r"^data:(image/[a-z+.-]+);base64,(.*)$", re.DOTALL)
ImageUrl = Annotated[str, StringConstraints(strict=True, max_length=27_000_000), NoNul]


def model_id(agent: str) -> str:
    """The model name an OpenAI client uses for an agent."""
    return MODEL_PREFIX + agent


def agent_of(model: str) -> str:
    """The agent a model name stands for: ``roost/<agent>``, or the agent's bare name."""
    return model.removeprefix(MODEL_PREFIX)


class ImageRef(BaseModel):
    url: ImageUrl


class ContentPart(ClientModel):
    """A part of a message: text (``text``, ``input_text``, ``output_text``) or an image
    (``image_url`` in chat completions, ``input_image`` in the Responses API), as a URL
    or a base64 ``data:`` URL."""

    type: Literal["text", "input_text", "output_text", "image_url", "input_image"]
    text: Body | None = None
    image_url: ImageRef | ImageUrl | None = None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.type.endswith("text") and self.text is None:
            raise ValueError(f"a {self.type} part needs its text")
        if not self.type.endswith("text"):
            self.image()  # refused here, with the request, if no provider could read it
        return self

    def image(self) -> dict[str, Any]:
        url = self.image_url.url if isinstance(self.image_url, ImageRef) else self.image_url
        if url is None:
            raise ValueError(f"an {self.type} part needs its image_url")
        inline = DATA_URL.match(url)
        if inline:
            source = {"data": inline.group(2), "media_type": inline.group(1)}
            return Attachment.model_validate(source).part()
        return Attachment.model_validate({"url": url}).part()


Content = Body | Annotated[list[ContentPart], Field(max_length=100)] | None


def _text_and_images(content: Content) -> tuple[str, list[dict[str, Any]]]:
    if content is None or isinstance(content, str):
        return content or "", []
    text = "\n".join(part.text or "" for part in content if part.type.endswith("text"))
    images = [part.image() for part in content if not part.type.endswith("text")]
    return text, images


class ChatMessageIn(ClientModel):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: Content = None


class StreamOptions(ClientModel):
    include_usage: StrictBool = False


class ChatCompletionCreate(ClientModel):
    model: Name
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    n: int | None = Field(None, ge=1, le=1, description="One choice only.")
    tools: list[dict[str, Any]] | None = Field(
        None, description="Refused: the agent's own tools run on the server."
    )

    def conversation(self) -> Conversation:
        _refuse_client_tools(self.tools)
        said = [(m.role, *_text_and_images(m.content)) for m in self.messages]
        return _conversation(said, agent_of(self.model), via="/v1/chat/completions")


class InputItem(ClientModel):
    """A message of a Responses ``input``; other item types are not taken."""

    type: Literal["message"] = "message"
    role: Literal["system", "developer", "user", "assistant"]
    content: Content


class ResponseCreate(ClientModel):
    model: Name
    input: Body | Annotated[list[InputItem], Field(min_length=1, max_length=MAX_MESSAGES)]
    instructions: Body | None = None
    previous_response_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    stream: StrictBool = False
    background: StrictBool = False
    metadata: Metadata | None = Field(None, description="Kept and returned with the response.")
    tools: list[dict[str, Any]] | None = Field(
        None, description="Refused: the agent's own tools run on the server."
    )

    def conversation(self) -> Conversation:
        _refuse_client_tools(self.tools)
        said: list[tuple[str, str, list[dict[str, Any]]]] = (
            [("user", self.input, [])]
            if isinstance(self.input, str)
            else [(item.role, *_text_and_images(item.content)) for item in self.input]
        )
        if self.instructions:
            said.insert(0, ("system", self.instructions, []))
        client = {
            "background": self.background,
            "metadata": self.metadata or {},
            "previous_response_id": self.previous_response_id,
        }
        return _conversation(said, agent_of(self.model), via="/v1/responses", client=client)


def _refuse_client_tools(tools: list[dict[str, Any]] | None) -> None:
    if tools:
        raise InvalidRequest(
            "Tools declared by the client are not taken: the agent's own tools run on "
            "the server. Leave out `tools`, or give the agent the tools it needs.",
            details={"field": "tools"},
        )


def _conversation(
    said: Sequence[tuple[str, str, list[dict[str, Any]]]],
    agent: str,
    *,
    via: str,
    client: dict[str, Any] | None = None,
) -> Conversation:
    """System and developer messages become the turn's instructions; the last message,
    the user's, its content; the rest, the history before it (as text)."""
    if any(role in ("tool", "function") for role, _, _ in said):
        raise InvalidRequest(
            "Tool messages are not taken: the agent's tools run on the server",
            details={"field": "messages"},
        )
    instructions = "\n\n".join(text for role, text, _ in said if role in ("system", "developer"))
    spoken = [(role, text, images) for role, text, images in said if role in ("user", "assistant")]
    if not spoken or spoken[-1][0] != "user":
        raise InvalidRequest(
            "The last message must be the user's: it is the one the agent answers",
            details={"field": "messages"},
        )
    _, content, attachments = spoken[-1]
    request = TurnRequest(
        content=content,
        attachments=attachments,
        agent=agent,
        instructions=instructions or None,
        client=client,
    )
    history = [ImportedMessage(role, text) for role, text, _ in spoken[:-1]]
    return Conversation(request=request, history=history, via=via)
