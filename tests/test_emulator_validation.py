"""The emulator rejects what each provider rejects, with that provider's exact error body:
SiliconFlow 400 code 20012, OpenAI invalid_request_error, StepFun request_params_invalid,
Coze code 4000 with HTTP 200."""

from __future__ import annotations

import pytest

from .emu_helpers import (  # noqa: F401
    COSY,
    COZE_SMALL,
    MOSS,
    cosy,
    coze,
    emu,
    full_openai,
    http,
    openai,
    openai_full,
    post,
    server,
    stepfun,
)

TRACE = {"siliconflow": "x-siliconcloud-trace-id", "openai": "x-request-id",
         "stepfun": "x-request-id", "coze": "x-tt-logid"}
REF = {"audio": "data:audio/mp3;base64,QUFBQQ==", "text": "[S1]Hello."}
MOSS_VOICE = {"model": MOSS, "voice": f"{MOSS}:alex"}


def sf(message: str, data: str) -> tuple[int, dict]:
    return 400, {"code": 20012, "message": message, "data": data}


SILICONFLOW = [
    ({"input": "hi"}, sf("model is required", "model")),
    (cosy(model="FunAudioLLM/CosyVoice3"), sf("Model does not exist. Please check it carefully.",
                                              "model")),
    (cosy(max_tokens=100), sf("max_tokens: unknown field (additional properties are not "
                              "allowed)", "max_tokens")),
    (cosy(""), sf("input must not be empty", "input")),
    (cosy(response_format="aac"), sf("response_format must be one of mp3, opus, wav, pcm, got "
                                     "'aac'", "response_format")),
    (cosy(sample_rate=24000), sf("sample_rate must be one of 32000, 44100, got 24000",
                                 "sample_rate")),
    (cosy(response_format="opus", sample_rate=44100),
     sf("sample_rate must be one of 48000, got 44100", "sample_rate")),
    (cosy(speed=5), sf("speed must be between 0.25 and 4, got 5", "speed")),
    (cosy(gain=-10.5), sf("gain must be between -10 and 10, got -10.5", "gain")),
    (cosy(stream="yes"), sf("stream must be a boolean", "stream")),
    (cosy(voice=f"{MOSS}:anna"), sf(
        "voice must be one of " + ", ".join(f"{COSY}:{n}" for n in (
            "alex", "benjamin", "charles", "david", "anna", "bella", "claire", "diana"))
        + f" or an uploaded speech: uri, got '{MOSS}:anna'", "voice")),
    (cosy(voice="speech:ghost:emu0account:abc"), sf(
        f"voice speech:ghost:emu0account:abc does not exist for model {COSY}", "voice")),
    (cosy(references=[REF]), sf("voice and references are mutually exclusive", "references")),
    ({**cosy(), "voice": ""}, sf("voice or references is required", "voice")),
    ({**cosy(), "voice": "", "references": [{"audio": "mp3 bytes", "text": "x"}]},
     sf("references.0.audio must be a data:audio/...;base64 URI or an http(s) URL",
        "references.0.audio")),
    ({**MOSS_VOICE, "input": "[S1]Hi.[S3]Hello."},
     sf(f"input: {MOSS} speaks [S1] and [S2] only, got [S3]", "input")),
    ({**MOSS_VOICE, "input": "[S1]Hi.", "max_tokens": 2.5},
     sf("max_tokens must be an integer, got 2.5", "max_tokens")),
    ({**MOSS_VOICE, "input": "[S1]Hi.", "max_tokens": 40000},
     sf("max_tokens must be between 1 and 32000, got 40000", "max_tokens")),
    ({**MOSS_VOICE, "input": "[S1]" + "x" * 2000, "max_tokens": 31000},
     sf("input (2004 tokens) + max_tokens (31000) exceeds 32000 tokens", "max_tokens")),
]


@pytest.mark.parametrize("body, expected", SILICONFLOW)
def test_siliconflow_rejects_with_code_20012(emu, http, body, expected):
    check(http, emu, "siliconflow", body, expected)


def oa(message: str, param: str | None, status: int = 400, code: str | None = None):
    return status, {"error": {"message": message, "type": "invalid_request_error",
                              "param": param, "code": code}}


OPENAI = [
    (openai_full(model="tts-1", instructions="calm"),
     oa("instructions is not supported with model tts-1", "instructions")),
    (openai_full(emotion="happy"),
     oa("Unrecognized request argument supplied: emotion", "emotion")),
    (openai_full(model="tts-2"), oa("The model `tts-2` does not exist or you do not have "
                                    "access to it.", "model", 404, "model_not_found")),
    (openai_full("x" * 4097), oa("input must be at most 4096 characters, got 4097", "input")),
    (openai_full(voice="bob"), oa("voice must be one of alloy, ash, ballad, coral, echo, fable, "
                                  "onyx, nova, sage, shimmer, verse, marin, cedar, got 'bob'",
                                  "voice")),
    (openai_full(model="tts-1-hd", voice="marin"),
     oa("voice marin is not available with model tts-1-hd", "voice")),
    (openai_full(model="tts-1", voice="alloy", stream_format="sse"),
     oa("stream_format sse is not supported with model tts-1", "stream_format")),
    (openai_full(speed=0.2), oa("speed must be between 0.25 and 4, got 0.2", "speed")),
    (openai_full(response_format="ogg"), oa("response_format must be one of mp3, opus, aac, "
                                            "flac, wav, pcm, got 'ogg'", "response_format")),
]


@pytest.mark.parametrize("body, expected", OPENAI)
def test_openai_rejects_with_invalid_request_error(full_openai, http, body, expected):
    check(http, full_openai, "openai", body, expected)


# a relay that serves exactly what its document lists (the emulator's default)
RELAY = [
    (openai(instructions="calm"),
     oa("Unrecognized request argument supplied: instructions", "instructions")),
    (openai(stream_format="audio"),
     oa("Unrecognized request argument supplied: stream_format", "stream_format")),
    (openai_full(), oa("The model `gpt-4o-mini-tts` does not exist or you do not have access "
                       "to it.", "model", 404, "model_not_found")),
    (openai(voice="coral"), oa("voice must be one of alloy, echo, fable, onyx, nova, shimmer, "
                               "got 'coral'", "voice")),
    (openai(response_format="wav"), oa("response_format must be one of mp3, opus, aac, flac, "
                                       "got 'wav'", "response_format")),
    (openai(response_format="pcm"), oa("response_format must be one of mp3, opus, aac, flac, "
                                       "got 'pcm'", "response_format")),
]


@pytest.mark.parametrize("body, expected", RELAY)
def test_openai_relay_is_exactly_as_strict_as_its_document(emu, http, body, expected):
    check(http, emu, "openai", body, expected)


def sfun(message: str) -> tuple[int, dict]:
    return 400, {"error": {"message": message, "type": "request_params_invalid"}}


V25 = "stepaudio-2.5-tts"
STEPFUN = [
    (stepfun("字" * 1001), sfun("input must be at most 1000 characters, got 1001")),
    (stepfun(voice_label={"language": "粤语", "emotion": "高兴"}),
     sfun("voice_label must set exactly one of language, emotion, style")),
    (stepfun(voice_label={"language": "法语"}),
     sfun("language must be one of 粤语, 四川话, 日语, got '法语'")),
    (stepfun(model=V25, voice_label={"emotion": "高兴"}),
     sfun(f"voice_label is not supported by {V25}; use instruction")),
    (stepfun(instruction="warmly"), sfun(f"instruction is only supported by {V25}")),
    (stepfun(model=V25, instruction="x" * 201),
     sfun("instruction must be at most 200 characters, got 201")),
    (stepfun(sample_rate=44100), sfun("sample_rate must be one of 8000, 16000, 22050, 24000, "
                                      "48000, got 44100")),
    (stepfun(volume=3), sfun("volume must be between 0.1 and 2, got 3")),
    (stepfun(speed=0.4), sfun("speed must be between 0.5 and 2, got 0.4")),
    (stepfun(voice="nobody"), sfun("voice nobody does not exist")),
    (stepfun(pronunciation_map={"tone": ["阿胶 e1胶"]}),
     sfun('pronunciation_map must be {"tone": ["text/reading", ...]}')),
    (stepfun(emotion="happy"), sfun("unknown parameter emotion")),
]


@pytest.mark.parametrize("body, expected", STEPFUN)
def test_stepfun_rejects_with_request_params_invalid(emu, http, body, expected):
    check(http, emu, "stepfun", body, expected)


def cz(message: str) -> tuple[int, dict]:
    return 200, {"code": 4000, "msg": message}


COZE = [
    (coze("你" * 342), cz("input must be at most 1024 bytes in UTF-8, got 1026")),
    ({"input": "你好"}, cz("voice_id is required")),
    (coze(voice_id="42"), cz("voice_id 42 does not exist")),
    (coze(emotion="happy", voice_id=COZE_SMALL),
     cz(f"voice {COZE_SMALL} does not support emotion happy (supported: none)")),
    (coze(emotion="fear"), cz("voice 7426720361732915209 does not support emotion fear "
                              "(supported: happy, sad, angry, surprised, excited, neutral)")),
    (coze(emotion="happy", emotion_scale=6), cz("emotion_scale must be between 1 and 5, got 6")),
    (coze(emotion_scale=3), cz("emotion_scale needs an emotion")),
    (coze(speed=2.5), cz("speed must be between 0.5 and 2, got 2.5")),
    (coze(speed=0.1, voice_id=COZE_SMALL), cz("speed must be between 0.2 and 3, got 0.1")),
    (coze(sample_rate=11025), cz("sample_rate must be one of 8000, 16000, 22050, 24000, 32000, "
                                 "44100, 48000, got 11025")),
    (coze(response_format="opus"), cz("response_format must be one of wav, pcm, ogg_opus, mp3, "
                                      "got 'opus'")),
    (coze(loudness_rate=150), cz("loudness_rate must be between -50 and 100, got 150")),
    (coze(context_texts="用低沉的语气"),
     cz("voice 7426720361732915209 does not support context_texts")),
]


@pytest.mark.parametrize("body, expected", COZE)
def test_coze_rejects_with_code_4000_and_http_200(emu, http, body, expected):
    status, payload = expected
    r = post(http, emu, "coze", body)
    assert r.status_code == status
    assert r.json() == {**payload, "detail": {"logid": r.headers["x-tt-logid"]}}


def check(http, emu, provider: str, body: dict, expected: tuple[int, object]) -> None:
    status, payload = expected
    r = post(http, emu, provider, body)
    assert (r.status_code, r.json()) == (status, payload)
    entry = emu.log[-1]
    assert (entry.status, entry.error, entry.audio) == (status, payload, None)
    assert r.headers[TRACE[provider]] == entry.trace_id != ""


@pytest.mark.parametrize("provider, body", [
    ("siliconflow", {"model": MOSS, "input": "[S1]Hi.[S2]Hello.", "references": [
        REF, {"audio": "https://example.org/anna.mp3", "text": "[S2]Hi."}]}),
    ("siliconflow", {"model": "IndexTeam/IndexTTS-2", "input": "Hi.",
                     "voice": "IndexTeam/IndexTTS-2:bella", "speed": 0.25, "gain": 10}),
    ("openai", openai("x" * 4096, model="tts-1-hd", voice="shimmer", speed=4,
                      response_format="flac")),
    ("stepfun", stepfun(model=V25, instruction="温柔地说", volume=0.1, sample_rate=48000,
                        pronunciation_map={"tone": ["阿胶/e1胶"]}, speed=2)),
    ("stepfun", stepfun(voice_label={"style": "慢速"}, markdown_filter=True)),
    ("coze", coze(emotion="excited", emotion_scale=5, loudness_rate=-50, sample_rate=48000)),
    ("coze", coze(context_texts="用低沉的语气", voice_id="7468512265134932019", speed=0.5)),
    ("coze", coze(speed=3, voice_id=COZE_SMALL, response_format="pcm")),
])
def test_limits_themselves_are_accepted(emu, http, provider, body):
    r = post(http, emu, provider, body)
    assert r.status_code == 200 and emu.log[-1].audio is not None, r.text
