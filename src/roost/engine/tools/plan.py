"""``update_plan``: the agent keeps a visible plan, streamed as ``plan_update`` events."""

from typing import Any

from roost.domain.events import PlanUpdate
from roost.engine.tools.registry import Tool, ToolContext, ToolError

STATUSES = ("pending", "in_progress", "completed", "skipped")
MAX_STEPS = 50

SCHEMA = {
    "type": "object",
    "properties": {
        "steps": {
            "type": "array",
            "maxItems": MAX_STEPS,
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "description": {"type": "string"},
                    "status": {"type": "string", "enum": list(STATUSES)},
                },
                "required": ["description", "status"],
            },
        }
    },
    "required": ["steps"],
    "additionalProperties": False,
}


def checked_plan(args: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    steps = args.get("steps")
    if not isinstance(steps, list) or not steps or len(steps) > MAX_STEPS:
        raise ToolError(f"steps must be a list of 1 to {MAX_STEPS} steps")
    plan = []
    for number, step in enumerate(steps, 1):
        if not isinstance(step, dict):
            raise ToolError(f"step {number} must be an object")
        description, status = step.get("description"), step.get("status")
        if not isinstance(description, str) or not description.strip():
            raise ToolError(f"step {number} needs a description")
        if status not in STATUSES:
            raise ToolError(f"step {number}: status must be one of {', '.join(STATUSES)}")
        plan.append(
            {
                "id": str(step.get("id") or f"step-{number}"),
                "description": description[:500],
                "status": status,
            }
        )
    return {"steps": plan}


async def update_plan(args: dict[str, Any], context: ToolContext) -> str:
    plan = checked_plan(args)
    await context.emit(PlanUpdate.model_validate({"plan": plan}))
    done = sum(step["status"] == "completed" for step in plan["steps"])
    return f"Plan updated: {done} of {len(plan['steps'])} steps completed"


UPDATE_PLAN = Tool(
    "update_plan",
    "Record the plan for the task: every step with its status (pending, in_progress, "
    "completed, skipped). Call it again whenever a step changes.",
    SCHEMA,
    update_plan,
)
