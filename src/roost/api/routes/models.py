"""Agents (roles), providers and models: what can answer, and with what."""

from typing import Annotated

from fastapi import APIRouter, Query

from roost.api.deps import Caller, Services
from roost.api.openapi import errors
from roost.api.schemas.models import ModelOut, ModelsOut, ProviderOut, ProvidersOut
from roost.engine.providers.registry import PROVIDER_NAMES, describe
from roost.errors import ApiError

router = APIRouter(tags=["models"])


@router.get("/providers", response_model=ProvidersOut)
async def list_providers(_caller: Caller, services: Services) -> ProvidersOut:
    """Configured providers with their models (Floyd), counts and the default (Mini-Devin);
    well-known providers that are not configured are listed with ``configured: false``."""
    registry = services.providers
    providers: list[ProviderOut] = []
    models: dict[str, list[ModelOut]] = {}
    for provider_id in registry.ids():
        listed = [ModelOut(**vars(m)) for m in await registry.models(provider_id)]
        models[provider_id] = listed
        providers.append(ProviderOut(**describe(registry, provider_id), models_count=len(listed)))
    for provider_id, name in PROVIDER_NAMES.items():
        if provider_id not in models:
            providers.append(
                ProviderOut(
                    id=provider_id,
                    name=name,
                    kind="anthropic" if provider_id == "anthropic" else "openai",
                    base_url=None,
                    configured=False,
                    models_count=0,
                )
            )
    default = await _default_model(services)
    return ProvidersOut(providers=providers, models=models, default_model=default)


@router.get("/models", response_model=ModelsOut, responses=errors(404))
async def list_models(
    _caller: Caller,
    services: Services,
    provider: Annotated[str | None, Query(max_length=100, description="A provider id.")] = None,
) -> ModelsOut:
    """Models of the configured providers (catalogue, configured and live lists)."""
    registry = services.providers
    ids = [provider] if provider else registry.ids()
    listed: list[ModelOut] = []
    for provider_id in ids:
        registry.get(provider_id)  # PROVIDER_NOT_FOUND for an unknown id
        listed += [ModelOut(**vars(m)) for m in await registry.models(provider_id)]
    return ModelsOut(models=listed, data=listed)


async def _default_model(services: Services) -> str | None:
    try:
        return (await services.providers.resolve(None)).ref
    except ApiError:  # no provider, no default: the listing still answers
        return None
