"""The episode format (see the README): validated from a Document into frozen records.

`validate()` walks the whole document once and collects every problem before raising, so a
producer fixes a script in one pass. The only I/O is reading the files an episode names, to
judge what they hold (media.py), so a wrong file stops the build before anything is sent.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import media, moss
from .errors import ValidationError
from .model import Meta
from .providers import KNOWN, REGISTRY
from .providers.local import VOICES as LOCAL_VOICES, unspeakable
from .publish import clock
from .config import Settings, check_settings, resolve_all
from .schema import Checker, describe
from .settings import GAIN_DB, Feed, Output, Production, feed as _feed, file_and_fields
from .settings import number_field, output as _output, production as _production
from .source import Document, KeyPath

SPEAKER_ID = re.compile(r"[a-z][a-z0-9_-]*\Z")
DIRECTIVES = ("chapter", "pause", "sound")
TOP_KEYS = ("title", "show", "number", "season", "date", "language", "authors", "description",
            "cover", "explicit", "category", "website", "speakers", "synthesis", "production",
            "output", "script", "providers", "feed")
SPEAKER_KEYS = ("name", "voice", "provider", "model", "speed", "reference", "options")
TURN_KEYS = ("text", "emotion", "instruction", "speed")
SYNTHESIS_KEYS = ("provider", "model", "mode", "speed", "options", "block_seconds")
REFERENCE_KEYS = ("audio", "text")
SOUND_KEYS = ("file", "gain")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
URL = re.compile(r"https?://\S+\Z")
# One turn is refused past MAX_TURN_CHARS (some twelve minutes of English, forty of Chinese:
# no voice holds one take that long) and `check` warns from TURN_WARN_CHARS; a whole script
# may plan at most MAX_EPISODE_S of audio.
MAX_TURN_CHARS = 10_000
TURN_WARN_CHARS = 2_000
MAX_EPISODE_S = 12 * 3600


@dataclass(frozen=True)
class Reference:
    audio: Path | str  # a file in the project, or an http(s) URL (siliconflow fetches it)
    text: str


@dataclass(frozen=True)
class Speaker:
    id: str
    name: str
    provider: str
    model: str | None
    voice: str | None
    speed: float = 1.0
    reference: Reference | None = None
    options: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Synthesis:
    provider: str = "local"
    model: str | None = None
    mode: str = "turns"
    speed: float = 1.0
    options: tuple[tuple[str, Any], ...] = ()
    block_seconds: float = 180.0  # dialogue mode: expected audio per request, at most


@dataclass(frozen=True)
class Turn:
    speaker: str
    text: str
    where: str
    emotion: str | None = None
    instruction: str | None = None
    speed: float | None = None


@dataclass(frozen=True)
class ChapterMark:
    title: str
    where: str


@dataclass(frozen=True)
class Pause:
    seconds: float
    where: str


@dataclass(frozen=True)
class Sound:
    path: Path
    where: str
    gain: float = 0.0  # dB on top of the levelling every sound gets


Item = Turn | ChapterMark | Pause | Sound


@dataclass(frozen=True)
class Episode:
    source: Path
    stem: str
    meta: Meta
    speakers: dict[str, Speaker]
    synthesis: Synthesis
    production: Production
    output: Output
    script: tuple[Item, ...]
    warnings: tuple[str, ...] = field(default=())
    feed: Feed = field(default=Feed())
    draft: bool = False  # --draft: local stand-in voices; its files are named and reported apart
    # the `providers:` settings written in the episode, and (after load) the resolved configs;
    # neither shapes the audio, so neither is part of the build hash
    providers: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)
    configs: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def stem_of(path: Path) -> str:
    name = path.name
    for suffix in (".yaml.j2", ".yml.j2", ".yaml", ".yml"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def validate(doc: Document, root: Path, *, draft: bool = False, allow_outside: bool = False,
             project: Settings | None = None) -> Episode:
    """Check the whole episode; raise ValidationError listing every problem at once.
    `project` is podcastgen.yaml's `providers:`, which may declare what a service offers."""
    ck = Checker(doc, root, allow_outside)
    ck.draft = draft
    data = ck.mapping((), doc.data, TOP_KEYS, required=("title", "speakers", "script")) or {}
    _not_empty(ck, data)
    meta = _meta(ck, data)
    settings = check_settings(ck, ("providers",), data["providers"]) \
        if "providers" in data else {}
    ck.configs = resolve_all(KNOWN, project or {}, settings, env={})
    synthesis = _synthesis(ck, data.get("synthesis", {}))
    ck.dialogue = synthesis.mode == "dialogue"
    speakers = _speakers(ck, data.get("speakers"), synthesis)
    if draft:
        speakers = draft_voices(speakers)
        synthesis = replace(synthesis, mode="turns")  # local voices speak turn by turn
    production = _production(ck, data.get("production", {}))
    output = _output(ck, data.get("output", {}))
    raw = data.get("speakers")
    ck.declared = set(raw) if isinstance(raw, dict) and raw else None
    script = _script(ck, data.get("script"), speakers)
    _planned_length(ck, script, speakers, production)
    feed = _feed(ck, data.get("feed", {}))
    if ck.problems:
        raise ValidationError(ck.problems, tuple(str(w) for w in ck.warnings))
    if not meta.authors:
        meta = replace(meta, authors=tuple(s.name for s in speakers.values()))
    return Episode(source=doc.where[()].file, stem=stem_of(doc.where[()].file), meta=meta,
                   speakers=speakers, synthesis=synthesis, production=production,
                   output=output, script=script, warnings=tuple(str(w) for w in ck.warnings),
                   feed=feed, draft=draft, providers=settings)


EMPTY = {"speakers": "declare at least one, e.g. `alex: {name: Alex}`",
         "script": "add at least one turn, e.g. `- alex: Hello`"}


def _not_empty(ck: Checker, data: dict[str, Any]) -> None:
    """`speakers:` or `script:` written with nothing under it is not a show with no one in it:
    it is a mistake that would otherwise surface only as silence at mastering."""
    for name, hint in EMPTY.items():
        if name in data and data[name] in (None, [], {}):
            ck.fail((name,), f"is empty; {hint}")


def _meta(ck: Checker, data: dict[str, Any]) -> Meta:
    def opt(name: str, check: Any, *args: Any) -> Any:
        return check((name,), data[name], *args) if name in data else None

    title = opt("title", ck.text) or ""
    date = opt("date", ck.text)
    if date and not DATE.match(date):
        ck.fail(("date",), f"expected a date as YYYY-MM-DD, got {date!r}")
    elif date and not _on_calendar(date):
        ck.fail(("date",), f"{date} is not a day on the calendar")
    return Meta(
        title=title,
        show=opt("show", ck.text) or title,
        number=opt("number", ck.number, 0, 100000, True),
        season=opt("season", ck.number, 0, 10000, True),
        date=date,
        language=opt("language", ck.text) or "en",
        authors=tuple(opt("authors", ck.text_list) or ()),
        description=(opt("description", ck.text) or "").strip(),
        cover=opt("cover", ck.path, "image"),
        explicit=bool(opt("explicit", ck.boolean)),
        category=opt("category", ck.text),
        website=opt("website", ck.text),
    )


def _on_calendar(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _options(ck: Checker, key: KeyPath, value: Any) -> tuple[tuple[str, Any], ...]:
    if not isinstance(value, dict):
        ck.fail(key, f"expected a mapping of provider options, got {describe(value)}")
        return ()
    return tuple(sorted(value.items()))


def _synthesis(ck: Checker, value: Any) -> Synthesis:
    key: KeyPath = ("synthesis",)
    data = ck.mapping(key, value, SYNTHESIS_KEYS) or {}
    mode = ck.choice(key + ("mode",), data.get("mode", "turns"), ("turns", "dialogue"))
    dialogue = mode == "dialogue"
    provider = ck.choice(key + ("provider",), data.get(
        "provider", "siliconflow" if dialogue else "local"), KNOWN) or "local"
    model = data.get("model")
    if model is not None:
        model = ck.text(key + ("model",), model)
    elif dialogue and provider == "siliconflow":
        model = moss.MODEL
    speed = ck.number(key + ("speed",), data.get("speed", 1.0), 0.25, 4.0)
    options = _options(ck, key + ("options",), data.get("options", {}))
    block = ck.number(key + ("block_seconds",), data.get("block_seconds", 180.0), 20.0, 600.0)
    if dialogue:
        _dialogue_model(ck, key, provider, model)
    return Synthesis(provider, model, mode or "turns", speed or 1.0, options,
                     float(block or 180.0))


def _speakers(ck: Checker, value: Any, synthesis: Synthesis) -> dict[str, Speaker]:
    key: KeyPath = ("speakers",)
    if value is None or value == {}:
        return {}  # missing or empty: already reported
    if not isinstance(value, dict):
        ck.fail(key, f"expected a mapping of speaker ids to speakers, got {describe(value)}")
        return {}
    speakers: dict[str, Speaker] = {}
    for sid, body in value.items():
        if not SPEAKER_ID.match(sid) or sid in DIRECTIVES:
            ck.fail(key + (sid,), "speaker ids are lower-case names like 'alex' or 'host-2' "
                    "(letters, digits, - and _) and may not be chapter, pause or sound")
            continue
        speaker = _speaker(ck, key + (sid,), sid, body, synthesis)
        if speaker:
            speakers[sid] = speaker
    return _assign_local_voices(speakers)


def _speaker(ck: Checker, key: KeyPath, sid: str, body: Any,
             synthesis: Synthesis) -> Speaker | None:
    data = ck.mapping(key, body, SPEAKER_KEYS)
    if data is None:
        return None
    provider = ck.choice(key + ("provider",), data.get("provider", synthesis.provider), KNOWN)
    inherit = provider == synthesis.provider  # synthesis.model/options are that provider's
    name = ck.text(key + ("name",), data.get("name", sid.replace("-", " ").title()))
    if name and len(name.splitlines()) > 1:
        ck.fail(key + ("name",), "a name is one line; remove the line break")
        name = None
    speed = ck.number(key + ("speed",), data.get("speed", synthesis.speed), 0.25, 4.0)
    voice = ck.text(key + ("voice",), data["voice"]) if "voice" in data else None
    model = ck.text(key + ("model",), data["model"]) if "model" in data else \
        synthesis.model if inherit else None
    reference = _reference(ck, key + ("reference",), data["reference"]) \
        if "reference" in data else None
    options = dict(synthesis.options) if inherit else {}
    if "options" in data:
        options.update(_options(ck, key + ("options",), data["options"]))
    if provider == "local" and voice is not None and voice not in LOCAL_VOICES:
        ck.fail(key + ("voice",), f"unknown local voice {voice!r}; local voices: "
                f"{', '.join(LOCAL_VOICES)} (see `podcastgen voices local`)")
    if synthesis.mode == "dialogue":
        _dialogue_speaker(ck, key, data, synthesis, reference)
    elif provider not in (None, "local") and voice is None and "reference" not in data:
        ck.fail(key, f"speakers on {provider} need a voice or a reference clip")
    speaker = Speaker(sid, name or sid, provider or "local", model, voice, speed or 1.0,
                      reference, tuple(sorted(options.items())))
    if synthesis.mode != "dialogue":
        _provider_checks(ck, key, speaker, data)
    elif speaker.provider == "siliconflow":  # voices come from the references in a block
        _provider_checks(ck, key, replace(speaker, voice=None), data)
    return speaker


def _provider_checks(ck: Checker, key: KeyPath, speaker: Speaker, own: dict[str, Any]) -> None:
    """The speaker's provider judges its model, voice, options and speed, before any request;
    a problem inherited from `synthesis:` is reported where it was written."""
    provider = REGISTRY.get(speaker.provider)
    if provider is None:
        return
    found = provider.check_speaker(speaker.model, speaker.voice, speaker.reference is not None,
                                   dict(speaker.options), ck.configs.get(speaker.provider))
    if speaker.reference and isinstance(speaker.reference.audio, str) \
            and not provider.reference_urls and speaker.provider != "local":
        found.append((("reference", "audio"), f"{speaker.provider} cannot take a reference "
                      "clip by URL (siliconflow can); give a file in the project"))
    speed = provider.speed_problem(speaker.speed)
    if speed:
        found.append((("speed",), speed))
    own_options = own.get("options") if isinstance(own.get("options"), dict) else {}
    for sub, message in found:
        inherited = sub[-1] not in own_options if sub[0] == "options" else sub[0] not in own
        where = ("synthesis", *sub) if inherited and sub[0] in ("options", "model", "speed") \
            else key + sub
        ck.fail(where, message)


def _reference(ck: Checker, key: KeyPath, value: Any) -> Reference | None:
    data = ck.mapping(key, value, REFERENCE_KEYS, required=REFERENCE_KEYS)
    if not data or "audio" not in data or "text" not in data:
        return None
    url = data["audio"].strip() if isinstance(data["audio"], str) else ""
    audio = url if URL.match(url) else ck.path(key + ("audio",), data["audio"], "audio")
    text = ck.text(key + ("text",), data["text"])
    return Reference(audio, text) if audio and text else None


def _assign_local_voices(speakers: dict[str, Speaker]) -> dict[str, Speaker]:
    """Local speakers without a voice get the unused local voices in declaration order."""
    taken = {s.voice for s in speakers.values() if s.provider == "local"}
    free = [v for v in LOCAL_VOICES if v not in taken]
    out = {}
    for sid, s in speakers.items():
        if s.provider == "local" and s.voice is None:
            s = replace(s, voice=free.pop(0) if free else "joe")
        out[sid] = s
    return out


def draft_voices(speakers: dict[str, Speaker]) -> dict[str, Speaker]:
    """--draft: every speaker on the local engine, each with a distinct local voice."""
    keep: set[str] = set()
    out = {}
    for sid, s in speakers.items():
        voice = s.voice if s.provider == "local" and s.voice not in keep else None
        if voice:
            keep.add(voice)
        out[sid] = replace(s, provider="local", model=None, voice=voice, options=())
    return _assign_local_voices(out)


def _script(ck: Checker, value: Any, speakers: dict[str, Speaker]) -> tuple[Item, ...]:
    key: KeyPath = ("script",)
    if value is None or value == []:
        return ()  # missing or empty: already reported
    if not isinstance(value, list):
        ck.fail(key, f"expected a list of turns and directives, got {describe(value)}")
        return ()
    if ck.declared is None:
        return ()  # speakers are unusable and already reported: checking turns would only echo
    items = [_item(ck, key + (i,), v, speakers) for i, v in enumerate(value)]
    if not any(isinstance(i, Turn) for i in items) and not ck.problems:
        ck.fail(key, "the script has no turns; add at least one line like `- alex: Hello`")
    return tuple(i for i in items if i is not None)


def _item(ck: Checker, key: KeyPath, value: Any, speakers: dict[str, Speaker]) -> Item | None:
    if not isinstance(value, dict) or len(value) != 1:
        got = f"{len(value)} keys: {', '.join(value)}" if isinstance(value, dict) \
            else describe(value)
        ck.fail(key, "a script item has exactly one key (a speaker id, chapter, pause or "
                f"sound), got {got}")
        return None
    (name, body), where = next(iter(value.items())), ck.where(key + (next(iter(value)),))
    sub = key + (name,)
    if name == "chapter":
        title = ck.text(sub, body)
        return ChapterMark(title, where) if title else None
    if name == "pause":
        seconds = ck.number(sub, body, 0.01, 60.0)
        return Pause(float(seconds), where) if seconds is not None else None
    if name == "sound":
        return _sound(ck, sub, body, where)
    if name not in speakers and name in ck.declared:
        return None  # the speaker itself is invalid and already reported
    if name not in speakers:
        ck.fail(sub, f"unknown speaker or directive {name!r}; {_known(name, speakers)}")
        return None
    return _turn(ck, sub, name, body, speakers[name], where)


def _sound(ck: Checker, key: KeyPath, body: Any, where: str) -> Sound | None:
    """`- sound: file` or `- sound: {file: x.wav, gain: -3}`, checked like an intro."""
    path, data = file_and_fields(ck, key, body, SOUND_KEYS)
    gain = number_field(ck, key, data, "gain", 0.0, *GAIN_DB)
    return Sound(path, where, gain) if path else None


def _known(name: str, speakers: dict[str, Speaker]) -> str:
    close = difflib.get_close_matches(name, [*speakers, *DIRECTIVES], n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    known = ", ".join(speakers) or "none declared"
    return f"speakers: {known}; directives: {', '.join(DIRECTIVES)}"


def _turn(ck: Checker, key: KeyPath, sid: str, body: Any, speaker: Speaker,
          where: str) -> Turn | None:
    if isinstance(body, dict):
        data = ck.mapping(key, body, TURN_KEYS, required=("text",))
        if data is None or "text" not in data:
            return None
        fields = {f: data[f] for f in ("emotion", "instruction") if f in data}
        for f, v in fields.items():
            ck.text(key + (f,), v)
        speed = ck.number(key + ("speed",), data["speed"], 0.25, 4.0) if "speed" in data else None
        text = ck.text(key + ("text",), data["text"])
        used = {f: data[f] for f in TURN_KEYS[1:] if f in data and data[f] is not None}
        if speed is None:
            used.pop("speed", None)  # already reported by the range check
        _supported(ck, key, speaker, used)
    else:
        fields, speed, text = {}, None, ck.text(key, body)
    if text is None or not _turn_length(ck, key, text):
        return None
    if ck.dialogue and not moss.clean(text):
        ck.fail(key, "nothing is left for MOSS-TTSD to speak once its unspoken marks are "
                "removed; write the words out")
    if speaker.provider == "local" and unspeakable(text):
        ck.warn(key, f"the local voices (English and Mandarin) cannot speak "
                f"{unspeakable(text)[:12]!r}; those characters are left out (use a cloud "
                "provider for this text)")
    return Turn(sid, text.strip(), where, fields.get("emotion"), fields.get("instruction"), speed)


def _turn_length(ck: Checker, key: KeyPath, text: str) -> bool:
    """A turn's text under the hard limit (False, reported, when over it); a warning when it
    is long enough to be hard to voice, edit and listen to."""
    size = len(text.strip())
    if size > MAX_TURN_CHARS:
        ck.fail(key, f"turn is {size:,} characters; a turn may have at most {MAX_TURN_CHARS:,} "
                "(split it into several turns)")
        return False
    if size > TURN_WARN_CHARS:
        ck.warn(key, f"turn is {size:,} characters (about {clock(moss.expected_seconds(text))} "
                f"of speech); consider splitting it (turns are refused from "
                f"{MAX_TURN_CHARS:,})")
    return True


def _planned_length(ck: Checker, script: tuple[Item, ...], speakers: dict[str, Speaker],
                    production: Production) -> None:
    """Refuse a script planning more audio than any episode runs (a runaway template loop, or
    text pasted in by mistake), before a single request is paid for."""
    seconds = planned_seconds(script, speakers, production)
    if seconds > MAX_EPISODE_S:
        ck.fail(("script",), f"the script plans about {clock(seconds)} of audio; an episode "
                f"may run at most {MAX_EPISODE_S // 3600} hours (split it into episodes)")


def planned_seconds(script: Sequence[Item], speakers: dict[str, Speaker],
                    production: Production) -> float:
    """The expected length of an episode: its turns' speech, the gaps between them, its pauses,
    and its sounds, intro and outro as long as their files play (overlaps not subtracted)."""
    turns = [i for i in script if isinstance(i, Turn)]
    speech = sum(moss.expected_seconds(t.text, t.speed or speakers[t.speaker].speed)
                 for t in turns)
    pauses = sum(i.seconds for i in script if isinstance(i, Pause))
    files = [i.path for i in script if isinstance(i, Sound)]
    files += [m.path for m in (production.intro, production.outro) if m is not None]
    return (speech + pauses + max(0, len(turns) - 1) * production.gap
            + sum(media.audio_seconds(f) for f in files))


def _supported(ck: Checker, key: KeyPath, speaker: Speaker, used: dict[str, Any]) -> None:
    """A field the speaker's provider and model cannot honour is an error, never a silent
    drop (in a draft, where local voices stand in, a warning)."""
    if ck.dialogue and not ck.draft:
        for f in used:
            ck.fail(key + (f,), f"MOSS-TTSD dialogue mode cannot honour a per-turn {f}; "
                    "remove it, or use mode: turns")
        return
    provider = REGISTRY.get(speaker.provider)
    if provider is None:
        return  # providers not in this build are refused at build time, with a clear message
    for f, message in provider.check_turn(speaker.model, used,
                                          ck.configs.get(speaker.provider)):
        if ck.draft:
            ck.warn(key + (f,), f"{f} is ignored by the local voices of --draft")
        else:
            ck.fail(key + (f,), message)


def _dialogue_model(ck: Checker, key: KeyPath, provider: str | None, model: str | None) -> None:
    """Dialogue mode runs on MOSS-TTSD, which SiliconFlow serves."""
    if provider != "siliconflow":
        ck.fail(key + ("provider",), f"dialogue mode needs provider siliconflow (MOSS-TTSD), "
                f"got {provider!r}; or use mode: turns")
    elif model != moss.MODEL:
        ck.fail(key + ("model",), f"dialogue mode needs model {moss.MODEL}, got {model!r}; "
                "or use mode: turns")


def _dialogue_speaker(ck: Checker, key: KeyPath, data: dict[str, Any], synthesis: Synthesis,
                      reference: Reference | None) -> None:
    """In a dialogue block every speaker is cloned from its reference and shares the
    block's one model, speed and options."""
    for field_, want in (("provider", synthesis.provider), ("model", synthesis.model),
                         ("speed", synthesis.speed)):
        if field_ in data and data[field_] != want:
            ck.fail(key + (field_,), f"in dialogue mode every speaker uses synthesis.{field_} "
                    f"({want}); remove it, or set synthesis.{field_}")
    if "options" in data:
        ck.fail(key + ("options",), "in dialogue mode options apply to whole blocks; move "
                "them to synthesis.options")
    if "voice" in data:
        ck.warn(key + ("voice",), "voice is not used in dialogue mode: MOSS-TTSD speaks "
                "with the voice of the reference clip")
    if "reference" not in data:
        ck.fail(key, "dialogue mode (MOSS-TTSD) clones every voice from a reference clip; "
                "add reference: {audio: <clip>, text: <its transcript>}")
