"""Episodes built end to end against the provider emulator (real HTTP on 127.0.0.1): every
provider's request satisfies its seed schema field by field, direction is mapped to each
provider's own fields, long turns are split under each limit and rejoined, and the decoded
episode holds each turn once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podcastgen import ffmpeg
from podcastgen.emulator import Emulator

from .cloud_helpers import SCHEMAS, build

RATE = 24000
COZE_VOICE = "7426720361732915209"  # an emulated Coze voice with emotions

EPISODES = {
    "siliconflow": """\
speakers:
  alex: {provider: siliconflow, voice: alex}
  anna: {provider: siliconflow, voice: "IndexTeam/IndexTTS-2:anna",
         model: IndexTeam/IndexTTS-2, options: {response_format: mp3, sample_rate: 44100}}
script:
  - alex:
      text: Welcome back to the show.
      emotion: happy
      instruction: Speak warmly.
  - anna: {text: Glad to be here., speed: 1.2}
  - alex: Let us begin.
""",
    "openai": """\
speakers:
  alex: {provider: openai, voice: onyx}
  anna: {provider: openai, voice: nova, model: tts-1-hd, options: {response_format: mp3}}
script:
  - alex: Welcome back to the show.
  - anna: {text: Glad to be here., speed: 1.2}
  - alex: Let us begin.
""",
    "stepfun": """\
speakers:
  alex: {provider: stepfun, voice: cixingnansheng, model: stepaudio-2.5-tts}
  anna: {provider: stepfun, voice: wenrounvsheng,
         options: {stream_format: audio, volume: 1.5, pronunciation_map: {tone: ["阿胶/e1胶"]}}}
script:
  - alex:
      text: 欢迎回到节目。
      instruction: 语气温暖
  - anna: {text: 很高兴来到这里。, emotion: happy}
  - alex: 我们开始吧。
""",
    "coze": f"""\
speakers:
  alex: {{provider: coze, voice: "{COZE_VOICE}", options: {{emotion_scale: 3, loudness_rate: 10}}}}
  anna: {{provider: coze, voice: "7426720361733144585", options: {{response_format: ogg_opus}}}}
script:
  - alex: {{text: Welcome back to the show., emotion: happy}}
  - anna: Glad to be here.
  - alex: Let us begin.
""",
}

# what the first turn's request must carry: direction mapped to the provider's own fields
FIRST_TURN = {
    "siliconflow": {"model": "FunAudioLLM/CosyVoice2-0.5B", "voice":
                    "FunAudioLLM/CosyVoice2-0.5B:alex", "input": "Can you say it with a happy "
                    "emotion? Speak warmly.<|endofprompt|>Welcome back to the show.",
                    "response_format": "wav", "sample_rate": 24000, "stream": True},
    "openai": {"model": "tts-1", "voice": "onyx", "input": "Welcome back to the show.",
               "response_format": "flac"},
    "stepfun": {"model": "stepaudio-2.5-tts", "voice": "cixingnansheng", "input": "欢迎回到节目。",
                "instruction": "语气温暖", "response_format": "wav", "sample_rate": 24000,
                "stream_format": "sse"},
    "coze": {"input": "Welcome back to the show.", "voice_id": COZE_VOICE, "emotion": "happy",
             "emotion_scale": 3, "loudness_rate": 10, "response_format": "wav",
             "sample_rate": 24000},
}


def sent(cloud: Emulator, provider: str, text: str) -> dict:
    """The one request body whose input ends with `text` (requests arrive in any order)."""
    found = [e.json for e in cloud.log.speech(provider) if e.json["input"].endswith(text)]
    assert len(found) == 1, found
    return found[0]


def write_episode(body: str, name: str = "ep.yaml") -> Path:
    path = Path(name)
    path.write_text(f"title: Cloud test\noutput: {{sample_rate: {RATE}}}\n{body}",
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("provider", list(EPISODES))
def test_each_provider_builds_an_episode(cloud: Emulator, provider: str) -> None:
    write_episode(EPISODES[provider])
    assert build("ep.yaml", "-o", "out", "-q") == 0
    report = json.loads(Path("out/ep.report.json").read_text())
    # requests run side by side, so the log holds them in whatever order they arrived
    assert sorted(s["text"] for s in report["segments"]) == sorted(
        e.turn_bounds_s[0]["text"] for e in cloud.log.speech(ok=True))
    assert report["requests"] == {"sent": 3, "retried": 0, "cached": 0}
    entries = cloud.log.speech(provider)
    assert len(entries) == 3 and all(e.status == 200 and e.auth_ok for e in entries)
    for entry in entries:
        SCHEMAS[provider](entry.json)
    assert sent(cloud, provider, FIRST_TURN[provider]["input"]) == FIRST_TURN[provider]
    decoded = ffmpeg.decode(Path("out/ep.mp3"), RATE)
    assert abs(len(decoded) / RATE - report["duration_s"]) < 0.06
    spoken = sum(e.audio["duration_s"] for e in entries)
    assert report["duration_s"] > spoken  # every clip placed, plus gaps and lead-in


def test_speed_and_direction_reach_the_request(cloud: Emulator) -> None:
    write_episode(EPISODES["siliconflow"])
    assert build("ep.yaml", "-o", "out", "-q") == 0
    second = sent(cloud, "siliconflow", "Glad to be here.")
    assert second == {"model": "IndexTeam/IndexTTS-2", "voice": "IndexTeam/IndexTTS-2:anna",
                      "input": "Glad to be here.", "response_format": "mp3",
                      "sample_rate": 44100, "stream": True, "speed": 1.2}
    stepfun_episode = EPISODES["stepfun"]
    write_episode(stepfun_episode, "zh.yaml")
    assert build("zh.yaml", "-o", "out", "-q") == 0
    anna = [e.json for e in cloud.log.speech("stepfun") if "voice_label" in e.json][0]
    assert anna["voice_label"] == {"emotion": "高兴"} and anna["volume"] == 1.5
    assert anna["pronunciation_map"] == {"tone": ["阿胶/e1胶"]} and "stream_format" not in anna


LONG_EN = " ".join(f"Sentence number {i} is part of a very long turn, which goes on." for i in
                   range(90))  # about 5,700 characters
LONG_ZH = "".join(f"这是第{i}句话，它属于一段很长的发言。" for i in range(70))  # about 1,300 chars


@pytest.mark.parametrize("provider,voice,text,limit", [
    ("stepfun", "cixingnansheng", LONG_EN[:2500], ("chars", 1000)),
    ("coze", COZE_VOICE, LONG_ZH[:700], ("bytes", 1024)),
])
def test_long_turn_is_split_at_sentences_and_rejoined(cloud: Emulator, provider: str,
                                                      voice: str, text: str,
                                                      limit: tuple[str, int]) -> None:
    write_episode(f"speakers:\n  host: {{provider: {provider}, voice: \"{voice}\"}}\n"
                  f"script:\n  - host: {json.dumps(text, ensure_ascii=False)}\n"
                  f"  - host: Short one.\n")
    assert build("ep.yaml", "-o", "out", "-q") == 0
    inputs = [e.json["input"] for e in cloud.log.speech(provider)]
    assert inputs.count("Short one.") == 1
    pieces = sorted((i for i in inputs if i != "Short one."), key=text.index)
    measure = (lambda s: len(s.encode("utf-8"))) if limit[0] == "bytes" else len
    assert len(pieces) >= 2 and all(measure(p) <= limit[1] for p in pieces)
    assert all(p.endswith((".", "。")) for p in pieces[:-1])  # cut at sentence ends
    joiner = "" if provider == "coze" else " "
    assert joiner.join(pieces) == text
    report = json.loads(Path("out/ep.report.json").read_text())
    assert [s["text"] for s in report["segments"]] == [text, "Short one."]
    first = report["segments"][0]
    spoken = sum(e.audio["duration_s"] for e in cloud.log.speech(provider)
                 if e.json["input"] != "Short one.")
    # the pieces joined with short sentence pauses, each piece once
    assert spoken - 0.5 < first["end_s"] - first["start_s"] < spoken + 0.3 * len(pieces)


def test_cloned_voice_is_uploaded_once_and_reused(cloud: Emulator) -> None:
    from .cloud_helpers import write_clip

    write_clip(Path("wei.wav"))
    write_episode("speakers:\n  wei:\n    provider: siliconflow\n"
                  "    reference: {audio: wei.wav, text: This is how I sound.}\n"
                  "  li:\n    provider: stepfun\n"
                  "    reference: {audio: wei.wav, text: 这是我的声音。}\n"
                  "script:\n  - wei: Hello there.\n  - li: 你好。\n  - wei: Goodbye.\n")
    assert build("ep.yaml", "-o", "out", "-q") == 0
    endpoints = [e.endpoint for e in cloud.log if not e.speech]
    assert endpoints == ["/uploads/audio/voice", "/files", "/audio/voices"]
    upload = next(e for e in cloud.log if e.endpoint == "/uploads/audio/voice").json
    assert upload["model"] == "FunAudioLLM/CosyVoice2-0.5B" and upload["customName"] == \
        "podcastgen-wei" and upload["audio"].startswith("data:audio/mpeg;base64,")
    state = json.loads(Path(".podcastgen/voices.json").read_text())
    wei, li = sorted((r["voice"] for r in state.values()), key=lambda v: not
                     v.startswith("speech:"))
    assert {e.json["input"]: e.json["voice"] for e in cloud.log.speech()} == {
        "Hello there.": wei, "你好。": li, "Goodbye.": wei}
    assert len(cloud.log.speech()) == 3
    cloud.log.clear()
    assert build("ep.yaml", "-o", "out", "-q") == 0
    assert list(cloud.log) == []  # up to date: nothing uploaded, nothing synthesized
    assert build("ep.yaml", "-o", "out", "-q", "--no-cache", "--force") == 0
    assert [e.endpoint for e in cloud.log] == ["/audio/speech"] * 3  # voices reused


def test_transient_faults_of_every_kind_are_retried(cloud: Emulator) -> None:
    write_episode("providers: {siliconflow: {max_retries: 8}}\n"
                  "speakers:\n  alex: {provider: siliconflow, voice: alex}\n"
                  "script:\n  - alex: One.\n  - alex: Two.\n")
    kinds = ["429_retry_after_ms", "429_retry_after", "429", "503", "504", "reset",
             "truncated", "bad_audio"]
    for kind in kinds:
        cloud.fail("siliconflow", kind, match="One.")
    assert build("ep.yaml", "-o", "out", "-q") == 0
    faults = [(e.json["input"], e.fault) for e in cloud.log.speech()]
    assert [f for text, f in faults if text == "One."] == [*kinds, None]
    assert [f for text, f in faults if text == "Two."] == [None]
    assert cloud.waits[:2] == [0.02, 1.0]  # the server's retry-after-ms, then retry-after
    assert all(0.375 <= w <= 8 for w in cloud.waits[2:])  # backoff with jitter
    report = json.loads(Path("out/ep.report.json").read_text())
    assert report["requests"] == {"sent": 2, "retried": len(kinds), "cached": 0}


def test_coze_rate_limit_inside_http_200_is_retried(cloud: Emulator) -> None:
    write_episode(f'speakers:\n  alex: {{provider: coze, voice: "{COZE_VOICE}"}}\n'
                  "script:\n  - alex: One.\n")
    cloud.fail("coze", "coze_200_error", times=2)
    assert build("ep.yaml", "-o", "out", "-q") == 0
    entries = cloud.log.speech("coze")
    assert [(e.status, e.fault) for e in entries] == [
        (200, "coze_200_error"), (200, "coze_200_error"), (200, None)]
    assert entries[0].error["code"] == 4013
    report = json.loads(Path("out/ep.report.json").read_text())
    assert report["requests"] == {"sent": 1, "retried": 2, "cached": 0}
