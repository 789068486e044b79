"""Keys: a pasted key's surrounding whitespace is dropped, a key no header can carry is refused
without being shown, and every string a provider's failure carries (message, trace id, bare
text, exception text, a URL, an event stream's error) has the key masked. A build against a
server that echoes the key in its headers and bodies leaves it in no output at all."""

from __future__ import annotations

import io
import json
import struct
import wave
from pathlib import Path
from urllib.parse import quote

import httpx
import numpy as np
import pytest

from podcastgen import http, providers
from podcastgen.cli import main
from podcastgen.emulator import Emulator
from podcastgen.errors import ProviderError
from podcastgen.providers import Job, ProviderConfig
from podcastgen.providers.base import Provider
from podcastgen.providers.openai import OpenAIProvider
from podcastgen.synth import SynthOptions, SynthStats, synthesize

from .cloud_helpers import write_clip
from .listener import Answer, Seen, listening

KEY = "sk-unit/key+part=0123456789"  # '/', '+' and '=' change when put in a URL
JOB = Job(0, (3,), "oa", "Hello there, friend.", "openai", "nova", where="ep.yaml:7",
          options=(("response_format", "pcm"),))


@pytest.fixture(autouse=True)
def instant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "sleep", lambda seconds: None)


def fail_with(handler, base_url: str = "http://unit.test/v1") -> str:  # type: ignore[no-untyped-def]
    """The one line a user would see when every request is answered by `handler`."""
    config = ProviderConfig("openai", base_url=base_url, api_key=KEY, max_retries=1)
    with pytest.raises(ProviderError) as caught:
        OpenAIProvider(config, transport=httpx.MockTransport(handler)).synthesize(JOB)
    return str(caught.value)


def test_the_message_of_an_error_body() -> None:
    said = fail_with(lambda request: httpx.Response(
        401, json={"error": {"message": f"bad key {KEY}", "type": "auth"}}))
    assert said == "ep.yaml:7: openai: bad key *** (HTTP 401, auth)"


def test_a_bare_text_error_body() -> None:
    said = fail_with(lambda request: httpx.Response(403, text=f'"Forbidden for {KEY}"'))
    assert said == "ep.yaml:7: openai: Forbidden for *** (HTTP 403)"


@pytest.mark.parametrize("header", ["x-request-id", "x-siliconcloud-trace-id", "x-tt-logid"])
def test_a_trace_id_header(header: str) -> None:
    said = fail_with(lambda request: httpx.Response(
        400, headers={header: f"req-{KEY}"}, json={"error": {"message": "no"}}))
    assert said == "ep.yaml:7: openai: no (HTTP 400) (trace id req-***)"


def test_a_trace_id_in_the_body() -> None:
    said = fail_with(lambda request: httpx.Response(
        200, json={"code": 4000, "msg": "bad", "detail": {"logid": KEY}}))
    assert said == "ep.yaml:7: openai: bad (HTTP 200, code 4000) (trace id ***)"


def test_an_exception_text() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        sent = request.headers["authorization"]
        raise httpx.LocalProtocolError(f"Illegal header value b'{sent}'")

    assert fail_with(handler) == ("ep.yaml:7: openai: the connection failed (LocalProtocolError: "
                                  "Illegal header value b'Bearer ***'); gave up after 2 attempts")


def test_a_url_in_an_exception_text() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}")

    said = fail_with(handler, base_url=f"http://unit.test/v1?token={quote(KEY, safe='')}")
    assert said == ("ep.yaml:7: openai: the connection failed (ConnectError: cannot reach "
                    "http://unit.test/v1?token=***/audio/speech); gave up after 2 attempts")


def test_an_event_stream_error() -> None:
    event = json.dumps({"type": "speech.audio.error", "error": {"message": f"{KEY} revoked"}})
    model = {"formats": ["pcm"], "sse": True}  # a relay declared to stream, as SSE needs
    config = ProviderConfig("openai", base_url="http://unit.test/v1", api_key=KEY, max_retries=0,
                            models={"gpt-4o-mini-tts": model})
    job = Job(0, (3,), "oa", "Hi.", "openai", "nova", model="gpt-4o-mini-tts", where="ep.yaml:7",
              options=(("response_format", "pcm"), ("stream_format", "sse")))
    transport = httpx.MockTransport(lambda request: httpx.Response(
        200, content=f"data: {event}\n\n".encode()))
    with pytest.raises(ProviderError) as caught:
        OpenAIProvider(config, transport=transport).synthesize(job)
    assert str(caught.value) == "ep.yaml:7: openai: the stream reported an error: *** revoked"


def test_a_providers_own_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken(Provider):
        name = "openai"

        def synthesize(self, job: Job) -> providers.Audio:
            raise ValueError(f"cannot parse {self.config.api_key!r}")

    monkeypatch.setitem(providers.REGISTRY, "openai", Broken)
    configs = {"openai": ProviderConfig("openai", api_key=KEY)}
    with pytest.raises(ProviderError) as caught:
        synthesize([JOB], SynthStats(), SynthOptions(configs=configs))
    assert str(caught.value) == ("ep.yaml:7: openai could not synthesize this turn: cannot "
                                 "parse '***'")


def test_a_servers_words_stay_one_short_line() -> None:
    said = fail_with(lambda request: httpx.Response(
        400, headers={"x-request-id": "a\x1b[2Jb"},
        json={"error": {"message": "line one\nline two\r\n\x1b[31m" + "x" * 2000}}))
    assert "\n" not in said and "\x1b" not in said and len(said) < 700
    assert said.startswith("ep.yaml:7: openai: line one line two [31mxxx")
    assert said.endswith("xxx (HTTP 400) (trace id a [2Jb)") and "x…x" in said


# ---- keys from the environment ----


@pytest.mark.parametrize("pasted", ["{key}\n", "  {key}\r\n", "\t{key} "])
def test_a_key_with_surrounding_whitespace_works(cloud: Emulator,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 pasted: str) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", pasted.format(key=cloud.keys["openai"]))
    Path("ep.yaml").write_text("title: T\nspeakers:\n  oa: {provider: openai, voice: nova}\n"
                               "script:\n  - oa: Hello.\n")
    assert main(["build", "ep.yaml", "-q"]) == 0
    assert [e.auth_ok for e in cloud.log.speech("openai")] == [True]


@pytest.mark.parametrize("bad,position", [("sk-abc\ndef-0123", 7), ("sk-abc\tdef-0123", 7),
                                          ("sk-abc\x07def", 7), ("sk-ключ-0123", 4)])
def test_a_key_no_header_can_carry_is_refused_unshown(
        cloud: Emulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        bad: str, position: int) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", bad)
    Path("ep.yaml").write_text("title: T\nspeakers:\n  oa: {provider: openai, voice: nova}\n"
                               "script:\n  - oa: Hello.\n")
    assert main(["build", "ep.yaml"]) == 2
    out, err = capsys.readouterr()
    assert err == (f"OPENAI_API_KEY: the key has a control or non-ASCII character at position "
                   f"{position} of {len(bad)}; set it again as one line of plain characters\n")
    assert "abc" not in out + err and "def" not in out + err and "0123" not in out + err
    assert len(cloud.log) == 0 and not Path("build").exists()


# ---- a server that echoes the key ----

ECHO_KEY = "sk-echo-0123456789abcdefXYZ"


def wav_holding(text: str, seconds: float = 1.2, rate: int = 24000) -> bytes:
    """A real 16-bit WAV with `text` in a LIST chunk before its samples."""
    t = np.arange(int(seconds * rate)) / rate
    samples = (np.sin(2 * np.pi * 180 * t) * 9000).astype("<i2").tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples)
    plain = buffer.getvalue()
    info = b"INFO" + b"ICMT" + struct.pack("<I", len(text) + 1) + text.encode() + b"\0"
    info += b"\0" * (len(info) % 2)
    chunk = b"LIST" + struct.pack("<I", len(info)) + info
    body = plain[12:36] + chunk + plain[36:]  # RIFF header | fmt | LIST | data
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WAVE" + body


def echoing(fail_first: int, always: bool = False):  # type: ignore[no-untyped-def]
    """Answers that echo the Authorization header everywhere a server can put it."""
    def respond(seen: Seen, count: int) -> Answer:
        auth = seen.headers.get("authorization", "")
        headers = {"x-request-id": f"req-{auth}", "x-echo": auth, "retry-after-ms": "0",
                   "content-type": "application/json"}
        if always or count < fail_first:
            body = {"error": {"message": f"overloaded, {auth} ({seen.path})", "type": auth}}
            return 503, headers, json.dumps(body).encode()
        return 200, {**headers, "content-type": "audio/wav"}, wav_holding(f"for {auth}")
    return respond


def scan(capsys: pytest.CaptureFixture[str], root: Path) -> list[str]:
    """Every place the key could have reached: stdout, stderr and every file in the project
    (outputs, report, cache, voices record)."""
    out, err = capsys.readouterr()
    found = ["stdout"] * (ECHO_KEY in out) + ["stderr"] * (ECHO_KEY in err)
    return found + [str(p.relative_to(root)) for p in sorted(root.rglob("*"))
                    if p.is_file() and ECHO_KEY.encode() in p.read_bytes()]


@pytest.fixture
def echo_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "podcastgen.yaml").write_text("")
    (tmp_path / "ep.yaml").write_text(
        "title: Echo\ndate: 2026-01-01\nspeakers:\n  oa: {provider: openai, voice: nova}\n"
        "output: {formats: [mp3, flac]}\nscript:\n  - oa: Hello there.\n  - oa: And again.\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", ECHO_KEY + "\n")  # pasted with its line break
    monkeypatch.delenv("PODCASTGEN_ALLOW_BASE_URL", raising=False)
    return tmp_path


def test_a_build_against_a_server_echoing_the_key_leaves_it_nowhere(
        echo_project: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    with listening(echoing(fail_first=2)) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        assert main(["build", "ep.yaml", "-o", "out"]) == 0
    assert set(server.authorizations()) == {f"Bearer {ECHO_KEY}"}  # stripped, and sent
    report = json.loads((echo_project / "out" / "ep.report.json").read_text())
    assert report["requests"] == {"sent": 2, "retried": 2, "cached": 0}
    assert scan(capsys, echo_project) == []


def test_a_failing_build_against_a_server_echoing_the_key_prints_it_nowhere(
        echo_project: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    Path("ep.yaml").write_text("title: Echo\nspeakers:\n  oa: {provider: openai, voice: nova}\n"
                               "script:\n  - oa: Hello there.\n")
    with listening(echoing(fail_first=0, always=True)) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        assert main(["build", "ep.yaml", "-o", "out"]) == 1
    out, err = capsys.readouterr()
    assert err.splitlines()[-1] == (
        "ep.yaml:5: openai: overloaded, Bearer *** (/v1/audio/speech) (HTTP 503, Bearer ***); "
        "gave up after 7 attempts (trace id req-Bearer ***)")
    assert ECHO_KEY not in out + err
    assert [str(p) for p in echo_project.rglob("*") if p.is_file()
            and ECHO_KEY.encode() in p.read_bytes()] == []


def voice_service(seen: Seen, count: int) -> Answer:
    """SiliconFlow's voice endpoints, echoing the key as the new voice and in the list."""
    key = seen.headers.get("authorization", "").removeprefix("Bearer ")
    if seen.path.endswith("/uploads/audio/voice"):
        return 200, {"content-type": "application/json"}, json.dumps({"uri": key}).encode()
    results = [{"uri": f"speech:x:{key}", "model": "m", "customName": key, "text": key}]
    return 200, {"content-type": "application/json"}, json.dumps({"results": results}).encode()


def test_voices_never_record_or_list_the_key(echo_project: Path,
                                             capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SILICONFLOW_API_KEY", ECHO_KEY)
    write_clip(echo_project / "host.wav")
    with listening(voice_service) as server:
        monkeypatch.setenv("SILICONFLOW_BASE_URL", server.url)
        upload = ["voices", "upload", "siliconflow", "host.wav", "--name", "h", "--text", "Hi."]
        assert main(upload) == 1
        assert capsys.readouterr().err == (
            "siliconflow: the new voice's id holds the API key; not recorded (is the base URL "
            "a service that echoes requests?)\n")
        assert main(["voices", "list", "siliconflow"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "speech:x:*** m ***: '***'"
    assert not (echo_project / ".podcastgen" / "voices.json").exists()
    assert scan(capsys, echo_project) == []
