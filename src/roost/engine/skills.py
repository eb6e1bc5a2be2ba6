"""Skills: instructions that join the system prompt, always (active) or for one turn
(when one of their triggers appears in the user's message)."""

import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SkillText:
    name: str
    instructions: str
    triggers: tuple[str, ...]
    active: bool


@dataclass(frozen=True)
class BuiltinSkill:
    key: str
    name: str
    description: str
    instructions: str
    triggers: tuple[str, ...]
    category: str
    icon: str


BUILTINS: tuple[BuiltinSkill, ...] = (
    BuiltinSkill(
        "code-review",
        "Code Review",
        "A thorough, kind review of code or a diff.",
        "When reviewing code: first say what the change does; then list problems by "
        "severity (bugs, security, performance, readability) with the line and a concrete "
        "fix; end with what is good about it. Never invent code that was not shown.",
        ("review", "code review"),
        "coding",
        "🔍",
    ),
    BuiltinSkill(
        "explain-simply",
        "Explain Simply",
        "Plain-language explanations without jargon.",
        "Explain as to a smart newcomer: short sentences, one idea at a time, an everyday "
        "analogy, and define any term of art the first time it appears.",
        ("explain", "eli5"),
        "writing",
        "💡",
    ),
    BuiltinSkill(
        "summarize",
        "Summarize",
        "Short summaries that keep what matters.",
        "Summarise in at most five bullet points: decisions, facts and numbers, open "
        "questions. Keep names and figures exact; leave out pleasantries.",
        ("summarize", "summarise", "tl;dr", "tldr"),
        "writing",
        "📝",
    ),
    BuiltinSkill(
        "debugging",
        "Debugging",
        "Find the cause before proposing a fix.",
        "When something fails: restate the symptom, list the likely causes from most to "
        "least likely with how to check each, and only then propose the smallest fix. "
        "Ask for the exact error and versions when they are missing.",
        ("debug", "bug", "error", "traceback", "stack trace"),
        "coding",
        "🐞",
    ),
)


def triggered(skill: SkillText, message: str) -> bool:
    """Whether a trigger appears in the message as words (case does not matter)."""
    lowered = message.lower()
    return any(
        re.search(rf"(?<!\w){re.escape(t.lower())}(?!\w)", lowered) for t in skill.triggers if t
    )


def for_turn(
    skills: Sequence[SkillText], message: str, *, also: Sequence[str] = ()
) -> tuple[list[SkillText], list[str]]:
    """The skills that join this turn's system prompt, and the names of those that a
    trigger brought in (the active ones, and those named in ``also``, the agent's
    skills, always join)."""
    chosen: list[SkillText] = []
    brought: list[str] = []
    named = {name.casefold() for name in also}
    for skill in skills:
        if skill.active or skill.name.casefold() in named:
            chosen.append(skill)
        elif triggered(skill, message):
            chosen.append(skill)
            brought.append(skill.name)
    return chosen, brought


def as_instructions(skills: Sequence[SkillText]) -> str | None:
    if not skills:
        return None
    return "\n\n".join(f"## Skill: {s.name}\n{s.instructions}" for s in skills)
