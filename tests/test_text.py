"""Splitting long turns under each provider's input limit, at sentence ends first."""

from __future__ import annotations

import pytest

from podcastgen.episode import Speaker
from podcastgen.plan import chunks_for
from podcastgen.text import split_text


def test_short_text_is_one_piece() -> None:
    assert split_text("Hello there. How are you?", 100) == ["Hello there. How are you?"]


def test_english_splits_after_sentences_and_packs_greedily() -> None:
    text = "One two three. Four five six! Seven eight nine? Ten."
    assert split_text(text, 30) == ["One two three. Four five six!", "Seven eight nine? Ten."]


def test_chinese_sentence_marks_and_closing_quotes_stay_with_their_sentence() -> None:
    text = "他说：“你好。”我们走吧！好的？"
    assert split_text(text, 8) == ["他说：“你好。”", "我们走吧！好的？"]


def test_a_sentence_too_long_falls_back_to_clauses_then_spaces_then_characters() -> None:
    assert split_text("alpha beta, gamma delta; epsilon zeta", 14) == [
        "alpha beta,", "gamma delta;", "epsilon zeta"]
    assert split_text("alpha beta gamma delta", 11) == ["alpha beta", "gamma delta"]
    assert split_text("abcdefghij", 4) == ["abcd", "efgh", "ij"]


def test_bytes_limit_counts_utf8() -> None:
    text = "这是一个句子。" * 100  # 2,100 bytes
    pieces = split_text(text, max_bytes=1024)
    assert all(len(p.encode("utf-8")) <= 1024 for p in pieces)
    assert "".join(pieces) == text and len(pieces) == 3
    assert all(p.endswith("。") for p in pieces)


def test_decimal_points_are_not_sentence_ends() -> None:
    assert split_text("Pi is 3.14 and e is 2.71. Done here.", 26) == [
        "Pi is 3.14 and e is 2.71.", "Done here."]


@pytest.mark.parametrize("provider,model,limit,measure", [
    ("openai", None, 4096, len),
    ("stepfun", None, 1000, len),
    ("coze", None, 1024, lambda s: len(s.encode("utf-8"))),
    ("siliconflow", None, 128000, len),
])
def test_each_provider_limit(provider: str, model: str | None, limit: int, measure) -> None:  # type: ignore[no-untyped-def]
    speaker = Speaker("a", "A", provider, model, "v")
    text = " ".join(f"第{i}句。Sentence {i} ends here." for i in range(limit // 10))
    pieces = chunks_for(speaker, text)
    assert max(measure(p) for p in pieces) <= limit
    assert (len(pieces) > 1) == (measure(text) > limit)
