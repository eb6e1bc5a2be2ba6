"""The snippet cut around a message's first match (PostgreSQL's, see message_search)."""

from roost.store.message_search import CLOSE, OPEN, snippet


def test_a_long_message_is_cut_around_its_first_match_at_word_bounds() -> None:
    content = " ".join(f"word{n}" for n in range(100)) + " the Heron lands " + "tail " * 50
    cut = snippet(content, ["heron"])
    assert cut.startswith("…") and cut.endswith("…")
    assert f"{OPEN}Heron{CLOSE}" in cut
    assert len(cut) <= 170
    inner = cut.strip("…")
    assert not inner.startswith(" ") and not inner.endswith(" ")


def test_a_short_message_is_whole_with_every_match_marked() -> None:
    assert snippet("heron, HERON and herons", ["heron"]) == (
        f"{OPEN}heron{CLOSE}, {OPEN}HERON{CLOSE} and herons"
    )
