"""Vectors for texts, from the embeddings endpoint of a configured OpenAI-compatible
provider (``ROOST_EMBEDDING_MODEL``, "provider/model"); without one, none, and search
goes by words alone. Vectors are kept as little-endian float32 bytes."""

import math
import struct
from collections.abc import Sequence

from roost.engine.providers.openai_compat import OpenAICompatProvider
from roost.engine.providers.registry import ProviderRegistry

MAX_BATCH = 64  # texts a request carries


class Embedder:
    def __init__(self, providers: ProviderRegistry, model: str | None) -> None:
        self.providers = providers
        self.model = model

    @property
    def backend(self) -> str:
        """What ``/api/features`` names: ``provider``, or ``none``."""
        return "provider" if self.model else "none"

    async def vectors(self, texts: Sequence[str]) -> list[list[float]] | None:
        """A vector per text, or None when no embedding model is configured."""
        if not self.model or not texts:
            return None
        provider_id, _, name = self.model.partition("/")
        provider = self.providers.get(provider_id)
        if not isinstance(provider, OpenAICompatProvider):
            return None  # Anthropic's API has no embeddings endpoint
        out: list[list[float]] = []
        for start in range(0, len(texts), MAX_BATCH):
            out += await provider.embed(name, list(texts[start : start + MAX_BATCH]))
        return out


def packed(vector: Sequence[float]) -> bytes:
    return struct.pack(f"<{len(vector)}f", *vector)


def unpacked(data: bytes) -> list[float]:
    return list(struct.unpack(f"<{len(data) // 4}f", data))


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Their cosine similarity, -1 to 1; 0 when either is empty or zero, or sizes differ."""
    if len(a) != len(b) or not a:
        return 0.0
    dot = math.fsum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b))
    return dot / norms if norms else 0.0
