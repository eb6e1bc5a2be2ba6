"""The tools Roost ships, as the server's settings allow them."""

from roost.config import Settings
from roost.engine.tools.ask import ASK_USER
from roost.engine.tools.command import Locations, command_tool
from roost.engine.tools.fetch import fetch_tool
from roost.engine.tools.files import file_tools
from roost.engine.tools.plan import UPDATE_PLAN
from roost.engine.tools.registry import Tool
from roost.engine.tools.sandbox import Sandbox


def builtin_tools(settings: Settings, locations: Locations) -> list[Tool]:
    """Planning, questions and the file tools always; commands and fetching only when
    enabled, so that a model is never offered a tool every call of which is refused.
    ``locations`` lists the project locations, which commands must not see."""
    tools = [UPDATE_PLAN, ASK_USER, *file_tools(Sandbox.of)]
    if settings.run_command_enabled:
        tools.append(command_tool(settings, locations))
    if settings.fetch_url_enabled:
        tools.append(fetch_tool(settings))
    return tools
