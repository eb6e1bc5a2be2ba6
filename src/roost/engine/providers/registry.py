"""Configured providers, and which one serves a given model name."""

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from roost.config import ProviderSettings, Settings
from roost.engine.providers.base import ModelInfo, Provider, ProviderError
from roost.engine.providers.catalogue import BY_ID, CATALOGUE
from roost.errors import ModelNotFound, ProviderNotConfigured, ProviderNotFound

LIVE_LIST_TTL_SECONDS = 60.0
PROVIDER_NAMES = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "ollama": "Ollama",
    "glm": "Zai GLM (Zhipu)",
}
CONFIGURE_HINT = (
    "Set OPENAI_API_KEY or ANTHROPIC_API_KEY (optionally with OPENAI_BASE_URL / "
    "ANTHROPIC_BASE_URL), OLLAMA_BASE_URL, or a [providers.NAME] table in roost.toml"
)


class ListNeeded(Exception):
    """An ``offline`` resolution needs a provider's live model list, which is not at
    hand: resolve again without ``offline``, outside what must not wait on the network."""


@dataclass(frozen=True)
class ResolvedModel:
    provider: Provider
    model: str

    @property
    def ref(self) -> str:
        return f"{self.provider.id}/{self.model}"


def provider_settings(settings: Settings) -> dict[str, ProviderSettings]:
    """Providers from the environment, then roost.toml's named ones (which win)."""
    found: dict[str, ProviderSettings] = {}
    if settings.openai_api_key or settings.openai_base_url:
        found["openai"] = ProviderSettings(
            kind="openai", base_url=settings.openai_base_url, api_key=settings.openai_api_key
        )
    if settings.anthropic_api_key or settings.anthropic_base_url:
        found["anthropic"] = ProviderSettings(
            kind="anthropic",
            base_url=settings.anthropic_base_url,
            api_key=settings.anthropic_api_key,
        )
    if settings.ollama_base_url:
        base = settings.ollama_base_url.rstrip("/")
        found["ollama"] = ProviderSettings(
            kind="openai",
            base_url=base if base.endswith("/v1") else f"{base}/v1",
            api_key=SecretStr("ollama"),  # Ollama ignores it; the SDK insists on one
        )
    return {**found, **settings.providers}


def build(provider_id: str, config: ProviderSettings) -> Provider:
    key = config.api_key.get_secret_value() if config.api_key else None
    if config.kind == "anthropic":
        from roost.engine.providers.anthropic import AnthropicProvider

        return AnthropicProvider(provider_id, base_url=config.base_url, api_key=key)
    from roost.engine.providers.openai_compat import OpenAICompatProvider

    return OpenAICompatProvider(provider_id, base_url=config.base_url, api_key=key)


class ProviderRegistry:
    def __init__(
        self,
        settings: Settings,
        *,
        configs: dict[str, ProviderSettings] | None = None,
        shared: "ProviderRegistry | None" = None,
    ) -> None:
        self.settings = settings
        self.configs = provider_settings(settings) if configs is None else configs
        # Views made by ``with_overrides`` share their parent's clients and model lists.
        self._providers: dict[tuple[str, str], Provider] = shared._providers if shared else {}
        self._live: dict[tuple[str, str], tuple[float, list[ModelInfo]]] = (
            shared._live if shared else {}
        )

    def with_overrides(self, extra: dict[str, ProviderSettings]) -> "ProviderRegistry":
        """The same providers plus (or replaced by) ``extra``: one user's own keys."""
        if not extra:
            return self
        return ProviderRegistry(self.settings, configs={**self.configs, **extra}, shared=self)

    def _cache_key(self, provider_id: str) -> tuple[str, str]:
        """Clients are kept per endpoint and key, so a changed key gets a new client."""
        config = self.configs[provider_id]
        secret = config.api_key.get_secret_value() if config.api_key else ""
        fingerprint = hashlib.sha256(f"{config.kind}|{config.base_url}|{secret}".encode())
        return provider_id, fingerprint.hexdigest()

    def ids(self) -> list[str]:
        return list(self.configs)

    def get(self, provider_id: str) -> Provider:
        if provider_id not in self.configs:
            raise ProviderNotFound(provider_id, self.ids())
        key = self._cache_key(provider_id)
        if key not in self._providers:
            self._providers[key] = build(provider_id, self.configs[provider_id])
        return self._providers[key]

    def kind_of(self, provider_id: str) -> str:
        """``ollama`` and ``glm`` speak OpenAI's protocol but keep their catalogue name."""
        if provider_id in PROVIDER_NAMES:
            return provider_id
        return self.configs[provider_id].kind

    async def models(self, provider_id: str, *, offline: bool = False) -> list[ModelInfo]:
        """The catalogue's models for this provider's kind, its configured ones, its live
        list (``offline``: only if at hand, else :class:`ListNeeded`)."""
        config = self.configs[provider_id]
        kind = self.kind_of(provider_id)
        listed = {m.id: m for m in CATALOGUE if m.provider == kind}
        for name in config.models:
            listed.setdefault(name, BY_ID.get(name) or ModelInfo(name, name, provider_id))
        for model in await self._live_models(provider_id, offline=offline):
            listed.setdefault(model.id, BY_ID.get(model.id) or model)
        return [
            ModelInfo(
                m.id,
                m.name,
                provider_id,
                m.context_window,
                m.supports_vision,
                m.supports_function_calling,
            )
            for m in listed.values()
        ]

    async def resolve(self, model: str | None, *, offline: bool = False) -> ResolvedModel:
        """The provider and model name for ``model`` (``name`` or ``provider/name``);
        ``offline``, with no request to a provider (:class:`ListNeeded` if one is due)."""
        if not self.configs:
            raise ProviderNotConfigured("No model provider is configured. " + CONFIGURE_HINT)
        wanted = model or self.settings.default_model
        if wanted is None:
            return await self._default(offline=offline)
        provider_id, _, name = wanted.partition("/")
        if name and provider_id in self.configs:
            return ResolvedModel(self.get(provider_id), name)
        for candidate in self._by_preference(wanted):
            if wanted in {m.id for m in await self.models(candidate, offline=offline)}:
                return ResolvedModel(self.get(candidate), wanted)
        known = BY_ID.get(wanted)
        if known is not None:
            raise ProviderNotConfigured(
                f"Model {wanted} needs a {known.provider} provider, and none is configured. "
                + CONFIGURE_HINT,
                details={"model": wanted, "provider": known.provider},
            )
        raise ModelNotFound(wanted, await self.available(offline=offline))

    async def available(self, *, offline: bool = False) -> list[str]:
        names: list[str] = []
        for provider_id in self.configs:
            models = await self.models(provider_id, offline=offline)
            names += [m.id for m in models if m.id not in names]
        return names

    async def aclose(self) -> None:
        for provider in self._providers.values():
            await provider.aclose()

    async def _default(self, *, offline: bool) -> ResolvedModel:
        for provider_id, config in self.configs.items():
            if config.default_model:
                return ResolvedModel(self.get(provider_id), config.default_model)
            models = await self.models(provider_id, offline=offline)
            if models:
                return ResolvedModel(self.get(provider_id), models[0].id)
        raise ProviderNotConfigured(
            "No default model: set ROOST_DEFAULT_MODEL or a provider's default_model"
        )

    def _by_preference(self, model: str) -> list[str]:
        """Providers of the model's own kind first, so a name shared by two stays predictable."""
        known = BY_ID.get(model)
        ids = self.ids()
        if known is None:
            return ids
        return sorted(ids, key=lambda pid: self.kind_of(pid) != known.provider)

    async def _live_models(self, provider_id: str, *, offline: bool = False) -> list[ModelInfo]:
        key = self._cache_key(provider_id)
        cached = self._live.get(key)
        if cached is not None and time.monotonic() - cached[0] < LIVE_LIST_TTL_SECONDS:
            return cached[1]
        if offline:
            raise ListNeeded(provider_id)
        try:
            models = await self.get(provider_id).list_models()
        except ProviderError:
            models = []
        self._live[key] = (time.monotonic(), models)
        return models


def describe(registry: ProviderRegistry, provider_id: str) -> dict[str, Any]:
    config = registry.configs[provider_id]
    return {
        "id": provider_id,
        "name": config.name or PROVIDER_NAMES.get(provider_id, provider_id),
        "kind": config.kind,
        "base_url": config.base_url,
        "configured": True,
    }
