"""What a started turn runs: the system prompt, the tools it offers and the model
request, from its agent (or what its owner sets in place of the agent's), its project
and skills; and the runner around them."""

from dataclasses import dataclass

from roost.config import Settings
from roost.domain.agents import AgentDefinition
from roost.engine.providers.base import ChatMessage, ModelRequest
from roost.engine.providers.registry import ProviderRegistry
from roost.engine.runner import Resumed, RunSettings, TurnRunner
from roost.engine.tools.approval import approval_gate, needs_approval
from roost.engine.tools.ask import ASK_USER
from roost.engine.tools.policy import SandboxPolicy
from roost.engine.tools.registry import ToolContext, ToolRegistry
from roost.services.projects import TurnProject
from roost.services.turns.event_log import EventWriter
from roost.services.turns.history import to_chat
from roost.services.turns.owners import TurnOwners
from roost.services.turns.sink import TurnSink
from roost.services.user_settings import UserDefaults
from roost.store.models import Message, Session, Turn

CONTINUE_PROMPT = "Continue exactly where your previous answer stopped, without repeating it."


@dataclass
class StartedTurn:
    turn: Turn
    session: Session
    writer: EventWriter
    sink: TurnSink
    defaults: UserDefaults
    providers: ProviderRegistry
    agent: AgentDefinition
    admin: bool = False  # whether the session's owner is an admin
    runner: TurnRunner | None = None
    skill_instructions: str | None = None
    memory_instructions: str | None = None  # the memories recalled for this turn
    resumed: Resumed | None = None
    project: TurnProject | None = None


async def assemble(
    started: StartedTurn,
    history: list[Message],
    *,
    tools: ToolRegistry,
    owners: TurnOwners,
    settings: Settings,
) -> TurnRunner:
    """The runner of a started turn, over its history."""
    turn, session = started.turn, started.session
    agent = started.agent
    provider_id, _, model = (turn.model or "").partition("/")
    chat, summaries = to_chat(history)
    continuing = turn.options.get("continue_message_id")
    if continuing:
        chat.append(ChatMessage("user", CONTINUE_PROMPT))
    project = started.project
    extras = await owners.extras(turn)
    instructions = [
        started.defaults.system_prompt,
        agent.preamble if extras.preamble is None else extras.preamble,
        extras.instructions,
        turn.options.get("instructions"),
        started.skill_instructions,
        started.memory_instructions,
        project.context if project else None,
        *summaries,
    ]
    system = "\n\n".join(part for part in instructions if part) or None
    offered = tools.with_tools(extras.tools)
    tool_names = (
        (None if agent.tools is None else list(agent.tools))
        if turn.options.get("tools", True)
        else []
    )
    if tool_names is not None and extras.names:
        tool_names = [*tool_names, *extras.names]
    admin = started.admin
    specs = await offered.available_specs(tool_names, admin=admin)
    if extras.unattended:
        specs = [s for s in specs if not waits_on_a_person(offered, s.name, agent, settings)]
    request = ModelRequest(
        model=model,
        messages=chat,
        system=system,
        tools=specs,
        max_tokens=started.defaults.max_tokens or settings.max_tokens,
        temperature=agent.temperature if extras.temperature is None else extras.temperature,
    )
    context = ToolContext(
        session.id,
        turn.id,
        session.owner_id,
        working_directory=project.root if project else None,
        emit=started.writer.emit,
        policy=project.policy if project else SandboxPolicy(),
        admin=admin,
        keep_output=extras.keep_output,
    )
    return TurnRunner(
        started.providers.get(provider_id),
        request,
        offered,
        context,
        started.sink,
        RunSettings(
            max_iterations=extras.max_iterations or agent.max_iterations or settings.max_iterations,
            retries=settings.provider_retries,
            continue_message_id=continuing,
        ),
        approval_gate(
            tools,
            requiring=settings.tools_requiring_approval,
            always=agent.requires_approval,
            allowed=session.approved_tools or [],
        ),
    )


def waits_on_a_person(
    tools: ToolRegistry, name: str, agent: AgentDefinition, settings: Settings
) -> bool:
    """Whether a call of the tool would wait on a person: a question, an approval."""
    tool = tools.get(name)
    if name == ASK_USER.name or tool is None:
        return True
    requiring = settings.tools_requiring_approval
    return needs_approval(tool, requiring=requiring, always=agent.requires_approval)
