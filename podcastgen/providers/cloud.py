"""What every HTTP provider shares: declared options checked before sending, one pooled client,
pacing (concurrency, requests per minute), the synthesize loop with retries, and the checks on
what comes back (not empty, decodes, plausibly long for the text)."""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import re
import threading
import wave
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from .. import ffmpeg, http
from ..errors import AudioError, InputError
from .base import Audio, Job, Provider, ProviderConfig

T = TypeVar("T")
SPEAKER_TAG = re.compile(r"\[S\d\]")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
CJK_S, LATIN_S = 0.22, 0.065  # rough seconds per CJK character / per other letter or digit


@dataclass(frozen=True)
class Opt:
    """One provider option: its kind, range or choices, and the models that accept it."""

    kind: str  # number | int | bool | text | choice | mapping
    lo: float | None = None
    hi: float | None = None
    choices: tuple[Any, ...] = ()
    models: tuple[str, ...] = ()  # empty: every model

    def problem(self, value: Any) -> str | None:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if self.kind == "choice":
            return None if value in self.choices and not isinstance(value, bool) else \
                f"must be one of: {', '.join(str(c) for c in self.choices)}; got {value!r}"
        if self.kind == "bool":
            return None if isinstance(value, bool) else "expected true or false"
        if self.kind == "text":
            return None if isinstance(value, str) and value.strip() else "expected text"
        if self.kind == "mapping":
            return None if isinstance(value, dict) else "expected a mapping"
        if not number or (self.kind == "int" and not isinstance(value, int)):
            return "expected a whole number" if self.kind == "int" else "expected a number"
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            return f"must be between {self.lo:g} and {self.hi:g}, got {value:g}"
        return None


@dataclass(frozen=True)
class Request:
    """What one synthesis request sends and how its answer is read."""

    body: dict[str, Any]
    format: str  # response_format asked for
    rate: int  # the sample rate the answer is decoded at (pcm is interpreted at it)
    sse: bool = False
    path: str = "audio/speech"


class CloudProvider(Provider):
    """An HTTP provider; subclasses declare options and build each request's body."""

    options: ClassVar[dict[str, Opt]] = {}

    def __init__(self, config: ProviderConfig | None = None, *, transport: Any = None):
        super().__init__(config)
        self._transport = transport
        self._client: Any = None
        self._lock = threading.Lock()

    # --- validation (class level: no key, no network) ---

    @classmethod
    def check_speaker(cls, model: str | None, voice: str | None, reference: bool,
                      options: dict[str, Any], config: ProviderConfig | None = None
                      ) -> list[tuple[tuple[str, ...], str]]:
        problems: list[tuple[tuple[str, ...], str]] = []
        if model is not None and model not in cls.models:
            known = f"models: {', '.join(cls.models)}" if cls.models else \
                "it has no model choice; remove model"
            problems.append((("model",), f"unknown {cls.name} model {model!r}; {known}"))
            model = None
        model = model or cls.default_model
        if voice is not None and (message := cls.voice_problem(model, voice)):
            problems.append((("voice",), message))
        if voice is None and reference and not cls.can_clone:
            problems.append((("reference",), f"{cls.name} cannot make a voice from a reference "
                             "clip; give the speaker a voice"))
        for name, value in options.items():
            if (message := cls.option_problem(model, name, value)):
                problems.append((("options", name), message))
        return problems

    @classmethod
    def voice_problem(cls, model: str | None, voice: str) -> str | None:
        return None

    @classmethod
    def option_problem(cls, model: str | None, name: str, value: Any) -> str | None:
        opt = cls.options.get(name)
        if opt is None:
            return f"unknown {cls.name} option; expected one of: {', '.join(cls.options)}"
        if opt.models and model not in opt.models:
            return f"{name} is only for {', '.join(opt.models)}"
        return opt.problem(value)

    # --- sending ---

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                if not self.config.base_url:
                    raise InputError(f"{self.name} has no base URL")
                self._client = http.make_client(self.config.base_url, self.config.api_key,
                                                self.config.timeout, self._transport)
                # a provider dropped without close() still releases its connections
                weakref.finalize(self, self._client.close)
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def job_slot(self) -> Any:
        return contextlib.nullcontext()  # send() paces every request

    def pause(self, seconds: float) -> None:
        http.sleep(seconds)  # the retry waits' clock, which tests replace

    def send(self, method: str, path: str, **kwargs: Any) -> http.Reply:
        """One request, its body read whole and errors classified (inside the retry loop), at
        most `concurrency` in flight and no more than `rpm` a minute."""
        with self.pacer:
            return http.check(http.exchange(self.client, method, path, **kwargs))

    def call(self, attempt: Callable[[], T], where: str = "") -> tuple[T, int]:
        return http.call(attempt, provider=self.name, where=where,
                         max_retries=self.config.max_retries, secret=self.config.api_key)

    def call_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """A JSON endpoint (voices, uploads) with the same retries and error lines."""
        def attempt() -> Any:
            reply = self.send(method, path, **kwargs)
            try:
                return reply.json()
            except ValueError:
                raise http.Failure("the answer was not JSON", retryable=True,
                                   trace_id=reply.trace_id) from None
        return self.call(attempt)[0]

    def request(self, job: Job, model: str | None) -> Request:
        raise NotImplementedError

    def spoken(self, job: Job) -> str:
        """The part of the job's text the service says aloud: what the audio's length is
        judged against."""
        return job.text

    def synthesize(self, job: Job) -> Audio:
        request = self.request(job, job.model or self.default_model)

        def attempt() -> np.ndarray:
            reply = self.send("POST", request.path, json=request.body)
            data = reply.body
            if request.sse and not _looks_like_audio(data):
                data = http.sse_audio(data, reply.trace_id)
            samples = decode_audio(data, request.format, request.rate, reply.trace_id)
            plausible(self.spoken(job), job.speed, samples, request.rate, reply.trace_id)
            return samples

        samples, attempts = self.call(attempt, job.where)
        return Audio(samples=samples, sample_rate=request.rate, attempts=attempts)

    # --- voices ---

    def voices(self) -> dict[str, str]:
        return {}

    def clone(self, clip: Path, text: str, name: str, model: str | None) -> str:
        raise InputError(f"{self.name} cannot make voices from clips")

    def delete_voice(self, voice: str) -> None:
        raise InputError(f"{self.name} voices cannot be deleted from here")


def _looks_like_audio(data: bytes) -> bool:
    """An SSE request answered with plain audio (some relays ignore stream_format)."""
    return not data.lstrip().startswith((b"data:", b"event:", b"id:", b":", b"{"))


def decode_audio(data: bytes, fmt: str, rate: int, trace: str = "") -> np.ndarray:
    """Mono float32 at `rate`; pcm is raw s16le at `rate`. What does not decode is retried."""
    if not data:
        raise http.Failure("the response held no audio", retryable=True, trace_id=trace)
    if fmt == "pcm":
        if len(data) % 2:
            raise http.Failure("the pcm audio ends mid-sample (cut short)", retryable=True,
                               trace_id=trace)
        return (np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0)
    if fmt == "wav":
        plain = _plain_wav(data, rate)
        if plain is not None:
            return plain
    try:
        proc = ffmpeg.run(["-i", "pipe:0", "-vn", "-ac", "1", "-ar", str(rate), "-f", "f32le",
                           "-"], stdin=data, what=f"decoding the {fmt} answer")
    except AudioError as exc:
        raise http.Failure(f"the audio does not decode ({exc})", retryable=True,
                           trace_id=trace) from None
    return np.frombuffer(proc.stdout, dtype="<f4").copy()


def _plain_wav(data: bytes, rate: int) -> np.ndarray | None:
    """A 16-bit mono WAV at `rate` read directly (most answers are); None for anything else,
    which ffmpeg decodes. A streamed WAV's header may give no true length: all the data that
    came is read."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            if (w.getsampwidth(), w.getnchannels(), w.getframerate()) != (2, 1, rate):
                return None
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError):
        return None
    if not frames or len(frames) % 2:
        return None  # ffmpeg's reading decides whether this is audio at all
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0


def expected_seconds(text: str, speed: float = 1.0) -> float:
    """A rough spoken length of `text`, for catching truncated or runaway audio."""
    text = SPEAKER_TAG.sub(" ", text)
    cjk = len(CJK.findall(text))
    other = sum(1 for ch in CJK.sub("", text) if ch.isalnum())
    return (cjk * CJK_S + other * LATIN_S) / max(speed, 0.25)


def plausible(text: str, speed: float, samples: np.ndarray, rate: int,
              trace: str = "") -> None:
    """Refuse audio far too short or too long for the text it says (a retry usually fixes
    it)."""
    seconds = len(samples) / rate
    expected = expected_seconds(text, speed)
    if seconds < max(0.1, expected * 0.25):
        raise http.Failure(f"the audio is {seconds:.2f} s long, too short for "
                           f"{len(text)} characters (about {expected:.0f} s expected)",
                           retryable=True, trace_id=trace)
    if seconds > expected * 4 + 5:
        raise http.Failure(f"the audio is {seconds:.0f} s long, far too long for "
                           f"{len(text)} characters (about {expected:.0f} s expected)",
                           retryable=True, trace_id=trace)


@functools.lru_cache(maxsize=32)
def _mp3_16k(path: str, mtime_ns: int) -> str:
    proc = ffmpeg.run(["-i", path, "-vn", "-ac", "1", "-ar", "16000", "-b:a", "64k", "-f",
                       "mp3", "-"], what=f"converting {Path(path).name}")
    return base64.b64encode(proc.stdout).decode("ascii")


def clip_data_uri(path: Path, mime: str = "audio/mp3") -> str:
    """A reference clip as a 16 kHz mono MP3 data-URI (converted once per file version)."""
    return f"data:{mime};base64,{_mp3_16k(str(path), path.stat().st_mtime_ns)}"
