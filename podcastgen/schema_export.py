"""A JSON Schema (draft 2020-12) of the episode format, for editors (yaml-language-server).

Built from the validator's own key lists in episode.py, so a key added there without a schema
entry fails loudly here (and in the tests). The schema checks structure only; what it cannot
express (unknown speakers in the script, files that must exist, providers' capabilities,
duplicate keys) is left to `podcastgen check`.
"""

from __future__ import annotations

from typing import Any

from . import episode as ep
from . import config, settings
from .providers import KNOWN
from .providers.local import VOICES as LOCAL_VOICES
from .providers.openai import FORMATS as OPENAI_FORMATS, MODEL_KEYS as OPENAI_MODEL_KEYS
from .providers.openai import OpenAIProvider

DRAFT = "https://json-schema.org/draft/2020-12/schema"
TEXT = {"type": "string", "pattern": r"\S"}
ANY_MAP = {"type": "object"}
PATH = {"type": "string", "pattern": r"\S", "description": "a file, relative to this YAML file"}
SPEED = {"type": "number", "minimum": 0.25, "maximum": 4}


def _number(lo: float, hi: float, integer: bool = False) -> dict[str, Any]:
    return {"type": "integer" if integer else "number", "minimum": lo, "maximum": hi}


def _list_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


TOP = {
    "title": TEXT, "show": TEXT, "number": _number(0, 100000, True),
    "season": _number(0, 10000, True),
    "date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
    "language": TEXT, "authors": _list_of(TEXT), "description": TEXT, "cover": PATH,
    "explicit": {"type": "boolean"}, "category": TEXT, "website": TEXT,
    "speakers": {"$ref": "#/$defs/speakers"}, "synthesis": {"$ref": "#/$defs/synthesis"},
    "production": {"$ref": "#/$defs/production"}, "output": {"$ref": "#/$defs/output"},
    "feed": {"$ref": "#/$defs/feed"},
    "script": {"$ref": "#/$defs/script"},
    "providers": {"type": "object", "propertyNames": {"enum": list(KNOWN)},
                  "properties": {"openai": {"$ref": "#/$defs/openai_config"}},
                  "additionalProperties": {"$ref": "#/$defs/provider_config"}},
}
SPEAKER = {"name": TEXT, "voice": TEXT, "provider": {"enum": list(KNOWN)}, "model": TEXT,
           "speed": SPEED, "reference": {"$ref": "#/$defs/reference"}, "options": ANY_MAP}
TURN = {"text": TEXT, "emotion": TEXT, "instruction": TEXT, "speed": SPEED}
SYNTHESIS = {"provider": {"enum": list(KNOWN)}, "model": {"anyOf": [TEXT, {"type": "null"}]},
             "mode": {"enum": ["turns", "dialogue"]}, "speed": SPEED, "options": ANY_MAP,
             "block_seconds": _number(20, 600)}
REFERENCE = {"audio": {**PATH, "description": "a file, relative to this YAML file, or (for "
                       "siliconflow) an http(s) URL"}, "text": TEXT}
PROVIDER = {"base_url": {"type": "string", "pattern": "^https?://"},
            **{k: _number(lo, hi, whole) for k, (lo, hi, whole) in config.NUMBERS.items()}}
OPENAI_MODEL = {"voices": {**_list_of(TEXT), "minItems": 1},
                "formats": {**_list_of({"enum": list(OPENAI_FORMATS)}), "minItems": 1},
                "instructions": {"type": "boolean"}, "sse": {"type": "boolean"}}
GAIN = _number(*settings.GAIN_DB)
FADE = _number(0, settings.MAX_FADE_S)
MUSIC = {"file": PATH, "gain": GAIN, "fade_in": FADE, "fade_out": FADE, "crossfade": FADE}
BED = {"file": PATH, "level": _number(-60, -10), "duck": _number(0, 40), "gain": GAIN,
       "fade_in": FADE, "fade_out": FADE, "attack": _number(0.01, 5),
       "release": _number(0.01, 5)}
PRODUCTION = {"gap": _number(0, 10), "loudness": _number(-40, -5), "true_peak": _number(-9, 0),
              "intro": {"$ref": "#/$defs/music"}, "outro": {"$ref": "#/$defs/music"},
              "bed": {"$ref": "#/$defs/bed"}}
OUTPUT = {
    "formats": {**_list_of({"enum": list(settings.FORMATS)}), "minItems": 1},
    "bitrate": {"type": "string", "pattern": r"^([3-9][0-9]|[12][0-9][0-9]|3[01][0-9]|320)k$"},
    "sample_rate": {"enum": [22050, 24000, 32000, 44100, 48000]},
    "channels": {"enum": [1, 2]},
    "transcript": _list_of({"enum": list(settings.TRANSCRIPTS)}),
    "chapters": {"type": "boolean"},
    "show_notes": {"anyOf": [{"type": "boolean"}, {
        "type": "object", "properties": {"markdown": PATH, "html": PATH},
        "additionalProperties": False}]},
}
FEED = {"description": TEXT, "author": TEXT, "email": TEXT, "copyright": TEXT,
        "type": {"enum": ["episodic", "serial"]}, "image": PATH, "guid": TEXT,
        "episode_type": {"enum": ["full", "trailer", "bonus"]}}
DIRECTIVES = {"chapter": TEXT, "pause": _number(0.01, 60), "sound": {"$ref": "#/$defs/sound"}}


def _mapping(keys: tuple[str, ...], known: dict[str, Any], *,
             required: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object whose properties are exactly the validator's `keys` (KeyError if out of sync)."""
    extra = set(known) - set(keys)
    if extra:
        raise KeyError(f"schema has keys the validator does not accept: {sorted(extra)}")
    schema: dict[str, Any] = {"type": "object", "properties": {k: known[k] for k in keys},
                              "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


def _speaker() -> dict[str, Any]:
    cloud = {"properties": {"provider": {"not": {"const": "local"}}}, "required": ["provider"]}
    local = {"properties": {"provider": {"const": "local"}}, "required": ["provider"]}
    return {**_mapping(ep.SPEAKER_KEYS, SPEAKER), "allOf": [
        {"if": cloud, "then": {"anyOf": [{"required": ["voice"]}, {"required": ["reference"]}]}},
        {"if": local, "then": {"properties": {"voice": {"enum": list(LOCAL_VOICES)}}}},
    ]}


def _id_pattern() -> str:
    """The validator's speaker-id pattern, anchored the JSON Schema way."""
    return "^" + ep.SPEAKER_ID.pattern.removesuffix(r"\Z") + "$"


def _script() -> dict[str, Any]:
    item = {"type": "object", "minProperties": 1, "maxProperties": 1,
            "propertyNames": {"pattern": _id_pattern()},
            "properties": {d: DIRECTIVES[d] for d in ep.DIRECTIVES},
            "additionalProperties": {"$ref": "#/$defs/turn"}}
    a_turn = {"not": {"anyOf": [{"required": [d]} for d in ep.DIRECTIVES]}}
    return {"type": "array", "minItems": 1, "items": item, "contains": a_turn}


def episode_schema(*, show: bool = False) -> dict[str, Any]:
    """The schema of an episode file; `show=True`: of a show file that episodes extend."""
    top = _mapping(ep.TOP_KEYS, TOP)
    top["properties"] = {"extends": PATH, **top["properties"]}
    speaker_id = {"pattern": _id_pattern(), "not": {"enum": list(ep.DIRECTIVES)}}
    schema: dict[str, Any] = {
        "$schema": DRAFT,
        "title": "podcastgen show defaults" if show else "podcastgen episode",
        **top,
        "$defs": {
            "speakers": {"type": "object", "minProperties": 1, "propertyNames": speaker_id,
                         "additionalProperties": {"$ref": "#/$defs/speaker"}},
            "speaker": _speaker(),
            "reference": _mapping(ep.REFERENCE_KEYS, REFERENCE, required=ep.REFERENCE_KEYS),
            "synthesis": _mapping(ep.SYNTHESIS_KEYS, SYNTHESIS),
            "production": _mapping(settings.PRODUCTION_KEYS, PRODUCTION),
            "output": _mapping(settings.OUTPUT_KEYS, OUTPUT),
            "music": {"anyOf": [PATH, _mapping(settings.MUSIC_KEYS, MUSIC, required=("file",))]},
            "bed": {"anyOf": [PATH, _mapping(settings.BED_KEYS, BED, required=("file",))]},
            "feed": _mapping(settings.FEED_KEYS, FEED),
            "provider_config": _mapping(config.ENTRY_KEYS, PROVIDER),
            "openai_config": _mapping((*config.ENTRY_KEYS, *OpenAIProvider.config_keys), {
                **PROVIDER, "models": {
                "type": "object", "additionalProperties": {
                    "anyOf": [{"type": "null"}, _mapping(OPENAI_MODEL_KEYS, OPENAI_MODEL)]}}}),
            "sound": {"anyOf": [PATH, _mapping(ep.SOUND_KEYS, {"file": PATH, "gain": GAIN},
                                               required=("file",))]},
            "script": _script(),
            "turn": {"anyOf": [TEXT, _mapping(ep.TURN_KEYS, TURN, required=("text",))]},
        },
    }
    if not show:  # with `extends`, these may come from the show file
        schema["if"] = {"not": {"required": ["extends"]}}
        schema["then"] = {"required": ["title", "speakers", "script"]}
    return schema
