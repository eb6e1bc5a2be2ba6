"""Ranking memories against a query: by their words (BM25 over the candidates the word
index found; BM25's own IDF here, as the index's is nil in a small collection), and,
with an embedding model, by meaning (cosine of their vectors), the two lists fused by
reciprocal rank; weighed by each memory's importance. Each hit keeps its score's parts."""

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from roost.store.models import Memory

_WORD = re.compile(r"\w+", re.UNICODE)
K1, B = 1.2, 0.75  # BM25's usual constants
RRF_K = 60  # reciprocal rank fusion's usual constant


@dataclass(frozen=True)
class Hit:
    memory: Memory
    score: float
    parts: dict[str, float] = field(default_factory=dict)


def words(text: str) -> list[str]:
    """The lower-cased words of a text; one-letter words say too little to search by."""
    return [w for w in _WORD.findall(text.lower()) if len(w) > 1]


def rank(query: str, candidates: Sequence[Memory], *, limit: int) -> list[Hit]:
    """The best ``limit`` candidates for the query, best first; none that shares no word."""
    wanted = list(dict.fromkeys(words(query)))
    if not wanted or not candidates:
        return []
    bags = [Counter(words(memory.content)) for memory in candidates]
    average = sum(sum(bag.values()) for bag in bags) / len(bags) or 1.0
    having = {w: sum(1 for bag in bags if w in bag) for w in wanted}
    hits = []
    for memory, bag in zip(candidates, bags, strict=True):
        length = sum(bag.values())
        keyword = 0.0
        for word in wanted:
            count = bag.get(word, 0)
            if count:
                idf = math.log(1 + (len(bags) - having[word] + 0.5) / (having[word] + 0.5))
                keyword += idf * count * (K1 + 1) / (count + K1 * (1 - B + B * length / average))
        if keyword > 0:
            importance = float(memory.importance)
            score = keyword * (0.5 + importance)
            parts = {"keyword": round(keyword, 4), "importance": round(importance, 4)}
            hits.append(Hit(memory, round(score, 4), parts))
    hits.sort(key=lambda hit: hit.memory.id, reverse=True)  # the newer first among equals
    hits.sort(key=lambda hit: hit.score, reverse=True)
    return hits[:limit]


def fuse(by_words: list[Hit], by_meaning: list[tuple[Memory, float]], *, limit: int) -> list[Hit]:
    """Both rankings in one (reciprocal rank fusion): each list gives a memory
    1 / (RRF_K + its rank); the sum, weighed by importance, is the score."""
    fused: dict[str, float] = {}
    parts: dict[str, dict[str, float]] = {}
    memories: dict[str, Memory] = {}
    for rank_number, hit in enumerate(by_words, 1):
        key = hit.memory.id
        memories[key] = hit.memory
        fused[key] = fused.get(key, 0.0) + 1 / (RRF_K + rank_number)
        parts.setdefault(key, {})["keyword"] = hit.parts.get("keyword", 0.0)
    for rank_number, (memory, similarity) in enumerate(by_meaning, 1):
        key = memory.id
        memories[key] = memory
        fused[key] = fused.get(key, 0.0) + 1 / (RRF_K + rank_number)
        parts.setdefault(key, {})["semantic"] = round(similarity, 4)
    hits = []
    for key, total in fused.items():
        importance = float(memories[key].importance)
        shown = {"keyword": 0.0, "semantic": 0.0, **parts[key], "importance": importance}
        shown["fused"] = round(total, 6)
        hits.append(Hit(memories[key], round(total * (0.5 + importance), 6), shown))
    hits.sort(key=lambda hit: hit.memory.id, reverse=True)
    hits.sort(key=lambda hit: hit.score, reverse=True)
    return hits[:limit]
