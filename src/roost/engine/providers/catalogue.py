"""Well-known models, so that a bare model name finds its provider and its limits."""

from roost.engine.providers.base import ModelInfo


def _model(
    id: str, name: str, provider: str, window: int, *, vision: bool = True, tools: bool = True
) -> ModelInfo:
    return ModelInfo(id, name, provider, window, vision, tools)


CATALOGUE: tuple[ModelInfo, ...] = (
    _model("gpt-4o", "GPT-4o", "openai", 128_000),
    _model("gpt-4o-mini", "GPT-4o mini", "openai", 128_000),
    _model("gpt-4.1", "GPT-4.1", "openai", 1_047_576),
    _model("gpt-4.1-mini", "GPT-4.1 mini", "openai", 1_047_576),
    _model("o3", "o3", "openai", 200_000),
    _model("o4-mini", "o4-mini", "openai", 200_000),
    _model("gpt-5", "GPT-5", "openai", 400_000),
    _model("gpt-5-mini", "GPT-5 mini", "openai", 400_000),
    _model("claude-opus-4-1", "Claude Opus 4.1", "anthropic", 200_000),
    _model("claude-sonnet-4-5", "Claude Sonnet 4.5", "anthropic", 200_000),
    _model("claude-sonnet-4-5-20250514", "Claude 4.5 Sonnet", "anthropic", 200_000),
    _model("claude-opus-4-5-20250514", "Claude 4.5 Opus", "anthropic", 200_000),
    _model("claude-haiku-4-5", "Claude Haiku 4.5", "anthropic", 200_000),
    _model("claude-3-5-sonnet-20241022", "Claude 3.5 Sonnet", "anthropic", 200_000),
    _model("llama3.1", "Llama 3.1", "ollama", 128_000, vision=False),
    _model("qwen2.5", "Qwen 2.5", "ollama", 32_768, vision=False),
    _model("glm-4.6", "GLM-4.6", "glm", 200_000, vision=False),
)

BY_ID = {model.id: model for model in CATALOGUE}

DEFAULT_CONTEXT_WINDOW = 32_768


def context_window(model: str) -> int:
    known = BY_ID.get(model)
    return known.context_window if known and known.context_window else DEFAULT_CONTEXT_WINDOW
