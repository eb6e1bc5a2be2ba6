"""Which provider serves a model: environment, roost.toml's named providers, the catalogue."""

import pytest
from pydantic import SecretStr

from roost.config import ProviderSettings, Settings
from roost.engine.providers.registry import ProviderRegistry, provider_settings
from roost.errors import ApiError
from roost.testing import FakeLLM


def test_environment_variables_make_providers() -> None:
    settings = Settings(
        openai_api_key="sk-1",
        anthropic_api_key="sk-ant-1",
        ollama_base_url="http://localhost:11434",
    )
    found = provider_settings(settings)
    assert set(found) == {"openai", "anthropic", "ollama"}
    assert found["anthropic"].kind == "anthropic"
    assert found["ollama"].base_url == "http://localhost:11434/v1"


def test_named_providers_win_over_the_environment() -> None:
    named = ProviderSettings(kind="openai", base_url="http://proxy/v1", api_key=SecretStr("k"))
    settings = Settings(openai_api_key="sk-1", providers={"openai": named})
    assert provider_settings(settings)["openai"].base_url == "http://proxy/v1"


async def test_models_resolve_by_prefix_catalogue_and_live_list(fake_llm: FakeLLM) -> None:
    prod = ProviderSettings(
        kind="openai", base_url=fake_llm.url, api_key=SecretStr("k"), models=["house-model"]
    )
    registry = ProviderRegistry(Settings(providers={"openai-prod": prod}))
    assert (await registry.resolve("openai-prod/anything")).ref == "openai-prod/anything"
    assert (await registry.resolve("gpt-4o")).ref == "openai-prod/gpt-4o"  # catalogue
    assert (await registry.resolve("house-model")).ref == "openai-prod/house-model"  # configured
    assert (await registry.resolve("fake-large")).ref == "openai-prod/fake-large"  # live list
    with pytest.raises(ApiError) as unknown:
        await registry.resolve("mystery-9")
    assert unknown.value.code == "MODEL_NOT_FOUND"
    assert "house-model" in unknown.value.details["available_models"]
    with pytest.raises(ApiError) as wrong_kind:
        await registry.resolve("claude-sonnet-4-5")
    assert wrong_kind.value.code == "PROVIDER_NOT_CONFIGURED"
    await registry.aclose()


async def test_no_provider_at_all_is_not_configured() -> None:
    with pytest.raises(ApiError) as error:
        await ProviderRegistry(Settings()).resolve(None)
    assert error.value.code == "PROVIDER_NOT_CONFIGURED" and error.value.status == 503


def test_a_users_key_makes_a_view_that_shares_clients() -> None:
    base = ProviderRegistry(Settings(openai_api_key="sk-server"))
    mine = base.with_overrides(
        {"openai": ProviderSettings(kind="openai", api_key=SecretStr("sk-mine"))}
    )
    assert base.with_overrides({}) is base
    assert mine.get("openai") is not base.get("openai")
    assert mine.get("openai") is mine.get("openai")
