"""What an agent is, whichever store it comes from: roost.toml, or a version in the
database. Turns, runs and evaluations read agents only through this shape."""

import hashlib
from dataclasses import asdict, dataclass, fields
from typing import Any

import orjson

from roost.config import AgentSettings

DEFAULT_AGENT_NAME = "assistant"


@dataclass(frozen=True)
class AgentDefinition:
    name: str
    description: str = ""
    preamble: str = ""
    model: str | None = None  # "provider/model"; None: the session's or user's
    tools: tuple[str, ...] | None = None  # None: every tool; (): none
    skills: tuple[str, ...] = ()  # skills that join every turn, besides the active ones
    max_iterations: int | None = None
    requires_approval: bool = False
    temperature: float | None = None
    recall_memories: bool = True  # the best-matching memories join each turn's context

    @classmethod
    def from_settings(cls, name: str, agent: AgentSettings) -> "AgentDefinition":
        return cls(
            name=name,
            description=agent.description,
            preamble=agent.preamble,
            model=agent.model,
            tools=None if agent.tools is None else tuple(agent.tools),
            skills=tuple(agent.skills),
            max_iterations=agent.max_iterations,
            requires_approval=agent.requires_approval,
            temperature=agent.temperature,
            recall_memories=agent.recall_memories,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AgentDefinition":
        tools = data.get("tools")
        return cls(
            name=str(data["name"]),
            description=str(data.get("description") or ""),
            preamble=str(data.get("preamble") or ""),
            model=data.get("model"),
            tools=None if tools is None else tuple(tools),
            skills=tuple(data.get("skills") or ()),
            max_iterations=data.get("max_iterations"),
            requires_approval=bool(data.get("requires_approval", False)),
            temperature=data.get("temperature"),
            recall_memories=bool(data.get("recall_memories", True)),
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tools"] = None if self.tools is None else list(self.tools)
        data["skills"] = list(self.skills)
        return data

    def digest(self) -> str:
        """Names one definition: equal definitions, equal digests."""
        canonical = orjson.dumps(self.as_dict(), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(canonical).hexdigest()


# The fields of a definition, in order: the columns of an agent that a version keeps.
FIELDS = tuple(field.name for field in fields(AgentDefinition))


def split_model(model: str | None) -> dict[str, str] | None:
    """CoAgent's ``model_ref`` for a "provider/model" reference."""
    if not model:
        return None
    provider_id, _, model_name = model.partition("/")
    return {"provider_id": provider_id, "model_name": model_name}
