"""The fake's ``POST /v1/embeddings``, in OpenAI's shape: deterministic vectors, so that
texts sharing words lie close together and a search by meaning can be tested.

A text's vector is its words hashed into ``dimensions`` buckets (a word's bucket and
sign come from a hash of it), normalised to length 1: the same text always gives the
same vector, and the cosine of two texts grows with the words they share.
"""

import base64
import hashlib
import math
import re
import struct
from collections.abc import Mapping
from typing import Any

DEFAULT_DIMENSIONS = 64
MAX_DIMENSIONS = 4096
MAX_INPUTS = 2048
_WORD = re.compile(r"\w+", re.UNICODE)


class EmbeddingRequestError(ValueError):
    """A request OpenAI would refuse with 400."""


def embed(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    vector = [0.0] * dimensions
    for word in _WORD.findall(text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        bucket = int.from_bytes(digest[:4], "little") % dimensions
        vector[bucket] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    return [v / norm for v in vector] if norm else vector


def answer(body: Mapping[str, Any]) -> dict[str, Any]:
    """The response body for a request body; EmbeddingRequestError when it is unusable."""
    given = body.get("input")
    inputs = [given] if isinstance(given, str) else given
    if not isinstance(inputs, list) or not inputs or len(inputs) > MAX_INPUTS:
        raise EmbeddingRequestError(f"input must be a string or 1 to {MAX_INPUTS} strings")
    if not all(isinstance(item, str) and item for item in inputs):
        raise EmbeddingRequestError("every input must be a non-empty string")
    dimensions = body.get("dimensions", DEFAULT_DIMENSIONS)
    if not isinstance(dimensions, int) or not 1 <= dimensions <= MAX_DIMENSIONS:
        raise EmbeddingRequestError(f"dimensions must be 1 to {MAX_DIMENSIONS}")
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        raise EmbeddingRequestError("encoding_format must be float or base64")
    data = []
    tokens = 0
    for index, text in enumerate(inputs):
        vector = embed(text, dimensions)
        tokens += len(_WORD.findall(text))
        shown: Any = vector
        if encoding == "base64":  # little-endian float32, as OpenAI sends (the SDK's default)
            shown = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": shown})
    return {
        "object": "list",
        "data": data,
        "model": str(body.get("model") or "fake-embed"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
