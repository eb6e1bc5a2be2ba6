"""The chat's slash commands: ``/help`` lists them. Each takes the rest of its line."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.text import Text

from roost.terminal import calls

if TYPE_CHECKING:
    from roost.terminal.chat import Chat

SESSIONS_LISTED = 15


class Quit(Exception):
    """``/quit``: leave the chat."""


@dataclass(frozen=True)
class Command:
    run: Callable[["Chat", str], None]
    usage: str
    help: str
    needs_argument: bool = False


def run(chat: "Chat", line: str) -> None:
    name, _, argument = line.partition(" ")
    command = COMMANDS.get(name.lower())
    if command is None:
        chat.render.error(f"unknown command {name}: /help lists the commands")
    elif command.needs_argument and not argument.strip():
        chat.render.error(f"usage: {command.usage}")
    else:
        command.run(chat, argument.strip())


def ago(moment: datetime) -> str:
    seconds = (datetime.now(UTC) - moment).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def _mark(current: bool) -> str:
    return "*" if current else " "


def _help(chat: "Chat", _argument: str) -> None:
    for command in COMMANDS.values():
        chat.console.print(Text(f"  {command.usage:<20}", style="bold") + Text(command.help))
    chat.render.note("Ctrl-C stops the answer under way; Ctrl-D (or /quit) leaves.")


def _new(chat: "Chat", _argument: str) -> None:
    chat.session_id = None
    chat.render.note("a new session starts with your next message")


def _sessions(chat: "Chat", _argument: str) -> None:
    chat.listed = chat.call(lambda r: r.sessions.list(limit=SESSIONS_LISTED)).data
    if not chat.listed:
        chat.render.note("no sessions yet")
    for number, session in enumerate(chat.listed, 1):
        line = Text(f"{_mark(session.id == chat.session_id)}{number:>3}. ")
        line += Text(session.display_title, style="bold")
        facts = f"  {session.message_count} messages · {ago(session.updated_at)} · {session.id}"
        chat.console.print(line + Text(facts, style="dim"))


def _open(chat: "Chat", argument: str) -> None:
    if argument.isdigit():
        number = int(argument)
        if not 1 <= number <= len(chat.listed):
            chat.render.error(f"no session number {number}: /sessions lists them")
            return
        argument = chat.listed[number - 1].id
    chat.open(argument)


def _agents(chat: "Chat", _argument: str) -> None:
    for agent in chat.call(lambda r: r.agents.list(limit=100)).data:
        line = Text(f"{_mark(agent.name == chat.agent)} {agent.name}", style="bold")
        chat.console.print(line + Text(f"  {agent.description}", style="dim"))


def _agent(chat: "Chat", argument: str) -> None:
    chat.agent = chat.call(lambda r: r.agents.get(argument)).name
    chat.render.note(f"agent {chat.agent} answers the next messages")


def _models(chat: "Chat", _argument: str) -> None:
    for model in chat.call(lambda r: r.models.list()):
        current = chat.model in (model.id, model.name)
        window = f"  {model.context_window:,} tokens" if model.context_window else ""
        chat.console.print(Text(f"{_mark(current)} {model.id}") + Text(window, style="dim"))


def _model(chat: "Chat", argument: str) -> None:
    known = chat.call(lambda r: r.models.list())
    if not any(argument in (model.id, model.name) for model in known):
        chat.render.error(f"no model {argument}: /models lists them")
        return
    chat.model = argument
    chat.render.note(f"model {argument} answers the next messages")


def _projects(chat: "Chat", _argument: str) -> None:
    projects, active = chat.call(calls.projects)
    if not projects:
        chat.render.note("no projects")
    for project in projects:
        line = Text(f"{_mark(project['id'] == active)} {project['name']}", style="bold")
        chat.console.print(line + Text(f"  {project['path']} · {project['id']}", style="dim"))


def _tasks(chat: "Chat", _argument: str) -> None:
    tasks = chat.call(calls.tasks)
    if not tasks:
        chat.render.note("no tasks")
    for task in tasks:
        line = Text(f"  {task['status']:<11}") + Text(task["name"], style="bold")
        chat.console.print(line + Text(f"  {task['id']}", style="dim"))


def _task(chat: "Chat", description: str) -> None:
    """Creates a task and follows its run (plan updates included) until it ends."""
    options = {"agent": chat.agent, "model": chat.model}
    task = chat.call(lambda r: calls.create_task(r, description, **options))
    task_id, turn_id = task["id"], task.get("turn_id")
    chat.render.note(f"task {task_id} · {task['name']} · {task['status']}")
    if not turn_id:
        chat.render.note("the task has not started; /tasks shows it")
        return
    chat.follow(
        lambda r: r.turns.events(task["session_id"], turn_id, after=0),
        lambda _stream: chat.call(lambda r: calls.stop_task(r, task_id))["status"] == "stopped",
    )
    ended = chat.call(lambda r: calls.get_task(r, task_id))
    summary = (ended.get("result") or {}).get("summary", "")
    style = "green" if ended["status"] == "completed" else "yellow"
    chat.render.note(f"task {ended['status']}" + (f": {summary}" if summary else ""), style)


def _cancel(chat: "Chat", _argument: str) -> None:
    if chat.session_id is None:
        chat.render.note("no session open")
        return
    session_id = chat.session_id
    cancelled = chat.call(lambda r: r.turns.cancel(session_id))
    chat.render.note(f"cancelled {len(cancelled)} turn(s)" if cancelled else "nothing runs")


def _quit(_chat: "Chat", _argument: str) -> None:
    raise Quit


COMMANDS: dict[str, Command] = {
    "/help": Command(_help, "/help", "these commands"),
    "/new": Command(_new, "/new", "start a new session"),
    "/sessions": Command(_sessions, "/sessions", "the recent sessions, numbered"),
    "/open": Command(_open, "/open N|ID", "switch to a session", needs_argument=True),
    "/agents": Command(_agents, "/agents", "the agents"),
    "/agent": Command(_agent, "/agent NAME", "answer with an agent", needs_argument=True),
    "/models": Command(_models, "/models", "the models"),
    "/model": Command(_model, "/model NAME", "answer with a model", needs_argument=True),
    "/projects": Command(_projects, "/projects", "your projects (* the active one)"),
    "/tasks": Command(_tasks, "/tasks", "your recent tasks and their status"),
    "/task": Command(_task, "/task DESCRIPTION", "run a task, following it", needs_argument=True),
    "/cancel": Command(_cancel, "/cancel", "cancel the session's running turn"),
    "/quit": Command(_quit, "/quit", "leave (Ctrl-D too)"),
}
