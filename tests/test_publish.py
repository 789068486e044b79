"""Sidecar texts: exact WebVTT and SRT output, timestamps, chapters JSON, transcript."""

from __future__ import annotations

import json

import pytest

from podcastgen import publish
from podcastgen.model import Caption, Chapter, Cue

CUES = [
    Cue(0, "ann", "Ann", "Hello & welcome to <the> show.", 0.0, 2.5),
    Cue(1, "li", "李雷", "今天我们来聊一聊播客制作的整个流程，从脚本到混音，再到发布。", 2.5, 7.25),
    Cue(2, "li", "李雷", "And a second turn\n\nby the same speaker.", 7.25, 9.0),
    Cue(
        3,
        "ann",
        "Ann",
        "This is a rather long line of English text that should wrap nicely at word "
        "boundaries, right?",
        9.0004,
        3599.9996,
    ),
]

EXPECTED_VTT = """\
WEBVTT

00:00:00.000 --> 00:00:02.500
<v Ann>Hello &amp; welcome to &lt;the&gt; show.

00:00:02.500 --> 00:00:07.250
<v 李雷>今天我们来聊一聊播客制作的整个流
程，从脚本到混音，再到发布。

00:00:07.250 --> 00:00:09.000
<v 李雷>And a second turn by the same speaker.

00:00:09.000 --> 01:00:00.000
<v Ann>This is a rather long line of English text
that should wrap nicely at word
boundaries, right?
"""

EXPECTED_SRT = """\
1
00:00:00,000 --> 00:00:02,500
Ann: Hello & welcome to <the> show.

2
00:00:02,500 --> 00:00:07,250
李雷: 今天我们来聊一聊播客制作的
整个流程，从脚本到混音，再到发
布。

3
00:00:07,250 --> 00:00:09,000
And a second turn by the same speaker.

4
00:00:09,000 --> 01:00:00,000
Ann: This is a rather long line of English
text that should wrap nicely at word
boundaries, right?
"""


def test_vtt_exact_text() -> None:
    assert publish.vtt(CUES) == EXPECTED_VTT


def test_srt_exact_text() -> None:
    assert publish.srt(CUES) == EXPECTED_SRT


def test_a_turns_captions_are_its_cues() -> None:
    turn = Cue(0, "ann", "Ann", "First part. Second part.", 1.0, 5.0,
               captions=(Caption("First part.", 1.0, 3.0), Caption("Second part.", 3.0, 5.0)))
    other = Cue(1, "bo", "Bo & Co", "Reply.", 5.5, 6.5)
    assert publish.srt([turn, other]) == (
        "1\n00:00:01,000 --> 00:00:03,000\nAnn: First part.\n\n"
        "2\n00:00:03,000 --> 00:00:05,000\nSecond part.\n\n"
        "3\n00:00:05,500 --> 00:00:06,500\nBo & Co: Reply.\n")
    assert publish.vtt([turn, other]).split("\n\n")[1:] == [  # every cue names its speaker
        "00:00:01.000 --> 00:00:03.000\n<v Ann>First part.",
        "00:00:03.000 --> 00:00:05.000\n<v Ann>Second part.",
        "00:00:05.500 --> 00:00:06.500\n<v Bo &amp; Co>Reply.\n"]
    segments = json.loads(publish.transcript_json([turn, other]))["segments"]
    assert [(s["speaker"], s["startTime"], s["endTime"], s["body"]) for s in segments] == [
        ("Ann", 1.0, 3.0, "First part."), ("Ann", 3.0, 5.0, "Second part."),
        ("Bo & Co", 5.5, 6.5, "Reply.")]
    assert publish.transcript_text([turn, other]) == (
        "Ann: First part. Second part.\nBo & Co: Reply.")


def test_a_caption_line_holds_42_latin_or_16_chinese_characters() -> None:
    assert publish.wrap("x" * 43, publish.LINE_WIDTH) == ["x" * 42, "x"]
    assert publish.wrap("字" * 17, publish.LINE_WIDTH) == ["字" * 16, "字"]


def test_empty_inputs() -> None:
    assert publish.vtt([]) == "WEBVTT\n"
    assert publish.srt([]) == ""
    assert publish.transcript_text([]) == ""
    assert json.loads(publish.chapters_json([])) == {"version": "1.2.0", "chapters": []}


@pytest.mark.parametrize(
    ("seconds", "vtt", "srt"),
    [
        (0.0, "00:00:00.000", "00:00:00,000"),
        (3599.9996, "01:00:00.000", "01:00:00,000"),
        (59.9999, "00:01:00.000", "00:01:00,000"),
        (1.0004, "00:00:01.000", "00:00:01,000"),
        (1.0005, "00:00:01.001", "00:00:01,001"),  # halves round up, not to even
        (2.0015, "00:00:02.002", "00:00:02,002"),
        (-0.3, "00:00:00.000", "00:00:00,000"),
        (-0.0004, "00:00:00.000", "00:00:00,000"),
        (3723.456, "01:02:03.456", "01:02:03,456"),
        (360000.0, "100:00:00.000", "100:00:00,000"),
    ],
)
def test_timestamp_rounding(seconds: float, vtt: str, srt: str) -> None:
    assert publish.timestamp(seconds) == vtt
    assert publish.timestamp(seconds, ",") == srt


def test_timestamps_from_the_sample_timeline() -> None:
    # 1 hour at 44.1 kHz less one sample: 3599.99997... s, the nearest millisecond is the hour.
    assert publish.timestamp((3600 * 44100 - 1) / 44100) == "01:00:00.000"
    assert publish.timestamp(1103 / 44100, ",") == "00:00:00,025"


def test_cue_never_ends_before_it_starts() -> None:
    cue = Cue(0, "ann", "Ann", "Hi", 5.0, 4.9)
    assert "00:00:05.000 --> 00:00:05.000" in publish.vtt([cue])
    assert "00:00:05,000 --> 00:00:05,000" in publish.srt([cue])


def test_vtt_escapes_the_voice_name() -> None:
    cue = Cue(0, "x", "Tom & <Jerry>", "a -> b", 0.0, 1.0)
    assert publish.vtt([cue]).splitlines()[-1] == "<v Tom &amp; &lt;Jerry&gt;>a -&gt; b"


def test_a_voice_name_with_blank_lines_keeps_its_cue_whole() -> None:
    """A blank line ends a WebVTT cue: one inside the name would cut the text off."""
    cues = [Cue(0, "x", "Alex\n\nChen", "First.", 0.0, 1.0),
            Cue(1, "y", "Anna", "Second.", 1.0, 2.0)]
    blocks = publish.vtt(cues).rstrip("\n").split("\n\n")
    assert blocks[1:] == ["00:00:00.000 --> 00:00:01.000\n<v Alex Chen>First.",
                          "00:00:01.000 --> 00:00:02.000\n<v Anna>Second."]
    assert publish.transcript_text(cues).splitlines()[0] == "Alex Chen: First."


@pytest.mark.parametrize(
    ("text", "width", "lines"),
    [
        ("one two three four", 9, ["one two", "three", "four"]),
        ("exactly nine", 12, ["exactly nine"]),
        ("abcdefghijkl xy", 5, ["abcde", "fghij", "kl xy"]),
        ("中文字幕测试", 6, ["中文", "字幕", "测试"]),
        ("你好。再见！", 8, ["你好。", "再见！"]),
        ("你好。再见！", 6, ["你", "好。", "再", "见！"]),
        ("我们用 Python 来做", 11, ["我们用", "Python 来", "做"]),
        ("   ", 10, []),
    ],
)
def test_wrap(text: str, width: int, lines: list[str]) -> None:
    assert publish.wrap(text, width) == lines


def test_chapters_json_structure() -> None:
    chapters = [Chapter("Two", 61.23456), Chapter("开场", 0.0), Chapter("Three", 125.0005)]
    text = publish.chapters_json(chapters, title="Episode 3")
    assert text.endswith("}\n")
    assert '"开场"' in text  # not \u escaped
    assert text.splitlines()[1] == '  "version": "1.2.0",'
    assert json.loads(text) == {
        "version": "1.2.0",
        "title": "Episode 3",
        "chapters": [
            {"startTime": 0.0, "title": "开场"},
            {"startTime": 61.235, "title": "Two"},
            {"startTime": 125.001, "title": "Three"},
        ],
    }


def test_chapters_json_without_title() -> None:
    assert "title" not in json.loads(publish.chapters_json([Chapter("A", 0.0)]))


def test_transcript_text() -> None:
    assert publish.transcript_text(CUES) == (
        "Ann: Hello & welcome to <the> show.\n"
        "李雷: 今天我们来聊一聊播客制作的整个流程，从脚本到混音，再到发布。\n"
        "李雷: And a second turn by the same speaker.\n"
        "Ann: This is a rather long line of English text that should wrap nicely at word "
        "boundaries, right?"
    )
