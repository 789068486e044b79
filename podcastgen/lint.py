"""`podcastgen check`: validate episodes and warn about what would go wrong, without sending.

Beyond validation (unknown speakers, bad values, text a local voice cannot speak), the rules
here look at the episode the way each provider will see it: turns over a provider's input
limit, characters MOSS-TTSD would strip or change, text a provider takes as something other
than words to say (stepaudio-2.5-tts's brackets), and an episode without a `date`; a
dialogue-mode speaker without a reference clip is a validation error. Each finding is one
`path:line: key: warning: message` line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import moss
from .episode import Episode, Turn
from .errors import InputError
from .providers import REGISTRY
from .source import show_path

if TYPE_CHECKING:
    from .pipeline import BuildOptions

SENTENCE_END = re.compile(r"(?<=[.!?。！？…])\s*")
V05_ONLY = "!?！？"  # v0.5 (what SiliconFlow serves) also turns these into commas


@dataclass
class Findings:
    """What `check` found in one episode: errors make it invalid, warnings do not."""

    path: Path
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Limit:
    size: int
    unit: str = "characters"  # or "bytes" (UTF-8), as the provider counts

    def measure(self, text: str) -> int:
        return len(text.encode("utf-8")) if self.unit == "bytes" else len(text)


def input_limit(provider: str, model: str | None, speed: float = 1.0,
                options: dict[str, Any] | None = None) -> Limit | None:
    """The most text one request to `provider`'s `model` may carry, as the provider counts
    it (characters, or UTF-8 bytes), or None when it has no limit."""
    cls = REGISTRY.get(provider)
    if cls is None:
        return None
    chars, size = cls.limits(model, speed, options)
    if size:
        return Limit(size, "bytes")
    return Limit(chars) if chars else None


def moss_changes(text: str, model: str | None) -> str:
    """The characters of `text` that MOSS-TTSD would drop or turn into commas, in order."""
    changed = moss.stripped(text)
    if model is None or "v0.5" in model:
        return changed
    return "".join(ch for ch in changed if ch not in V05_ONLY)


def check_episode(path: Path, options: BuildOptions) -> Findings:
    """Validate one episode and run the lint rules on it; input errors become findings."""
    from .pipeline import load_episode

    found = Findings(path)
    try:
        episode = load_episode(path, options, need_keys=False)
    except InputError as exc:
        found.errors = str(exc).splitlines()
        found.warnings = sorted(exc.warnings, key=_position)  # found before the error stopped it
        return found
    found.warnings = sorted([*episode.warnings, *_undated(episode), *_turn_rules(episode)],
                            key=_position)
    return found


def _undated(episode: Episode) -> list[str]:
    """An episode without `date` is published when it is first built (see buildtime.py)."""
    if episode.meta.date:
        return []
    return [f"{show_path(episode.source)}:1: date: warning: no date; the feed will publish "
            "the episode when it is first built (set date: YYYY-MM-DD to choose)"]


def _position(line: str) -> tuple[str, int]:
    """Order findings by file, then line number (not as text: 10 comes after 9)."""
    match = re.match(r"(.*?):(\d+): ", line)
    return (match.group(1), int(match.group(2))) if match else (line, 0)


def _turn_rules(episode: Episode) -> list[str]:
    found = []
    for index, item in enumerate(episode.script):  # a valid episode keeps every script item
        if not isinstance(item, Turn):
            continue
        speaker = episode.speakers[item.speaker]
        model = speaker.model or getattr(REGISTRY.get(speaker.provider), "default_model", None)
        speed = item.speed if item.speed is not None else speaker.speed
        limit = input_limit(speaker.provider, model, speed, dict(speaker.options))
        if limit and limit.measure(item.text) > limit.size:
            found.append(_warn(item, index, _over_limit(item.text, speaker.provider, limit)))
        cls = REGISTRY.get(speaker.provider)
        for message in cls.turn_warnings(model, dict(speaker.options), item.text, speed) \
                if cls else ():
            found.append(_warn(item, index, message))
        if _uses_moss(episode, speaker.provider, model):
            changed = moss_changes(item.text, model)
            if changed:
                found.append(_warn(item, index, f"MOSS-TTSD drops or turns into commas "
                                   f"{' '.join(changed)} in this turn; rephrase, or spell out "
                                   "times and numbers"))
    return found


def _over_limit(text: str, provider: str, limit: Limit) -> str:
    size = limit.measure(text)
    message = (f"turn is {size:,} {limit.unit}, over the {provider} limit of {limit.size:,} "
               "per request; it is sent in parts split at sentence ends")
    longest = max(SENTENCE_END.split(text), key=limit.measure)
    if limit.measure(longest) > limit.size:
        message += (f", but one sentence alone is {limit.measure(longest):,} {limit.unit} and "
                    "will be cut mid-sentence; shorten it")
    return message


def _uses_moss(episode: Episode, provider: str, model: str | None) -> bool:
    if provider == "local":
        return False
    return episode.synthesis.mode == "dialogue" or "moss-ttsd" in (model or "").lower()


def _warn(turn: Turn, index: int, message: str) -> str:
    """One finding at the turn's own line (`path:line` from validation)."""
    return f"{turn.where}: script.{index}.{turn.speaker}: warning: {message}"

