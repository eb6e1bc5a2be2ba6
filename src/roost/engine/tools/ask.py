"""``ask_user``: the agent asks the user something, and the turn waits for the answer.

The runner never calls its handler inside a turn: it turns the call into an
``input_required`` event and the user's answer becomes the call's result.
"""

from typing import Any

from roost.engine.tools.registry import Tool, ToolContext, ToolError

MAX_OPTIONS = 20

SCHEMA = {
    "type": "object",
    "properties": {
        "question": {"type": "string", "description": "What to ask the user."},
        "options": {
            "type": "array",
            "items": {"type": "string"},
            "maxItems": MAX_OPTIONS,
            "description": "Answers to offer, if the choice is closed.",
        },
    },
    "required": ["question"],
    "additionalProperties": False,
}


def question_of(args: dict[str, Any]) -> tuple[str, list[str]]:
    """The question and its offered answers, whatever shape the model sent them in."""
    question = args.get("question")
    text = question.strip() if isinstance(question, str) else ""
    options = args.get("options")
    offered = [str(o)[:200] for o in options[:MAX_OPTIONS]] if isinstance(options, list) else []
    return text[:4000] or "The assistant needs your input.", offered


async def _outside_a_turn(args: dict[str, Any], context: ToolContext) -> Any:
    raise ToolError("ask_user works only inside a turn, where the user can answer")


ASK_USER = Tool(
    "ask_user",
    "Ask the user a question and wait for the answer. Use it when you cannot go on "
    "without a decision or a fact only the user has.",
    SCHEMA,
    _outside_a_turn,
)
