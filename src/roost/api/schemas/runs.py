"""Runs (CoAgent): what a client sends and what it is shown."""

from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictBool, StringConstraints, computed_field

from roost.api.schemas.agents import ModelRef, ModelRefOut, Preamble, Temperature
from roost.api.schemas.common import ClientModel, ListOut, Metadata, NoNul, Timestamp, either
from roost.domain.agents import split_model
from roost.services.runs import RunRequest
from roost.store.models import Run

RunId = Annotated[
    str,
    StringConstraints(strict=True, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$"),
]
Prompt = Annotated[str, StringConstraints(strict=True, max_length=1_000_000), NoNul]


class RunIn(ClientModel):
    run_id: RunId | None = Field(
        None, description="Yours, echoed back and unique among your runs; else one is made."
    )
    agent_id: str | None = either(
        "agent_id", "agent", max_length=100, description="An agent's id or name."
    )
    preamble: Preamble | None = Field(None, description="Or a system message, without an agent.")
    prompt: Prompt
    model_ref: ModelRef | None = Field(None, description="The model, in place of the agent's.")
    temperature: Temperature | None = None
    log_meta: Metadata = Field(default_factory=dict, description="Yours, kept with the run.")
    stream: StrictBool | None = Field(None, description="Stream the run's events as SSE.")

    def request(self) -> RunRequest:
        return RunRequest(
            prompt=self.prompt,
            run_id=self.run_id,
            agent=self.agent_id,
            preamble=self.preamble,
            model=self.model_ref.ref if self.model_ref else None,
            temperature=self.temperature,
            log_meta=self.log_meta,
        )


class TokenUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    @classmethod
    def of(cls, run: Run) -> "TokenUsage":
        total = run.prompt_tokens + run.completion_tokens
        return cls(
            prompt_tokens=run.prompt_tokens,
            completion_tokens=run.completion_tokens,
            total_tokens=total,
        )


class RunOut(BaseModel):
    """CoAgent's answer (``response``, ``token_usage``, ``run_id``, ``latency_ms``), and
    what Roost logged with it."""

    run_id: str
    response: str | None = Field(description="The answer; null while the run goes on.")
    token_usage: TokenUsage
    latency_ms: int | None
    id: str
    status: str = Field(description="running, completed, failed, cancelled or interrupted.")
    error: dict[str, Any] | None
    prompt: str
    preamble: str
    agent_id: str | None
    agent: str | None
    agent_version: int | None
    model_ref: ModelRefOut | None
    model: str | None
    temperature: float | None
    log_meta: dict[str, Any]
    tool_calls: list[dict[str, Any]]
    session_id: str | None
    turn_id: str | None
    created_at: Timestamp
    finished_at: Timestamp | None

    @classmethod
    def of(cls, run: Run) -> "RunOut":
        split = split_model(run.model)
        return cls(
            run_id=run.run_id,
            response=run.response,
            token_usage=TokenUsage.of(run),
            latency_ms=run.latency_ms,
            id=run.id,
            status=run.status,
            error=run.error,
            prompt=run.prompt,
            preamble=run.preamble,
            agent_id=run.agent_id,
            agent=run.agent,
            agent_version=run.agent_version,
            model_ref=ModelRefOut(**split) if split else None,
            model=run.model,
            temperature=run.temperature,
            log_meta=run.log_meta,
            tool_calls=run.tool_calls,
            session_id=run.session_id,
            turn_id=run.turn_id,
            created_at=run.created_at,
            finished_at=run.finished_at,
        )


class RunListOut(ListOut[RunOut]):
    @computed_field  # type: ignore[prop-decorator]
    @property
    def runs(self) -> list[RunOut]:
        """The same list as `data`."""
        return self.data
