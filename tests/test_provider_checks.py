"""Each provider judges its model, voice, options and each turn's emotion, instruction and speed
before anything is sent: one `path:line: key: message` line each, exit 2, nothing written.
Provider settings resolve defaults ← podcastgen.yaml ← episode ← environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from podcastgen import config
from podcastgen.cli import main

from .helpers import tone

SF = "speakers:\n  alex: {provider: siliconflow, voice: alex}\n"
SCRIPT = "script:\n  - alex: Hello there.\n"

CASES = [
    ("sf-unknown-model", "speakers:\n  alex: {provider: siliconflow, voice: alex, model: x}\n"
     + SCRIPT, "ep.yaml:3: speakers.alex.model: unknown siliconflow model 'x'; models: "
     "fnlp/MOSS-TTSD-v0.5, FunAudioLLM/CosyVoice2-0.5B, IndexTeam/IndexTTS-2"),
    ("sf-unknown-voice", "speakers:\n  alex: {provider: siliconflow, voice: bob}\n" + SCRIPT,
     "ep.yaml:3: speakers.alex.voice: unknown siliconflow voice 'bob'; system voices: alex, "
     "benjamin, charles, david, anna, bella, claire, diana, or an uploaded speech: uri (see "
     "`podcastgen voices list siliconflow`)"),
    ("sf-voice-of-other-model", "speakers:\n  alex: {provider: siliconflow, voice: "
     "\"fnlp/MOSS-TTSD-v0.5:alex\"}\n" + SCRIPT, "ep.yaml:3: speakers.alex.voice: voice "
     "'fnlp/MOSS-TTSD-v0.5:alex' belongs to fnlp/MOSS-TTSD-v0.5, but this speaker uses "
     "FunAudioLLM/CosyVoice2-0.5B"),
    ("sf-unknown-option", "synthesis: {provider: siliconflow, options: {volume: 2}}\n"
     "speakers:\n  alex: {voice: alex}\n" + SCRIPT, "ep.yaml:2: synthesis.options.volume: "
     "unknown siliconflow option; expected one of: response_format, sample_rate, stream, gain, "
     "max_tokens"),
    ("sf-gain-range", "speakers:\n  alex: {provider: siliconflow, voice: alex, options: "
     "{gain: 12}}\n" + SCRIPT, "ep.yaml:3: speakers.alex.options.gain: must be between -10 and "
     "10, got 12"),
    ("sf-rate-for-format", "speakers:\n  alex: {provider: siliconflow, voice: alex, options: "
     "{response_format: mp3, sample_rate: 24000}}\n" + SCRIPT, "ep.yaml:3: "
     "speakers.alex.options.sample_rate: mp3 comes at 32000, 44100 Hz on siliconflow, got 24000"),
    ("sf-max-tokens-not-moss", "speakers:\n  alex: {provider: siliconflow, voice: alex, "
     "options: {max_tokens: 100}}\n" + SCRIPT, "ep.yaml:3: speakers.alex.options.max_tokens: "
     "max_tokens is only for fnlp/MOSS-TTSD-v0.5"),
    ("sf-emotion-on-indextts", "speakers:\n  alex: {provider: siliconflow, voice: alex, model: "
     "IndexTeam/IndexTTS-2}\nscript:\n  - alex: {text: Hi., emotion: happy}\n",
     "ep.yaml:5: script.0.alex.emotion: IndexTeam/IndexTTS-2 takes no emotion on siliconflow; "
     "remove it or use FunAudioLLM/CosyVoice2-0.5B"),
    ("openai-instruction-tts1", "speakers:\n  alex: {provider: openai, voice: nova, model: "
     "tts-1}\nscript:\n  - alex: {text: Hi., instruction: calm}\n", "ep.yaml:5: "
     "script.0.alex.instruction: tts-1 takes no instructions, so instruction cannot be "
     "honoured; remove it, or declare instructions: true for tts-1 under "
     "providers.openai.models in podcastgen.yaml if the service takes it"),
    ("openai-reference-only", "speakers:\n  alex:\n    provider: openai\n    reference: "
     "{audio: clip.wav, text: Hi.}\n" + SCRIPT, "ep.yaml:5: speakers.alex.reference: openai "
     "cannot make a voice from a reference clip; give the speaker a voice"),
    ("stepfun-speed", "speakers:\n  alex: {provider: stepfun, voice: v}\nscript:\n"
     "  - alex: {text: Hi., speed: 3}\n", "ep.yaml:5: script.0.alex.speed: stepfun speaks at "
     "speeds from 0.5 to 2, got 3"),
    ("stepfun-instruction-on-mini", "speakers:\n  alex: {provider: stepfun, voice: v}\n"
     "script:\n  - alex: {text: Hi., instruction: 温柔}\n", "ep.yaml:5: "
     "script.0.alex.instruction: step-tts-mini takes no instruction on stepfun; remove it, use "
     "emotion, or use stepaudio-2.5-tts"),
    ("stepfun-long-instruction", "speakers:\n  alex: {provider: stepfun, voice: v, model: "
     "stepaudio-2.5-tts}\nscript:\n  - alex: {text: Hi., instruction: " + "x" * 201 + "}\n",
     "ep.yaml:5: script.0.alex.instruction: stepfun instructions are at most 200 characters, "
     "got 201"),
    ("stepfun-voice-label-2.5", "speakers:\n  alex: {provider: stepfun, voice: v, model: "
     "stepaudio-2.5-tts, options: {voice_label: {language: 粤语}}}\n" + SCRIPT, "ep.yaml:3: "
     "speakers.alex.options.voice_label: voice_label is only for step-tts-mini, step-tts-2, "
     "step-tts-vivid"),
    ("stepfun-pronunciation", "speakers:\n  alex: {provider: stepfun, voice: v, options: "
     "{pronunciation_map: {tone: [阿胶]}}}\n" + SCRIPT, "ep.yaml:3: "
     "speakers.alex.options.pronunciation_map: pronunciation_map is {tone: "
     "[\"word/pronunciation\", ...]}"),
    ("coze-emotion", "speakers:\n  alex: {provider: coze, voice: \"1\"}\nscript:\n"
     "  - alex: {text: Hi., emotion: joyful}\n", "ep.yaml:5: script.0.alex.emotion: coze "
     "emotions are happy, sad, angry, surprised, fear, hate, excited, coldness, neutral; got "
     "'joyful'"),
    ("coze-model", "speakers:\n  alex: {provider: coze, voice: \"1\", model: m}\n" + SCRIPT,
     "ep.yaml:3: speakers.alex.model: unknown coze model 'm'; it has no model choice; remove "
     "model"),
    ("coze-speaker-speed", "speakers:\n  alex: {provider: coze, voice: \"1\", speed: 3.5}\n"
     + SCRIPT, "ep.yaml:3: speakers.alex.speed: coze speaks at speeds from 0.2 to 3, got 3.5"),
    ("providers-bad-entry", SF + "providers:\n  siliconflow: {timeout: 0, base_url: ftp://x}\n"
     + SCRIPT, "ep.yaml:5: providers.siliconflow.base_url: expected an http(s) URL such as "
     "https://api.siliconflow.cn/v1, got 'ftp://x'"),
    ("providers-key-in-file", SF + "providers:\n  siliconflow:\n    api_key: sk-1\n" + SCRIPT,
     "ep.yaml:6: providers.siliconflow.api_key: keys never go in files; set "
     "SILICONFLOW_API_KEY in the environment"),
    ("providers-unknown", SF + "providers:\n  acme: {}\n" + SCRIPT,
     "ep.yaml:5: providers.acme: unknown key; expected one of: local, siliconflow, openai, "
     "stepfun, coze"),
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "podcastgen.yaml").write_text("# project\n")
    tone(tmp_path / "clip.wav")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("body,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_provider_refuses_before_sending(project: Path, capsys: pytest.CaptureFixture[str],
                                         body: str, expected: str) -> None:
    (project / "ep.yaml").write_text("title: T\n" + body, encoding="utf-8")
    assert main(["build", "ep.yaml"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert expected in lines and len(lines) == len(set(lines))
    assert not (project / "build").exists()


def test_timeout_range_in_providers_block(project: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    (project / "ep.yaml").write_text("title: T\n" + SF + "providers:\n  siliconflow: "
                                     "{timeout: 0, max_retries: 2.5}\n" + SCRIPT)
    assert main(["build", "ep.yaml"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "ep.yaml:5: providers.siliconflow.max_retries: expected a whole number, got a number "
        "(2.5)", "ep.yaml:5: providers.siliconflow.timeout: must be between 1 and 3600, got 0"]


def test_project_file_errors_name_the_project_file(project: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (project / "podcastgen.yaml").write_text("providers:\n  openai:\n    concurrency: 0\n")
    (project / "ep.yaml").write_text("title: T\n" + SF + SCRIPT)
    assert main(["build", "ep.yaml"]) == 2
    assert capsys.readouterr().err == (
        "podcastgen.yaml:3: providers.openai.concurrency: must be between 1 and 64, got 0\n")


def test_settings_layer_defaults_project_episode_environment(project: Path) -> None:
    (project / "podcastgen.yaml").write_text(
        "providers:\n  siliconflow: {timeout: 30, max_retries: 2, base_url: https://file/v1}\n")
    project_layer = config.project_settings(project)
    episode_layer = {"siliconflow": {"max_retries": 4, "concurrency": 8}}
    env = {"SILICONFLOW_BASE_URL": "https://env/v1", "SILICONFLOW_API_KEY": "sk-env"}
    got = config.resolve("siliconflow", project_layer, episode_layer, env=env)
    assert (got.base_url, got.timeout, got.max_retries, got.concurrency, got.api_key) == (
        "https://env/v1", 30, 4, 8, "sk-env")
    assert "sk-env" not in repr(got)
    plain = config.resolve("coze", env={})
    assert (plain.base_url, plain.api_key, plain.max_retries) == (
        "https://api.coze.cn/v1", None, 6)


def test_draft_needs_no_key(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var, _, _ in config.ENV.values():
        monkeypatch.delenv(var, raising=False)
    (project / "ep.yaml").write_text("title: T\n" + SF + SCRIPT)
    assert main(["build", "ep.yaml", "--draft", "-q"]) == 0
    assert (project / "build" / "ep.draft.mp3").is_file()


def test_local_speakers_take_no_model_or_options(project: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    (project / "ep.yaml").write_text("title: T\nsynthesis: {model: big, options: {gain: 1}}\n"
                                     "speakers:\n  alex: {}\n" + SCRIPT)
    assert main(["build", "ep.yaml"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "ep.yaml:2: synthesis.model: the local provider has one model; remove model",
        "ep.yaml:2: synthesis.options.gain: the local provider takes no options; remove it"]
