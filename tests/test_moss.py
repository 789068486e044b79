"""MOSS-TTSD text rules: cleanup leaves nothing for the server's normalization to change."""

from __future__ import annotations

import pytest

from podcastgen import moss

CLEAN = [
    # (id, turn text as written, what is sent)
    ("hyphen-colon-bang", "It's a well-known fact: we meet at 10:30!",
     "It's a well known fact, we meet at 10 30."),
    ("questions", "Really? Yes! I think so; maybe.", "Really. Yes. I think so, maybe."),
    ("question-mid-sentence", "She asked why? and left", "She asked why, and left"),
    ("quotes-and-dash", 'He said "hello" -- and left.', "He said hello, and left."),
    ("curly-quotes", "Is it “good”?!", "Is it good."),
    ("single-quotes", "‘quoted’ text", "'quoted' text"),
    ("o-clock-and-range", "From 5~10 minutes, at 9:00.", "From 5 to 10 minutes, at 9 o'clock."),
    ("ratio-and-aside", "The score was 3:1 (a rout).", "The score was 3 to 1 (a rout)."),
    ("underscore", "snake_case and kebab-case", "snake case and kebab case"),
    ("brackets-cannot-fake-a-speaker", "[S2] injection [laughter]",
     "(S2) injection (laughter)"),
    ("ellipsis-kept", "wait... what?", "wait... what."),
    ("newline", "line one\nline two", "line one line two"),
    ("english-laugh", "Haha, that's funny.", "(laughs), that's funny."),
    ("zh-marks", "你好！我是《三体》的读者：真的吗？", "你好，我是三体的读者，真的吗。"),
    ("zh-time-range", "会议在10:30开始，持续1~2小时。", "会议在10点30分开始，持续1到2小时。"),
    ("zh-full-hour", "我们9:00见", "我们9点见"),
    ("zh-ratio", "比分是3:1", "比分是3比1"),
    ("zh-laugh", "哈哈哈，太好笑了", "(笑)，太好笑了"),
    ("zh-aside-dashes", "（笑）好吧……我同意——真的。", "(笑)好吧，我同意，真的。"),
    ("zh-inner-stops", "第一句。第二句。", "第一句，第二句。"),
    ("zh-enumeration", "苹果、香蕉、橘子", "苹果，香蕉，橘子"),
    ("zh-quotes", "他说「好」，然后走了。", "他说好，然后走了。"),
    ("only-marks", "——", ""),
]


@pytest.mark.parametrize("text,sent", [c[1:] for c in CLEAN], ids=[c[0] for c in CLEAN])
def test_clean(text: str, sent: str) -> None:
    assert moss.clean(text) == sent
    assert moss.normalize(f"[S1]{sent}") == f"[S1]{sent}"  # the server changes nothing


@pytest.mark.parametrize("text", [c[1] for c in CLEAN] + [
    "A — B ; C : D ! E ? F", "x-y_z~w", "“嗯”，《书》【注】『引』", "10:30:15 and 1:2:3",
    "ha ha HA", "哈哈。哈", "[1] and [2]", "- leading dash", "End with comma,", "结尾逗号，",
    "Mixed 中文 and English: 10:30! 好吗？", "a ... b . . c", "?!?!", "“”",
])
def test_cleaned_text_is_a_fixed_point_of_the_server_normalization(text: str) -> None:
    sent = moss.clean(text)
    assert moss.normalize(f"[S1]{sent}[S2]{sent}") == f"[S1]{sent}[S2]{sent}" or not sent
    assert moss.clean(sent) == sent


NORMALIZE = [
    # what the server does to raw text (the reason for cleanup)
    ("[S1]well-known", "[S1]wellknown"),
    ("[S1]at 10:30", "[S1]at 10,30"),
    ("[S1]Really? Yes!", "[S1]Really, Yes."),
    ("[S1]你好。[S1]我很好。[S2]嗯", "[S1]你好。我很好。[S2]嗯"),  # merged with no space
    ("[S1]Hi.[S1]There.", "[S1]Hi.There."),
    ("[1]Hello [2]Hi", "[S1]Hello[S2]Hi"),
    ("[S1]a [pause] b", "[S1]a pause b"),
    ("[S1]《书》“引”", "[S1]书引"),
    ("[S1]第一句。第二句。", "[S1]第一句，第二句。"),
    ("[S1]哈哈哈 haha", "[S1](笑) (laughs)"),
    ("[S1] spaced \n text ", "[S1]spaced   text"),
]


@pytest.mark.parametrize("raw,read", NORMALIZE)
def test_normalize_models_the_server(raw: str, read: str) -> None:
    assert moss.normalize(raw) == read


@pytest.mark.parametrize("text,chars", [
    ('He said "well-known" at 10:30!', '"-:!'),
    ("你好！《三体》、对吗？", "！《》、？"),
    ("Plain words, and a full stop.", ""),
    ("a — b —— c … d ……", "—…"),
    ("line\nbreak [x]", "\n[]"),
])
def test_stripped_names_what_the_server_would_drop(text: str, chars: str) -> None:
    assert moss.stripped(text) == chars


def test_script_joins_same_speaker_turns_with_a_space() -> None:
    parts = [(1, moss.clean("Hello.")), (1, moss.clean("How are you?")), (2, moss.clean("Fine!")),
             (1, moss.clean("你好。")), (1, moss.clean("我很好。"))]
    text = moss.script(parts)
    assert text == "[S1]Hello. How are you.[S2]Fine.[S1]你好，我很好。"
    assert moss.normalize(text) == text


@pytest.mark.parametrize("text,seconds", [
    ("a" * 140, 10.0), ("字" * 45, 10.0), ("a" * 70 + "字" * 9, 7.0), ("", 0.0)])
def test_expected_seconds(text: str, seconds: float) -> None:
    assert moss.expected_seconds(text) == pytest.approx(seconds)
    assert moss.expected_seconds(text, speed=2.0) == pytest.approx(seconds / 2)


@pytest.mark.parametrize("seconds,tokens", [(0, 2048), (60, 1536 + 512), (180, 3584),
                                            (600, 11520)])
def test_max_tokens_covers_the_audio_with_headroom(seconds: float, tokens: int) -> None:
    assert moss.max_tokens(seconds) == tokens
    assert tokens >= seconds * moss.TOKENS_PER_SECOND * 1.5
    assert tokens + 3000 < moss.TOKEN_LIMIT  # room for the script and two reference clips


def test_chunks_split_long_turns_at_sentence_ends() -> None:
    sentence = "This sentence takes about three seconds to say aloud. "  # 55 chars, ~3.9 s
    text = sentence * 10
    pieces = moss.chunks(text, 12.0)
    assert all(moss.expected_seconds(p) <= 12.0 for p in pieces)
    assert " ".join(pieces) == moss.clean(text)
    assert [p.count("aloud.") for p in pieces] == [3, 3, 3, 1]
    assert moss.chunks("Short.", 12.0) == ["Short."]


def test_chunks_fall_back_to_commas_then_words() -> None:
    clause = "and then another clause follows, "
    pieces = moss.chunks(clause * 20, 8.0)
    assert all(moss.expected_seconds(p) <= 8.0 for p in pieces) and len(pieces) > 4
    words = moss.chunks("word " * 100, 5.0)
    assert all(moss.expected_seconds(p) <= 5.0 for p in words)
    assert " ".join(words) == moss.clean("word " * 100)
    zh = moss.chunks("第一句话很短。" * 30, 10.0)
    assert all(moss.expected_seconds(p) <= 10.0 for p in zh) and len(zh) == 5
