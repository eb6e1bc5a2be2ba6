"""Providers and their models, as listed."""

from pydantic import BaseModel


class ModelOut(BaseModel):
    id: str
    name: str
    provider: str
    context_window: int | None
    supports_vision: bool
    supports_function_calling: bool


class ModelsOut(BaseModel):
    models: list[ModelOut]
    data: list[ModelOut]


class ProviderOut(BaseModel):
    id: str
    name: str
    kind: str
    base_url: str | None
    configured: bool
    models_count: int


class ProvidersOut(BaseModel):
    providers: list[ProviderOut]
    models: dict[str, list[ModelOut]]
    default_model: str | None
