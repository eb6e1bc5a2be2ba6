"""The tools a task's turn is offered on top of its agent's: ``finish_task``, which ends
the task with its result, and ``add_artifact``, which keeps a project file as one of
the task's outputs. Chat turns are never offered them."""

import mimetypes
from typing import Any

from roost.engine.tools.registry import Tool, ToolContext, ToolError
from roost.engine.tools.sandbox import Sandbox

MAX_SUMMARY = 10_000

FINISH_SCHEMA = {
    "type": "object",
    "properties": {
        "success": {"type": "boolean", "description": "Whether the task was achieved."},
        "summary": {"type": "string", "description": "What was done, for the user."},
    },
    "required": ["success", "summary"],
    "additionalProperties": False,
}

ARTIFACT_SCHEMA = {
    "type": "object",
    "properties": {
        "path": {"type": "string", "description": "A file in the project, to keep as output."}
    },
    "required": ["path"],
    "additionalProperties": False,
}


async def finish_task(args: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    success, summary = args.get("success"), args.get("summary")
    if not isinstance(success, bool):
        raise ToolError("success must be true or false")
    if not isinstance(summary, str) or not summary.strip():
        raise ToolError("summary must say what was done")
    return {"success": success, "summary": summary.strip()[:MAX_SUMMARY]}


async def add_artifact(args: dict[str, Any], context: ToolContext) -> str:
    if context.keep_output is None or context.working_directory is None:
        raise ToolError("add_artifact needs a task with a project")
    given = args.get("path")
    if not isinstance(given, str) or not given.strip():
        raise ToolError("path must name a file in the project")
    sandbox = Sandbox.of(context)
    limit = context.output_limit_bytes
    data = sandbox.read_bytes(given, limit + 1)
    shown = sandbox.relative(sandbox.parts(given))
    if len(data) > limit:
        raise ToolError(f"{shown} is larger than {limit} bytes; not kept")
    media_type = mimetypes.guess_type(shown)[0] or "application/octet-stream"
    await context.keep_output(shown, data, media_type)
    return f"Kept {shown} ({len(data)} bytes) as an artifact of the task"


FINISH_TASK = Tool(
    "finish_task",
    "End the task: say whether it succeeded and summarise what was done. Call it once, "
    "when the plan's steps are done or the task cannot be done.",
    FINISH_SCHEMA,
    finish_task,
    ends_turn=True,
)

ADD_ARTIFACT = Tool(
    "add_artifact",
    "Keep a file of the project as an output of the task, for the user to download.",
    ARTIFACT_SCHEMA,
    add_artifact,
)

TASK_TOOLS = (FINISH_TASK, ADD_ARTIFACT)
