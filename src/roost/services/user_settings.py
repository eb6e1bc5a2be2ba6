"""A user's own settings (Floyd's): default model, instructions, and a provider key
kept encrypted. They shape that user's turns only."""

from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from roost.clock import utcnow
from roost.config import ProviderSettings
from roost.crypto import SecretBox, preview
from roost.engine.providers.base import ChatMessage, ModelRequest, ProviderError
from roost.engine.providers.registry import ProviderRegistry, build
from roost.engine.providers.retry import complete
from roost.errors import InvalidRequest
from roost.services.caller import Caller
from roost.services.recently_read import RecentlyRead
from roost.store.db import Database
from roost.store.user_settings import UserSettingsRepo

FIELDS = ("provider", "model", "system_prompt", "max_tokens", "base_url")
ANTHROPIC_KINDS = {"anthropic", "anthropic-compatible"}
TEST_MODELS = {"anthropic": "claude-haiku-4-5", "openai": "gpt-4o-mini"}


@dataclass(frozen=True)
class UserDefaults:
    provider: str | None = None
    model: str | None = None
    system_prompt: str | None = None
    max_tokens: int | None = None
    base_url: str | None = None
    api_key: str | None = None

    def provider_settings(self) -> dict[str, ProviderSettings]:
        """The user's own provider, when they gave a key or an endpoint for one."""
        if not self.provider or not (self.api_key or self.base_url):
            return {}
        return {self.provider: endpoint(self.provider, self.api_key, self.base_url)}


def endpoint(provider: str, api_key: str | None, base_url: str | None) -> ProviderSettings:
    kind = "anthropic" if provider in ANTHROPIC_KINDS else "openai"
    return ProviderSettings(
        kind=kind, base_url=base_url, api_key=SecretStr(api_key) if api_key else None
    )


DEFAULTS_TTL_SECONDS = 5.0  # another replica sees a change within this


class SettingsService:
    def __init__(self, database: Database, box: SecretBox, providers: ProviderRegistry) -> None:
        self.database = database
        self.box = box
        self.providers = providers
        # Every turn reads its owner's defaults twice; a short cache spares the database.
        self._recent: RecentlyRead[UserDefaults] = RecentlyRead(DEFAULTS_TTL_SECONDS)

    async def shown(self, caller: Caller) -> dict[str, Any]:
        """The settings as a client sees them: the key only as ``api_key_preview``."""
        defaults = await self.defaults(caller.user_id)
        shown = {name: getattr(defaults, name) for name in FIELDS}
        if defaults.provider is None:
            shown["provider"] = next(iter(self.providers.configs), None)
        if defaults.model is None:
            shown["model"] = self.providers.settings.default_model
        if defaults.max_tokens is None:
            shown["max_tokens"] = self.providers.settings.max_tokens
        configured = self.providers.configs.get(shown["provider"] or "")
        has_key = defaults.api_key is not None or bool(configured and configured.api_key)
        shown["has_api_key"] = has_key
        shown["api_key_preview"] = preview(defaults.api_key) if defaults.api_key else None
        return shown

    async def update(self, caller: Caller, changes: dict[str, Any]) -> None:
        """Apply the keys sent; ``api_key`` null or empty forgets the stored key."""
        async with self.database.write() as db:
            row = await UserSettingsRepo(db, caller).get_or_add()
            for name in FIELDS:
                if name in changes:
                    setattr(row, name, changes[name] or None)
            if "api_key" in changes:
                key = changes["api_key"]
                row.api_key_sealed = self.box.seal(key) if key else None
            row.updated_at = utcnow()
        self._recent.forget(caller.user_id)

    async def defaults(self, owner_id: str) -> UserDefaults:
        return await self._recent.get(owner_id, lambda: self._read_defaults(owner_id))

    async def _read_defaults(self, owner_id: str) -> UserDefaults:
        async with self.database.read() as db:
            row = await UserSettingsRepo(db, owner_id).get()
        if row is None:
            return UserDefaults()
        return UserDefaults(
            provider=row.provider,
            model=row.model,
            system_prompt=row.system_prompt,
            max_tokens=row.max_tokens,
            base_url=row.base_url,
            api_key=self.box.open(row.api_key_sealed) if row.api_key_sealed else None,
        )

    async def providers_for(self, owner_id: str) -> ProviderRegistry:
        """The providers one user's turns may use: the server's, and the user's own key."""
        defaults = await self.defaults(owner_id)
        return self.providers.with_overrides(defaults.provider_settings())

    async def test_key(
        self,
        caller: Caller,
        provider: str | None,
        api_key: str | None,
        base_url: str | None,
        model: str | None,
    ) -> tuple[bool, str, str]:
        """Call the provider with the key (or the stored one): ``(ok, model, message)``."""
        defaults = await self.defaults(caller.user_id)
        provider = provider or defaults.provider or next(iter(self.providers.configs), None)
        if provider is None:
            raise InvalidRequest("Name a provider to test", details={"field": "provider"})
        configured = self.providers.configs.get(provider)
        key = api_key or defaults.api_key
        if key is None and configured is not None and configured.api_key is not None:
            key = configured.api_key.get_secret_value()
        if not key:
            raise InvalidRequest("There is no key to test", details={"field": "api_key"})
        url = base_url or defaults.base_url or (configured.base_url if configured else None)
        config = endpoint(provider, key, url)
        if configured is not None and provider not in ANTHROPIC_KINDS:
            config = config.model_copy(update={"kind": configured.kind})
        model = (
            model
            or defaults.model
            or (configured and configured.default_model)
            or (TEST_MODELS[config.kind])
        )
        client = build(provider, config)
        try:
            request = ModelRequest(model, [ChatMessage("user", "Say OK.")], max_tokens=5)
            await complete(client, request, attempts=1)
        except ProviderError as failure:
            return False, model, failure.message
        finally:
            await client.aclose()
        return True, model, f"{provider} API key is valid"
