"""OpenAI's speech endpoint, or any service that speaks its protocol (set OPENAI_BASE_URL).

By default every request stays within what the OpenAI-compatible relay documents: model tts-1
or tts-1-hd, voices alloy, echo, fable, onyx, nova and shimmer, formats mp3, opus, aac and flac,
speed 0.25–4, and nothing else. Another model, and anything more a model takes (other voices,
wav or pcm, `instructions`, SSE), is sent only once `providers.openai.models` (podcastgen.yaml
or the episode) declares it. Voices are checked wherever the model's voices are known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from .base import Job, ProviderConfig
from .cloud import CloudProvider, Opt, Request

DOCUMENTED_MODELS = ("tts-1", "tts-1-hd")
DOCUMENTED_VOICES = ("alloy", "echo", "fable", "onyx", "nova", "shimmer")
DOCUMENTED_FORMATS = ("mp3", "opus", "aac", "flac")
FORMATS = (*DOCUMENTED_FORMATS, "wav", "pcm")  # pcm is raw 24 kHz s16le
MODEL_KEYS = ("voices", "formats", "instructions", "sse")
RATE = 24000  # every OpenAI format is 24 kHz (a relay's other rates are resampled on decoding)


@dataclass(frozen=True)
class Model:
    """What one model takes."""

    name: str
    voices: tuple[str, ...] | None  # None: not known here, so not checked
    formats: tuple[str, ...] = DOCUMENTED_FORMATS
    instructions: bool = False  # takes `instructions`: emotion and instruction are honoured
    sse: bool = False  # takes stream_format: sse

    def response_format(self, options: Mapping[str, Any]) -> str:
        """The format asked for: the speaker's option, else a lossless one the model takes —
        wav (read without an ffmpeg process) where declared, flac (every documented model
        takes it) — else its first format."""
        lossless = [f for f in ("wav", "flac") if f in self.formats]
        return options.get("response_format") or (lossless or self.formats)[0]


def model_of(name: str | None, config: ProviderConfig | None) -> Model | None:
    """`name` (default tts-1) as the service offers it: as documented, or as the provider
    config declares it (a declaration of a documented model extends it); None when neither."""
    name = name or DOCUMENTED_MODELS[0]
    declared = (config.models if config else {}).get(name)
    known = DOCUMENTED_VOICES if name in DOCUMENTED_MODELS else None
    if declared is None:
        return Model(name, known) if known else None
    voices = declared.get("voices")
    return Model(name, tuple(voices) if voices is not None else known,
                 tuple(declared.get("formats") or DOCUMENTED_FORMATS),
                 bool(declared.get("instructions")), bool(declared.get("sse")))


def _listed(ck: Any, key: tuple[Any, ...], value: Any) -> tuple[str, ...] | None:
    """A model's `voices` (any names) or `formats` (FORMATS), at least one."""
    items = ck.text_list(key, value)
    if items is not None and not items:
        ck.fail(key, "list at least one, or leave it out")
    if not items or (key[-1] == "formats" and None in [
            ck.choice(key + (i,), f, FORMATS) for i, f in enumerate(items)]):
        return None
    return tuple(items)


def _declare(model: str, what: str) -> str:
    return (f"declare {what} for {model} under providers.openai.models in podcastgen.yaml if "
            "the service takes it")


class OpenAIProvider(CloudProvider):
    name = "openai"
    default_model = DOCUMENTED_MODELS[0]
    models = DOCUMENTED_MODELS
    turn_fields = frozenset({"speed", "emotion", "instruction"})
    max_chars = 4096
    config_keys = ("models",)
    options: ClassVar[dict[str, Opt]] = {
        "response_format": Opt("choice", choices=FORMATS),
        "stream_format": Opt("choice", choices=("audio", "sse")),
        "instructions": Opt("text"),
    }

    # --- validation ---

    @classmethod
    def check_config(cls, ck: Any, key: tuple[Any, ...], name: str, value: Any) -> Any:
        """`models: {name: {voices, formats, instructions, sse}}`: what each model takes."""
        found: dict[str, dict[str, Any]] = {}
        for model, spec in (ck.mapping(key, value, value if isinstance(value, dict) else ())
                            or {}).items():
            where = key + (model,)
            spec = ck.mapping(where, {} if spec is None else spec, MODEL_KEYS) or {}
            found[str(model)] = entry = {}
            for flag in ("instructions", "sse"):
                if flag in spec and ck.boolean(where + (flag,), spec[flag]) is not None:
                    entry[flag] = spec[flag]
            for field in ("voices", "formats"):
                if field in spec and (items := _listed(ck, where + (field,), spec[field])):
                    entry[field] = items
        return found

    @classmethod
    def check_speaker(cls, model: str | None, voice: str | None, reference: bool,
                      options: dict[str, Any], config: ProviderConfig | None = None
                      ) -> list[tuple[tuple[str, ...], str]]:
        spec = model_of(model, config)
        if spec is None:
            return [(("model",), f"the relay documents models {' and '.join(DOCUMENTED_MODELS)}; "
                     f"if the service offers {model}, declare it and what it takes under "
                     f"providers.openai.models in podcastgen.yaml (e.g. {model}: "
                     "{instructions: true, voices: [...]})")]
        problems: list[tuple[tuple[str, ...], str]] = []
        if voice is not None and spec.voices is not None and voice not in spec.voices:
            problems.append((("voice",), f"{spec.name} voices are {', '.join(spec.voices)}; got "
                             f"{voice!r} ({_declare(spec.name, 'its voices')})"))
        if voice is None and reference:
            problems.append((("reference",), "openai cannot make a voice from a reference "
                             "clip; give the speaker a voice"))
        for name, value in options.items():
            if (message := cls._option_problem(spec, name, value)):
                problems.append((("options", name), message))
        return problems

    @classmethod
    def _option_problem(cls, spec: Model, name: str, value: Any) -> str | None:
        """An option's own check, then whether this model takes it (stream_format and
        instructions are not in the relay's document, so only declared models take them)."""
        if (problem := cls.option_problem(spec.name, name, value)):
            return problem
        if name == "response_format" and value not in spec.formats:
            return (f"{spec.name} takes {', '.join(spec.formats)}; got {value!r} "
                    f"({_declare(spec.name, 'its formats')})")
        if name == "stream_format" and not spec.sse:
            return f"{spec.name} does not stream SSE; {_declare(spec.name, 'sse: true')}"
        if name == "instructions" and not spec.instructions:
            return f"{spec.name} takes no instructions; {_declare(spec.name, 'instructions: true')}"
        return None

    @classmethod
    def check_turn(cls, model: str | None, fields: dict[str, Any],
                   config: ProviderConfig | None = None) -> list[tuple[str, str]]:
        problems = super().check_turn(model, fields)
        spec = model_of(model, config)
        for f in ("emotion", "instruction"):
            if f in fields and spec is not None and not spec.instructions:
                problems.append((f, f"{spec.name} takes no instructions, so {f} cannot be "
                                 f"honoured; remove it, or "
                                 f"{_declare(spec.name, 'instructions: true')}"))
        return problems

    # --- sending ---

    def resolved(self, job: Job) -> Model:
        """The model this job asks for, as documented or declared (one neither documented nor
        declared, which validation refuses, is sent as named, taking nothing more)."""
        return model_of(job.model, self.config) or Model(job.model or self.default_model, None)

    def wire(self, job: Job) -> str:
        """The model and format it resolves to shape the audio, not only what the job says."""
        spec = self.resolved(job)
        return f"{spec.name} {spec.response_format(dict(job.options))}"

    def request(self, job: Job, model: str | None) -> Request:
        spec = self.resolved(job)
        opts = dict(job.options)
        fmt = spec.response_format(opts)
        body: dict[str, Any] = {"model": spec.name, "input": job.text, "voice": job.voice,
                                "response_format": fmt}
        if job.speed != 1.0:
            body["speed"] = job.speed
        instructions = " ".join(p for p in (
            opts.get("instructions"), f"Sound {job.emotion}." if job.emotion else None,
            job.instruction) if p)
        if instructions and spec.instructions:
            body["instructions"] = instructions
        sse = spec.sse and opts.get("stream_format") == "sse"
        if sse:
            body["stream_format"] = "sse"
        return Request(body, fmt, RATE, sse=sse)

    def voices(self) -> dict[str, str]:
        return {v: "documented by the relay for tts-1 and tts-1-hd" for v in DOCUMENTED_VOICES}
