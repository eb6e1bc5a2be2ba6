"""Ranking memories by the query's words: BM25, weighed by importance."""

from roost.services.memory_ranking import rank, words
from roost.store.models import Memory


def memory(memory_id: str, content: str, importance: float = 0.5) -> Memory:
    return Memory(id=memory_id, content=content, importance=importance, tags=[])


def test_words_are_lower_cased_and_single_letters_dropped() -> None:
    assert words("The User's Dark-Roast, a coffee!") == ["the", "user", "dark", "roast", "coffee"]


def test_the_rarer_word_and_the_shorter_memory_rank_first() -> None:
    found = rank(
        "coffee beans",
        [
            memory("mem_1", "coffee coffee coffee is drunk every morning at the office desk"),
            memory("mem_2", "coffee beans"),
            memory("mem_3", "tea leaves"),
        ],
        limit=10,
    )
    assert [hit.memory.id for hit in found] == ["mem_2", "mem_1"]  # mem_3 shares no word
    assert found[0].parts["keyword"] > found[1].parts["keyword"] > 0


def test_importance_weighs_and_ties_go_to_the_newer() -> None:
    same = "the deploy key lives in the vault"
    found = rank(
        "deploy key",
        [memory("mem_1", same), memory("mem_2", same), memory("mem_3", same, importance=1.0)],
        limit=2,
    )
    assert [hit.memory.id for hit in found] == ["mem_3", "mem_2"]
    assert abs(found[0].score - found[0].parts["keyword"] * 1.5) < 1e-3


def test_a_query_without_words_finds_nothing() -> None:
    assert rank("a ?", [memory("mem_1", "a b c")], limit=5) == []
