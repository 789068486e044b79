"""Voices: listing a provider's voices, uploading a clip as a cloned voice and deleting it, and
the project's record of uploads (`.podcastgen/voices.json`) so that the same clip is never
uploaded twice. A speaker with a `reference` and no `voice` on a per-turn model gets its cloned
voice here at build time: uploaded once, then reused from the record.

The record is keyed by provider, model, the clip's content hash and the transcript, so editing
either makes a new voice and moving or renaming the file does not.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import config as configs
from .atomic import write_atomic
from .errors import InputError, ProviderError
from .providers import KNOWN, REGISTRY, get
from .redaction import provider_text, redact
from .source import project_root, show_path

STATE = Path(".podcastgen") / "voices.json"
DIALOGUE_MODEL = "fnlp/MOSS-TTSD-v0.5"  # its speakers send their clips with every block
_lock = threading.Lock()
# `voices ACTION PROVIDER ...`: what follows the provider in each action's usage
ACTIONS = {"list": "", "upload": " CLIP --name NAME --text TRANSCRIPT [--model MODEL]",
           "delete": " VOICE"}


def state_key(provider: str, model: str | None, clip: Path, text: str) -> str:
    digest = hashlib.sha256(clip.read_bytes()).hexdigest()[:20]
    words = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return f"{provider}|{model or ''}|{digest}|{words}"


def load_state(root: Path) -> dict[str, dict[str, Any]]:
    file = root / STATE
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"{show_path(file)}: not a voices record podcastgen wrote; move it "
                         "aside and run again") from None
    return data if isinstance(data, dict) else {}


def save_state(root: Path, state: dict[str, dict[str, Any]]) -> None:
    """Atomic: a crash leaves the old record or the new one, never half of one."""
    text = json.dumps(state, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    write_atomic(root / STATE, text, prefix=".voices-")


def ensure_voice(provider: Any, model: str | None, clip: Path, text: str, name: str,
                 root: Path) -> tuple[str, bool]:
    """The cloned voice for this clip and transcript: (voice id, whether it was uploaded now)."""
    model = model or provider.default_model
    key = state_key(provider.name, model, clip, text)
    with _lock:
        known = load_state(root).get(key)
    if known:
        return known["voice"], False
    voice = provider.clone(clip, text, name, model)
    secret = provider.config.api_key
    if secret and redact(voice, secret) != voice:  # it would be written to voices.json
        raise ProviderError(f"{provider.name}: the new voice's id holds the API key; not "
                            "recorded (is the base URL a service that echoes requests?)")
    with _lock:
        state = load_state(root)
        state[key] = {"provider": provider.name, "model": model, "voice": voice, "name": name,
                      "clip": _rel(clip, root), "text": text}
        save_state(root, state)
    return voice, True


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return path.name


def to_clone(episode: Any) -> Iterator[tuple[str, Any, str | None]]:
    """(speaker id, speaker, model) for each speaker whose voice a build makes from its
    reference clip: a per-turn model that can clone, a reference file, and no voice given (a
    reference by URL is sent with every request instead)."""
    for sid, speaker in episode.speakers.items():
        cls = REGISTRY.get(speaker.provider)
        model = speaker.model or (cls.default_model if cls else None)
        if speaker.voice or not speaker.reference or not cls or not cls.can_clone \
                or not isinstance(speaker.reference.audio, Path):
            continue
        if episode.synthesis.mode == "dialogue" and model == DIALOGUE_MODEL:
            continue  # MOSS-TTSD takes the clip itself with every block
        yield sid, speaker, model


def with_cloned_voices(episode: Any) -> Any:
    """Speakers on a per-turn model with a reference and no voice get their cloned voice."""
    root = project_root(episode.source)
    speakers = dict(episode.speakers)
    for sid, speaker, model in to_clone(episode):
        provider = get(speaker.provider, episode.configs.get(speaker.provider))
        voice, _ = ensure_voice(provider, model, speaker.reference.audio, speaker.reference.text,
                                f"podcastgen-{sid}", root)
        speakers[sid] = replace(speaker, voice=voice)
    return replace(episode, speakers=speakers)


def command(words: list[str], *, name: str | None, text: str | None,
            model: str | None) -> int:
    """`voices PROVIDER`, `voices list PROVIDER`, `voices upload PROVIDER CLIP --name --text`,
    `voices delete PROVIDER VOICE`."""
    if words[0] in ACTIONS and len(words) == 1:  # `voices list`: the provider is missing
        raise InputError(f"voices {words[0]} needs a provider: podcastgen voices {words[0]} "
                         f"PROVIDER{ACTIONS[words[0]]} (providers: {', '.join(REGISTRY)})")
    if len(words) == 1:
        words = ["list", *words]
    action, provider = words[0], words[1]
    if provider not in REGISTRY:
        extra = " (not available in this version)" if provider in KNOWN else ""
        raise InputError(f"unknown provider {provider!r}{extra}; please select one of: "
                         f"{', '.join(REGISTRY)}")
    if action == "list" and len(words) == 2:
        return _list(provider)
    if action == "upload" and len(words) == 3 and name and text:
        return _upload(provider, Path(words[2]), name, text, model)
    if action == "delete" and len(words) == 3:
        return _delete(provider, words[2])
    raise InputError("usage: " + " | ".join(f"podcastgen voices {action} PROVIDER{rest}"
                                            for action, rest in ACTIONS.items()))


def _provider(name: str, root: Path) -> Any:
    project = configs.project_config(root)
    configs.check_destinations({name}, project)
    resolved = configs.resolve(name, project.providers)
    configs.require_keys({name: resolved}, "podcastgen voices", hint="")
    return get(name, resolved)


def _list(name: str) -> int:
    cls = REGISTRY[name]
    root = project_root(Path.cwd() / "voices")
    found = dict(get(name).voices())
    key_var = configs.ENV.get(name, ("",))[0]
    if hasattr(cls, "remote_voices") and os.environ.get(key_var):
        found.update(_provider(name, root).remote_voices())
    elif hasattr(cls, "remote_voices"):
        print(f"set {key_var} to list the voices of your {name} account too", file=sys.stderr)
    for record in load_state(root).values():
        if record.get("provider") == name:
            found.setdefault(record["voice"], f"uploaded from {record.get('clip')} "
                             f"({record.get('model')})")
    secret = configs.resolve(name).api_key
    for voice, description in found.items():  # the server's words, never the key
        print(provider_text(f"{voice:<12} {description}", secret, limit=1000))
    return 0


def _upload(name: str, clip: Path, custom: str, text: str, model: str | None) -> int:
    if not clip.is_file():
        raise InputError(f"{clip}: file not found")
    cls = REGISTRY[name]
    if not getattr(cls, "can_clone", False):
        raise InputError(f"{name} cannot make voices from clips; providers that can: "
                         f"{', '.join(n for n, c in REGISTRY.items() if c.can_clone)}")
    if model is not None and cls.models and model not in cls.models:
        raise InputError(f"unknown {name} model {model!r}; models: {', '.join(cls.models)}")
    root = project_root(Path.cwd() / "voices")
    voice, uploaded = ensure_voice(_provider(name, root), model, clip, text, custom, root)
    print(f"{'uploaded' if uploaded else 'already uploaded'}: {voice}")
    return 0


def _delete(name: str, voice: str) -> int:
    root = project_root(Path.cwd() / "voices")
    _provider(name, root).delete_voice(voice)
    with _lock:
        state = {k: v for k, v in load_state(root).items() if v.get("voice") != voice}
        save_state(root, state)
    print(f"deleted: {voice}")
    return 0
