"""Agents and their versions: what a client sends and what it is shown (CoAgent's
shapes, with Roost's fields beside them)."""

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    computed_field,
    model_validator,
)

from roost.api.schemas.common import ClientModel, ListOut, NoNul, ShortName, Timestamp, Whole
from roost.domain.agents import FIELDS, split_model
from roost.store.models import Agent, AgentVersion

AgentName = Annotated[
    str,
    StringConstraints(
        strict=True, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
    ),
]
Preamble = Annotated[str, StringConstraints(strict=True, max_length=100_000), NoNul]
Description = Annotated[str, StringConstraints(strict=True, max_length=2000), NoNul]
ModelPart = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=100, strip_whitespace=True), NoNul
]
Iterations = Annotated[StrictInt, Field(ge=1, le=1000), Whole]
Temperature = Annotated[float, Field(ge=0, le=2)]
ToolNames = Annotated[list[ShortName], Field(max_length=200)]


class ModelRef(ClientModel):
    """CoAgent's model reference: a provider and one of its models."""

    provider_id: ModelPart
    model_name: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=200), NoNul]

    @property
    def ref(self) -> str:
        return f"{self.provider_id}/{self.model_name}"


class _AgentFields(ClientModel):
    description: Description | None = None
    preamble: Preamble | None = None
    model_ref: ModelRef | None = Field(None, description="The model the agent answers with.")
    model: ShortName | None = Field(None, description='Or Roost\'s "provider/model".')
    tools: ToolNames | Literal["all", "none"] | None = Field(
        None, description='Tool names, or "all" (the default) or "none".'
    )
    skills: Annotated[list[ShortName], Field(max_length=50)] | None = Field(
        None, description="Skills (by name) that join every turn, besides your active ones."
    )
    max_iterations: Iterations | None = None
    requires_approval: StrictBool | None = None
    temperature: Temperature | None = None
    recall_memories: StrictBool | None = Field(
        None, description="Whether the best-matching memories join each turn (true)."
    )

    @model_validator(mode="after")
    def _one_model(self) -> "_AgentFields":
        if self.model_ref is not None and self.model is not None:
            raise ValueError("give model_ref or model, not both")
        return self

    def definition(self, sent: set[str]) -> dict[str, Any]:
        """The service's fields, for the keys the client sent."""
        fields: dict[str, Any] = {}
        for key in sent & {"name", "description", "preamble", "skills"}:
            value = getattr(self, key)
            fields[key] = "" if value is None and key in ("description", "preamble") else value
        if "skills" in fields and fields["skills"] is None:
            fields["skills"] = []
        for key in sent & {"max_iterations", "requires_approval", "temperature"}:
            fields[key] = getattr(self, key)
        if "requires_approval" in fields and fields["requires_approval"] is None:
            fields["requires_approval"] = False
        if "recall_memories" in sent:
            fields["recall_memories"] = self.recall_memories is not False
        if "model_ref" in sent or "model" in sent:
            fields["model"] = self.model_ref.ref if self.model_ref else self.model
        if "tools" in sent:
            fields["tools"] = (
                None if self.tools in (None, "all") else [] if self.tools == "none" else self.tools
            )
        return fields


class AgentIn(_AgentFields):
    name: AgentName = Field(description="Unique among your agents.")
    preamble: Preamble = Field(description="The agent's system message.")
    shared: StrictBool = Field(False, description="A server agent, every user's (admins only).")


class AgentReplace(_AgentFields):
    """PUT: every field; those left out return to their defaults."""

    name: AgentName
    preamble: Preamble


class AgentChange(_AgentFields):
    """PATCH: the fields sent change."""

    name: AgentName | None = None


def _definition_out(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": data.get("description") or "",
        "preamble": data.get("preamble") or "",
        "model": data.get("model"),
        "model_ref": split_model(data.get("model")),
        "tools": data.get("tools"),
        "skills": data.get("skills") or [],
        "max_iterations": data.get("max_iterations"),
        "requires_approval": bool(data.get("requires_approval")),
        "temperature": data.get("temperature"),
        "recall_memories": bool(data.get("recall_memories", True)),
    }


class ModelRefOut(BaseModel):
    provider_id: str
    model_name: str


class AgentOut(BaseModel):
    id: str
    name: str
    description: str
    preamble: str
    model_ref: ModelRefOut | None
    model: str | None = Field(description='The same model as Roost\'s "provider/model".')
    tools: list[str] | None = Field(description="Tool names; null means every tool.")
    skills: list[str]
    max_iterations: int | None
    requires_approval: bool
    temperature: float | None
    recall_memories: bool
    version: int
    shared: bool = Field(description="A server agent: every user may use it, admins change it.")
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, agent: Agent) -> "AgentOut":
        return cls(
            id=agent.id,
            name=agent.name,
            version=agent.version,
            shared=agent.owner_id is None,
            created_at=agent.created_at,
            updated_at=agent.updated_at,
            **_definition_out({k: getattr(agent, k) for k in FIELDS if k != "name"}),
        )


class AgentListOut(ListOut[AgentOut]):
    @computed_field  # type: ignore[prop-decorator]
    @property
    def agents(self) -> list[AgentOut]:
        """CoAgent's name for the same list."""
        return self.data


class AgentVersionOut(BaseModel):
    agent_id: str
    version: int
    name: str
    description: str
    preamble: str
    model_ref: ModelRefOut | None
    model: str | None
    tools: list[str] | None
    skills: list[str]
    max_iterations: int | None
    requires_approval: bool
    temperature: float | None
    recall_memories: bool
    created_at: Timestamp

    @classmethod
    def of(cls, version: AgentVersion) -> "AgentVersionOut":
        data = version.definition
        return cls(
            agent_id=version.agent_id,
            version=version.version,
            name=str(data.get("name", "")),
            created_at=version.created_at,
            **_definition_out(data),
        )


class AgentVersionListOut(ListOut[AgentVersionOut]):
    pass
