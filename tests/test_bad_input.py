"""A corpus of malformed inputs, one table row each: YAML the parser chokes on, alias bombs,
nesting, numbers, dates, empty sections, text, paths, files that are not what they claim, and
the same in show files, template data and podcastgen.yaml. Each gives exactly one
`path:line: key: message` line, exit 2, no traceback and no file written, within a generous
time bound, through the real command line (in-process; a few also as a subprocess).
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from podcastgen import ffmpeg
from podcastgen.cli import main
from podcastgen.emulator import Emulator

from .helpers import tone

TIME_BOUND_S = 20  # generous: every case takes well under a second; a hang fails here


@dataclass(frozen=True)
class Fifo:
    """A named pipe with no writer: reading it would block forever."""


@dataclass(frozen=True)
class Link:
    target: str


@dataclass(frozen=True)
class Folder:
    pass


@dataclass(frozen=True)
class Silence:
    """A FLAC file of silence this long: a few kilobytes however many minutes."""

    seconds: float


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str | bytes | Fifo | Link | Folder | Silence]
    expected: str
    args: tuple[str, ...] = ("build", "ep.yaml")


HEAD = "title: T\nspeakers:\n  alex: {name: Alex}\n"
SCRIPT = "script:\n  - alex: Hello.\n"
LONG = "n" * 300


def ep(extra: str = "", script: str = SCRIPT, head: str = HEAD) -> str:
    """An episode: the head, `extra` top-level lines (from line 4), then the script."""
    return head + extra + script


def bomb(levels: int, key: str = "lol") -> str:
    """The "billion laughs": each level an alias list of nine of the level below."""
    lines = [f"{key}:", "  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def nested_maps(depth: int) -> str:
    return "deep:\n" + "".join("  " * (i + 1) + "k:\n" for i in range(depth))


def image(width: int, height: int, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(out, fmt)
    return out.getvalue()


GOOD_PNG = image(64, 64)
WAV_HEADER_ONLY = (b"RIFF" + (36).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
                   + bytes.fromhex("01000100401f0000803e00000200100064617461") + bytes(4))
TEMPLATE = "extends: show.yaml\ntitle: {{ title }}\nscript:\n  - alex: Hello.\n"
SHOW = "speakers:\n  alex: {name: Alex}\n"
CONTROL = "contains the control character U+{:04X}, which no voice or output file can carry; " \
    "remove it"
RAW = "yaml: the control character U+{:04X} cannot appear in a YAML file; remove it"
TOO_DEEP = "yaml: nested more than 64 levels deep"
BOMB = "aliases copy in more than 10000 values; write the values out"
TAG = "the YAML tag {} is not supported here; remove it"
MERGE = "<<: merge keys (<<) are not supported; write the keys out, or share settings through " \
    "extends:"

CASES = [
    # --- the parser's own errors: raw bytes, tags, merge keys, anchors, documents
    Case("yaml-raw-bel-in-title", {"ep.yaml": "title: a\x07b\n" + SCRIPT},
         "ep.yaml:1: " + RAW.format(7)),
    Case("yaml-raw-nul-in-turn", {"ep.yaml": ep(script="script:\n  - alex: a\x00b\n")},
         "ep.yaml:5: " + RAW.format(0)),
    Case("yaml-raw-escape", {"ep.yaml": ep("show: \x1b[31mred\n")},
         "ep.yaml:4: " + RAW.format(0x1B)),
    Case("yaml-raw-delete", {"ep.yaml": ep("show: a\x7fb\n")}, "ep.yaml:4: " + RAW.format(0x7F)),
    Case("yaml-raw-c1", {"ep.yaml": ep("show: a\x9bb\n")}, "ep.yaml:4: " + RAW.format(0x9B)),
    Case("yaml-raw-noncharacter", {"ep.yaml": ep("show: a\ufffeb\n")},
         "ep.yaml:4: yaml: the non-character U+FFFE cannot appear in a YAML file; remove it"),
    Case("yaml-raw-control-after-crlf", {"ep.yaml": "title: T\r\nshow: S\r\nx: \x01\r\n"},
         "ep.yaml:3: " + RAW.format(1)),
    Case("yaml-not-utf8", {"ep.yaml": b"title: caf\xe9\n" + SCRIPT.encode()},
         "ep.yaml:1: file: not UTF-8 text (invalid continuation byte)"),
    Case("yaml-utf16", {"ep.yaml": ep().encode("utf-16")},
         "ep.yaml:1: file: not UTF-8 text (invalid start byte)"),
    Case("yaml-merge-key", {"ep.yaml": ep("<<: {show: X}\n")}, "ep.yaml:4: " + MERGE),
    Case("yaml-merge-alias", {"ep.yaml": "base: &b {name: A}\n" + HEAD + "  anna:\n    <<: *b\n"
                              + SCRIPT}, "ep.yaml:6: speakers.anna." + MERGE),
    Case("yaml-tag-custom", {"ep.yaml": ep("show: !custom x\n")},
         "ep.yaml:4: show: " + TAG.format("!custom")),
    Case("yaml-tag-on-mapping", {"ep.yaml": ep("production: !thing {gap: 1}\n")},
         "ep.yaml:4: production: " + TAG.format("!thing")),
    Case("yaml-tag-binary", {"ep.yaml": ep("show: !!binary aGk=\n")},
         "ep.yaml:4: show: " + TAG.format("!!binary")),
    Case("yaml-tag-set", {"ep.yaml": ep("authors: !!set {a: null}\n")},
         "ep.yaml:4: authors: " + TAG.format("!!set")),
    Case("yaml-tag-omap", {"ep.yaml": ep("authors: !!omap [a: 1]\n")},
         "ep.yaml:4: authors: " + TAG.format("!!omap")),
    Case("yaml-tag-python", {"ep.yaml": ep("show: !!python/object/apply:os.system [ls]\n")},
         "ep.yaml:4: show: " + TAG.format("!!python/object/apply:os.system")),
    Case("yaml-tag-int-not-a-number", {"ep.yaml": ep("number: !!int abc\n")},
         "ep.yaml:4: number: 'abc' is not a valid !!int"),
    Case("yaml-tag-float-not-a-number", {"ep.yaml": ep("production: {gap: !!float x}\n")},
         "ep.yaml:4: production.gap: 'x' is not a valid !!float"),
    Case("yaml-tag-bool-maybe", {"ep.yaml": ep("explicit: !!bool maybe\n")},
         "ep.yaml:4: explicit: 'maybe' is not a valid !!bool"),
    Case("yaml-undefined-alias", {"ep.yaml": ep("show: *nowhere\n")},
         "ep.yaml:4: yaml: YAML syntax error: found undefined alias 'nowhere'"),
    Case("yaml-duplicate-anchor", {"ep.yaml": ep("show: &a x\ncategory: &a y\n")},
         "ep.yaml:5: yaml: YAML syntax error: found duplicate anchor 'a'"),
    Case("yaml-two-documents", {"ep.yaml": ep() + "---\ntitle: again\n"},
         "ep.yaml:6: yaml: YAML syntax error: expected a single document in the stream, but "
         "found another document"),
    Case("yaml-unclosed-quote", {"ep.yaml": ep('show: "open\n')},
         "ep.yaml:7: yaml: YAML syntax error: found unexpected end of stream"),
    Case("yaml-key-is-a-list", {"ep.yaml": ep("? [a, b]\n: c\n")},
         "ep.yaml:4: (top): keys must be plain names, got a list"),
    Case("yaml-key-is-null", {"ep.yaml": ep("~: x\n")},
         "ep.yaml:4: (top): YAML reads the name '~' as nothing (null), not as text; put it in "
         "quotes (\"~\") to use it as a name"),
    Case("yaml-colon-in-a-turn", {"ep.yaml": ep(script="script:\n  - alex: Hello.\n"
                                                "  - alex: Here is the plan: we talk.\n")},
         "ep.yaml:6: yaml: YAML syntax error: mapping values are not allowed here; text that "
         "holds a colon followed by a space must be in quotes: - alex: 'Here is the plan: we "
         "talk.'"),
    Case("yaml-colon-in-a-quoted-turn", {"ep.yaml": ep(script="script:\n  - alex:\n      "
                                                       "text: It's 'the' plan: talk.\n")},
         "ep.yaml:6: yaml: YAML syntax error: mapping values are not allowed here; text that "
         "holds a colon followed by a space must be in quotes: text: \"It's 'the' plan: "
         "talk.\""),
    Case("yaml-speaker-id-no", {"ep.yaml": "title: T\nspeakers:\n  no: {name: Noor}\n"
                                "script:\n  - \"no\": Hello.\n"},
         "ep.yaml:3: speakers: YAML reads the name 'no' as false, not as text; put it in quotes "
         "(\"no\") to use it as a name"),
    Case("yaml-speaker-id-on-in-the-script", {"ep.yaml": ep(script="script:\n  - On: Hi.\n")},
         "ep.yaml:5: script.0: YAML reads the name 'On' as true, not as text; put it in quotes "
         "(\"On\") to use it as a name"),
    Case("yaml-key-is-an-alias", {"ep.yaml": ep("x: &a [1, 2]\n? *a\n: x\n")},
         "ep.yaml:4: (top): keys must be plain names, got a list"),
    Case("yaml-scalar-document", {"ep.yaml": "just some words\n"},
         "ep.yaml:1: file: an episode must be a mapping of keys"),
    Case("yaml-only-comments", {"ep.yaml": "# nothing here\n# at all\n"},
         "ep.yaml:1: file: the file is empty"),
    Case("yaml-empty-file", {"ep.yaml": ""}, "ep.yaml:1: file: the file is empty"),
    Case("yaml-over-one-mib", {"ep.yaml": ep("description: " + "x" * (1 << 20) + "\n")},
         "ep.yaml:1: file: the file is larger than 1 MiB; split it up"),
    Case("yaml-value-too-long", {"ep.yaml": ep("description: " + "x" * 100_001 + "\n")},
         "ep.yaml:4: description: 100,001 characters is too long for one value (at most "
         "100,000)"),
    # --- aliases: bombs, loops, nesting through aliases
    Case("alias-bomb-nine-levels-unknown-key", {"ep.yaml": ep(bomb(9))},
         "ep.yaml:5: lol.a4.0.2.1.0.1: " + BOMB),
    Case("alias-bomb-six-levels", {"ep.yaml": ep(bomb(6))}, "ep.yaml:5: lol.a4.0.2.0.8.6: " + BOMB),
    Case("alias-bomb-in-script", {"ep.yaml": ep(script="script: &s [*s]\n")},
         "ep.yaml:4: script.0: an alias here refers to the value that contains it"),
    Case("alias-bomb-in-known-key", {"ep.yaml": ep(bomb(7, "authors"))},
         "ep.yaml:5: authors.a4.0.2.0.8.8: " + BOMB),
    Case("alias-self-mapping", {"ep.yaml": "title: T\nspeakers: &m\n  alex: *m\n" + SCRIPT},
         "ep.yaml:2: speakers.alex: an alias here refers to the value that contains it"),
    Case("alias-loop-two-steps", {"ep.yaml": ep("x: &a [&b [*a]]\n")},
         "ep.yaml:4: x.0.0: an alias here refers to the value that contains it"),
    Case("alias-nesting-past-the-limit",
         {"ep.yaml": ep("a: &a " + "[" * 40 + "]" * 40 + "\nb: &b " + "[" * 30 + "*a"
                        + "]" * 30 + "\n")},
         "ep.yaml:4: b.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
         "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0: aliases nest values more than 64 "
         "levels deep; write the values out"),
    # --- nesting
    Case("depth-500-brackets", {"ep.yaml": ep("x: " + "[" * 500 + "]" * 500 + "\n")},
         "ep.yaml:4: " + TOO_DEEP),
    Case("depth-600-mappings", {"ep.yaml": ep(nested_maps(600))}, "ep.yaml:67: " + TOO_DEEP),
    Case("depth-65-lists", {"ep.yaml": ep("x: " + "[" * 65 + "]" * 65 + "\n")},
         "ep.yaml:4: " + TOO_DEEP),
    Case("depth-braces-unclosed", {"ep.yaml": ep("x: " + "{a: " * 300 + "\n")},
         "ep.yaml:4: " + TOO_DEEP),
    Case("depth-in-a-turn", {"ep.yaml": ep(script="script:\n  - alex: " + "[" * 100 + "]" * 100
                                           + "\n")}, "ep.yaml:5: " + TOO_DEEP),
    # --- numbers
    Case("number-400-digit-gap", {"ep.yaml": ep("production: {gap: " + "9" * 400 + "}\n")},
         "ep.yaml:4: production.gap: a number of 400 characters is too long (at most 100)"),
    Case("number-5000-digits", {"ep.yaml": ep("number: " + "1" * 5000 + "\n")},
         "ep.yaml:4: number: a number of 5000 characters is too long (at most 100)"),
    Case("number-negative", {"ep.yaml": ep("number: -1\n")},
         "ep.yaml:4: number: must be between 0 and 100000, got -1"),
    Case("number-fraction", {"ep.yaml": ep("season: 1.5\n")},
         "ep.yaml:4: season: expected a whole number, got a number (1.5)"),
    Case("number-infinite-gap", {"ep.yaml": ep("production: {gap: .inf}\n")},
         "ep.yaml:4: production.gap: must be between 0 and 10, got inf"),
    Case("number-nan-loudness", {"ep.yaml": ep("production: {loudness: .nan}\n")},
         "ep.yaml:4: production.loudness: must be between -40 and -5, got nan"),
    Case("number-1e400-pause", {"ep.yaml": ep(script=SCRIPT + "  - pause: 1.0e+400\n")},
         "ep.yaml:6: script.1.pause: must be between 0.01 and 60, got inf"),
    Case("number-tiny-speed", {"ep.yaml": ep("synthesis: {speed: 1.0e-400}\n")},
         "ep.yaml:4: synthesis.speed: must be between 0.25 and 4, got 0"),
    Case("number-hex-sample-rate", {"ep.yaml": ep("output: {sample_rate: 0xffffffffffff}\n")},
         "ep.yaml:4: output.sample_rate: must be one of: 22050, 24000, 32000, 44100, 48000; got "
         "a number (281474976710655)"),
    Case("number-sexagesimal-block", {"ep.yaml": ep("synthesis: {block_seconds: 190:20:30}\n")},
         "ep.yaml:4: synthesis.block_seconds: must be between 20 and 600, got 685230"),
    Case("number-season-text", {"ep.yaml": ep("season: two\n")},
         "ep.yaml:4: season: expected a whole number, got text ('two')"),
    Case("number-gain-huge", {"ep.yaml": ep(script=SCRIPT + "  - sound: {file: sfx/ok.wav, gain:"
                                            " 1.0e+300}\n")},
         "ep.yaml:6: script.1.sound.gain: must be between -40 and 20, got 1e+300"),
    # --- dates
    Case("date-month-13", {"ep.yaml": ep("date: 2026-13-45\n")},
         "ep.yaml:4: date: 2026-13-45 is not a day on the calendar"),
    Case("date-hour-25", {"ep.yaml": ep("date: 2026-11-21T25:61:00\n")},
         "ep.yaml:4: date: expected a date as YYYY-MM-DD, got '2026-11-21T25:61:00'"),
    Case("date-year-zero", {"ep.yaml": ep("date: 0000-01-01\n")},
         "ep.yaml:4: date: 0000-01-01 is not a day on the calendar"),
    Case("date-february-30-quoted", {"ep.yaml": ep('date: "2026-02-30"\n')},
         "ep.yaml:4: date: 2026-02-30 is not a day on the calendar"),
    Case("date-february-29-not-leap", {"ep.yaml": ep("date: 2027-02-29\n")},
         "ep.yaml:4: date: 2027-02-29 is not a day on the calendar"),
    Case("date-short-form", {"ep.yaml": ep("date: 2026-1-5\n")},
         "ep.yaml:4: date: expected a date as YYYY-MM-DD, got '2026-1-5'"),
    Case("date-number", {"ep.yaml": ep("date: 20261121\n")},
         "ep.yaml:4: date: expected text, got a number (20261121); put text in quotes"),
    Case("date-with-time", {"ep.yaml": ep("date: 2026-11-21 10:00:00\n")},
         "ep.yaml:4: date: expected a date as YYYY-MM-DD, got '2026-11-21 10:00:00'"),
    # --- empty sections
    Case("empty-script", {"ep.yaml": ep(script="script:\n")},
         "ep.yaml:4: script: is empty; add at least one turn, e.g. `- alex: Hello`"),
    Case("empty-speakers", {"ep.yaml": "title: T\nspeakers:\n" + SCRIPT},
         "ep.yaml:2: speakers: is empty; declare at least one, e.g. `alex: {name: Alex}`"),
    Case("empty-speakers-mapping", {"ep.yaml": "title: T\nspeakers: {}\n" + SCRIPT},
         "ep.yaml:2: speakers: is empty; declare at least one, e.g. `alex: {name: Alex}`"),
    Case("empty-script-only-directives",
         {"ep.yaml": ep(script="script:\n  - chapter: One\n  - pause: 1\n")},
         "ep.yaml:4: script: the script has no turns; add at least one line like "
         "`- alex: Hello`"),
    Case("empty-turn-text", {"ep.yaml": ep(script="script:\n  - alex: ''\n")},
         "ep.yaml:5: script.0.alex: must not be empty"),
    Case("empty-turn-null", {"ep.yaml": ep(script="script:\n  - alex:\n")},
         "ep.yaml:5: script.0.alex: expected text, got nothing (null); put text in quotes"),
    Case("empty-turn-spaces", {"ep.yaml": ep(script="script:\n  - alex: '   '\n")},
         "ep.yaml:5: script.0.alex: must not be empty"),
    Case("empty-title", {"ep.yaml": ep(head="title:\nspeakers:\n  alex: {name: Alex}\n")},
         "ep.yaml:1: title: expected text, got nothing (null); put text in quotes"),
    # --- text
    Case("text-escaped-nul", {"ep.yaml": ep(script='script:\n  - alex: "a\\0b"\n')},
         "ep.yaml:5: script.0.alex: " + CONTROL.format(0)),
    Case("text-escaped-bel", {"ep.yaml": ep('show: "a\\x07b"\n')},
         "ep.yaml:4: show: " + CONTROL.format(7)),
    Case("text-escaped-c1", {"ep.yaml": ep('show: "a\\x9bb"\n')},
         "ep.yaml:4: show: " + CONTROL.format(0x9B)),
    Case("text-lone-surrogate", {"ep.yaml": ep(script='script:\n  - alex: "a\\ud800b"\n')},
         "ep.yaml:5: script.0.alex: contains U+D800 (half of a surrogate pair, not a "
         "character), which no voice or output file can carry; remove it"),
    Case("text-reversed-surrogates", {"ep.yaml": ep('show: "\\ude00\\ud83d"\n')},
         "ep.yaml:4: show: contains U+DE00 (half of a surrogate pair, not a character), which "
         "no voice or output file can carry; remove it"),
    Case("text-noncharacter", {"ep.yaml": ep('show: "\\uffff"\n')},
         "ep.yaml:4: show: contains the non-character U+FFFF, which no voice or output file "
         "can carry; remove it"),
    Case("text-control-in-key", {"ep.yaml": ep('"sh\\x01ow": x\n')},
         "ep.yaml:4: (top): " + CONTROL.format(1)),
    Case("text-control-in-option", {"ep.yaml": ep("synthesis: {options: {x: \"\\x1f\"}}\n")},
         "ep.yaml:4: synthesis.options.x: " + CONTROL.format(0x1F)),
    Case("text-turn-over-the-limit", {"ep.yaml": ep(script="script:\n  - alex: " + "word " * 2001
                                                    + "\n")},
         "ep.yaml:5: script.0.alex: turn is 10,004 characters; a turn may have at most 10,000 "
         "(split it into several turns)"),
    Case("text-ten-megabyte-turn", {"ep.yaml": ep(script="script:\n  - alex: " + "x" * 10_000_000
                                                  + "\n")},
         "ep.yaml:1: file: the file is larger than 1 MiB; split it up"),
    Case("text-seventeen-hours-planned",
         {"ep.yaml": ep(script="script:\n" + ("  - alex: " + "word " * 1900 + "\n") * 90)},
         "ep.yaml:4: script: the script plans about 16:58:16 of audio; an episode may run at "
         "most 12 hours (split it into episodes)"),
    Case("text-pauses-past-twelve-hours",
         {"ep.yaml": ep(script=SCRIPT + "  - pause: 60\n" * 800)},
         "ep.yaml:4: script: the script plans about 13:20:00 of audio; an episode may run at "
         "most 12 hours (split it into episodes)"),
    Case("text-name-with-blank-line", {"ep.yaml": "title: T\nspeakers:\n  alex:\n    name: |\n"
                                       "      Alex\n\n      Chen\n" + SCRIPT},
         "ep.yaml:4: speakers.alex.name: a name is one line; remove the line break"),
    Case("text-chapter-null", {"ep.yaml": ep(script=SCRIPT + "  - chapter:\n")},
         "ep.yaml:6: script.1.chapter: expected text, got nothing (null); put text in quotes"),
    Case("text-sounds-past-twelve-hours",
         {"ep.yaml": ep(script=SCRIPT + "  - sound: sfx/ten-minutes.flac\n" * 80),
          "sfx/ten-minutes.flac": Silence(600)},
         "ep.yaml:4: script: the script plans about 13:20:00 of audio; an episode may run at "
         "most 12 hours (split it into episodes)"),
    # --- paths
    Case("path-sound-nul-escape", {"ep.yaml": ep(script=SCRIPT + '  - sound: "sfx/a\\0.wav"\n')},
         "ep.yaml:6: script.1.sound: " + CONTROL.format(0)),
    Case("path-sound-300-characters", {"ep.yaml": ep(script=SCRIPT + f"  - sound: {LONG}.wav\n")},
         f"ep.yaml:6: script.1.sound: the file name is too long: {LONG[:79]}…"),
    Case("path-cover-300-characters", {"ep.yaml": ep(f"cover: art/{LONG}.png\n")},
         f"ep.yaml:4: cover: the file name is too long: art/{LONG[:75]}…"),
    Case("path-extends-300-characters", {"ep.yaml": f"extends: {LONG}.yaml\n" + ep()},
         f"ep.yaml:1: extends: the file name is too long: {LONG[:79]}…"),
    Case("path-sound-symlink-loop", {"ep.yaml": ep(script=SCRIPT + "  - sound: sfx/loop.wav\n"),
                                     "sfx/loop.wav": Link("loop.wav")},
         "ep.yaml:6: script.1.sound: the path is a symbolic link loop: sfx/loop.wav"),
    Case("path-cover-symlink-loop", {"ep.yaml": ep("cover: art/a.png\n"),
                                     "art/a.png": Link("b.png"), "art/b.png": Link("a.png")},
         "ep.yaml:4: cover: the path is a symbolic link loop: art/a.png"),
    Case("path-extends-symlink-loop", {"ep.yaml": "extends: show.yaml\n" + ep(),
                                       "show.yaml": Link("show.yaml")},
         "ep.yaml:1: extends: the path is a symbolic link loop: show.yaml"),
    Case("path-episode-symlink-loop", {"loop.yaml": Link("loop.yaml")},
         "loop.yaml:1: file: the path is a symbolic link loop", ("build", "loop.yaml")),
    Case("path-episode-fifo", {"fifo.yaml": Fifo()},
         "fifo.yaml:1: file: not a regular file: it is a named pipe (FIFO)",
         ("build", "fifo.yaml")),
    Case("path-episode-name-300-characters", {},
         f"{LONG}.yaml:1: file: the file name is too long", ("build", f"{LONG}.yaml")),
    Case("path-sound-fifo", {"ep.yaml": ep(script=SCRIPT + "  - sound: sfx/pipe.wav\n"),
                             "sfx/pipe.wav": Fifo()},
         "ep.yaml:6: script.1.sound: not a regular file (a named pipe (FIFO)): sfx/pipe.wav"),
    Case("path-cover-fifo", {"ep.yaml": ep("cover: art/pipe.png\n"), "art/pipe.png": Fifo()},
         "ep.yaml:4: cover: not a regular file (a named pipe (FIFO)): art/pipe.png"),
    Case("path-extends-fifo", {"ep.yaml": "extends: show.yaml\n" + ep(), "show.yaml": Fifo()},
         "ep.yaml:1: extends: not a regular file (a named pipe (FIFO)): show.yaml"),
    Case("path-sound-folder", {"ep.yaml": ep(script=SCRIPT + "  - sound: sfx\n")},
         "ep.yaml:6: script.1.sound: not a regular file (a folder): sfx"),
    Case("path-intro-device", {"ep.yaml": ep("production: {intro: /dev/zero}\n")},
         "ep.yaml:4: production.intro: not a regular file (a device): /dev/zero",
         ("build", "ep.yaml", "--allow-outside")),
    Case("path-sound-outside", {"ep.yaml": ep(script=SCRIPT + "  - sound: /etc/hostname\n")},
         "ep.yaml:6: script.1.sound: path is outside the project; move the file into the "
         "project or pass --allow-outside"),
    Case("path-sound-link-out-of-project", {"ep.yaml": ep(script=SCRIPT + "  - sound: sfx/x.wav\n"),
                                            "sfx/x.wav": Link("/etc/hostname")},
         "ep.yaml:6: script.1.sound: path is outside the project; move the file into the "
         "project or pass --allow-outside"),
    Case("path-reference-missing", {"ep.yaml": ep(script=SCRIPT).replace(
        "alex: {name: Alex}", "alex: {provider: siliconflow, reference: {audio: none.wav, "
        "text: Hi.}}")},
         "ep.yaml:3: speakers.alex.reference.audio: file not found: none.wav"),
    Case("path-extends-folder", {"ep.yaml": "extends: sfx\n" + ep()},
         "ep.yaml:1: extends: not a regular file (a folder): sfx"),
    # --- files that are not what they claim
    Case("file-cover-text", {"ep.yaml": ep("cover: art/x.png\n"), "art/x.png": "not an image\n"},
         "ep.yaml:4: cover: cannot use art/x.png as a cover (it is not a PNG or JPEG image)"),
    Case("file-cover-empty", {"ep.yaml": ep("cover: art/x.png\n"), "art/x.png": b""},
         "ep.yaml:4: cover: cannot use art/x.png as a cover (it is not a PNG or JPEG image)"),
    Case("file-cover-truncated-png", {"ep.yaml": ep("cover: art/x.png\n"),
                                      "art/x.png": GOOD_PNG[: len(GOOD_PNG) // 2]},
         "ep.yaml:4: cover: cannot use art/x.png as a cover (the image is truncated or damaged: "
         "Truncated File Read)"),
    Case("file-cover-truncated-jpeg", {"ep.yaml": ep("cover: art/x.jpg\n"),
                                       "art/x.jpg": image(64, 64, "JPEG")[:300]},
         "ep.yaml:4: cover: cannot use art/x.jpg as a cover (the image is truncated or damaged: "
         "Truncated File Read)"),
    Case("file-cover-gif", {"ep.yaml": ep("cover: art/x.gif\n"), "art/x.gif": image(64, 64, "GIF")},
         "ep.yaml:4: cover: cannot use art/x.gif as a cover (it is a GIF image; covers are PNG or "
         "JPEG)"),
    Case("file-cover-not-identifiable", {"ep.yaml": ep("cover: art/x.png\n"),
                                         "art/x.png": b"GIF89a" + bytes(16)},
         "ep.yaml:4: cover: cannot use art/x.png as a cover (it is not a PNG or JPEG image)"),
    Case("file-cover-jpeg-named-png", {"ep.yaml": ep("cover: art/x.png\n"),
                                       "art/x.png": image(64, 64, "JPEG")},
         "ep.yaml:4: cover: cannot use art/x.png as a cover (it is a JPEG image; name it .jpg)"),
    Case("file-cover-too-small", {"ep.yaml": ep("cover: art/x.png\n"), "art/x.png": image(8, 8)},
         "ep.yaml:4: cover: cannot use art/x.png as a cover (the image is 8×8 pixels; covers are "
         "16 to 8192 pixels a side)"),
    Case("file-cover-too-wide", {"ep.yaml": ep("cover: art/x.png\n"), "art/x.png": image(9000, 16)},
         "ep.yaml:4: cover: cannot use art/x.png as a cover (the image is 9000×16 pixels; covers "
         "are 16 to 8192 pixels a side)"),
    Case("file-feed-image-text", {"ep.yaml": ep("feed: {image: art/x.png}\n"), "art/x.png": "no"},
         "ep.yaml:4: feed.image: cannot use art/x.png as a cover (it is not a PNG or JPEG image)"),
    Case("file-sound-text", {"ep.yaml": ep(script=SCRIPT + "  - sound: sfx/x.wav\n"),
                             "sfx/x.wav": "this is not audio\n"},
         "ep.yaml:6: script.1.sound: cannot use sfx/x.wav as audio (Invalid data found when "
         "processing input)"),
    Case("file-sound-empty", {"ep.yaml": ep(script=SCRIPT + "  - sound: sfx/x.wav\n"),
                              "sfx/x.wav": b""},
         "ep.yaml:6: script.1.sound: cannot use sfx/x.wav as audio (the file is empty)"),
    Case("file-sound-is-an-image", {"ep.yaml": ep(script=SCRIPT + "  - sound: sfx/x.wav\n"),
                                    "sfx/x.wav": GOOD_PNG},
         "ep.yaml:6: script.1.sound: cannot use sfx/x.wav as audio (it has no audio stream)"),
    Case("file-intro-header-only", {"ep.yaml": ep("production: {intro: sfx/x.wav}\n"),
                                    "sfx/x.wav": WAV_HEADER_ONLY},
         "ep.yaml:4: production.intro: cannot use sfx/x.wav as audio (it holds no audio)"),
    Case("file-bed-text", {"ep.yaml": ep("production:\n  bed: {file: sfx/x.flac, level: -20}\n"),
                           "sfx/x.flac": "fLaC but not really\n"},
         "ep.yaml:5: production.bed.file: cannot use sfx/x.flac as audio (Invalid data found "
         "when processing input)"),
    Case("file-reference-text", {"ep.yaml": ep(script=SCRIPT).replace(
        "alex: {name: Alex}", "alex: {provider: siliconflow, reference: {audio: v.wav, text: "
        "Hi.}}"), "v.wav": "not a recording\n"},
         "ep.yaml:3: speakers.alex.reference.audio: cannot use v.wav as audio (Invalid data "
         "found when processing input)"),
    # --- show files, template data and podcastgen.yaml go through the same loader
    Case("show-merge-key", {"ep.yaml": "extends: show.yaml\n" + ep(),
                            "show.yaml": "base: &b {gap: 1}\nproduction:\n  <<: *b\n"},
         "show.yaml:3: production." + MERGE),
    Case("show-alias-bomb", {"ep.yaml": "extends: show.yaml\n" + ep(), "show.yaml": bomb(9)},
         "show.yaml:2: lol.a4.0.2.0.8.3: " + BOMB),
    Case("show-control-character", {"ep.yaml": "extends: show.yaml\n" + ep(),
                                    "show.yaml": "show: a\x00b\n"},
         "show.yaml:1: " + RAW.format(0)),
    Case("show-too-deep", {"ep.yaml": "extends: show.yaml\n" + ep(),
                           "show.yaml": "x: " + "[" * 500 + "]" * 500 + "\n"},
         "show.yaml:1: " + TOO_DEEP),
    Case("show-bad-date", {"ep.yaml": "extends: show.yaml\n" + ep(),
                           "show.yaml": "date: 2026-02-30\n"},
         "show.yaml:1: date: 2026-02-30 is not a day on the calendar"),
    Case("data-alias-bomb", {"ep.yaml.j2": TEMPLATE, "show.yaml": SHOW,
                             "ep.data.yaml": "title: T\n" + bomb(9)},
         "ep.data.yaml:3: lol.a4.0.2.0.8.4: " + BOMB, ("build", "ep.yaml.j2")),
    Case("data-too-deep", {"ep.yaml.j2": TEMPLATE, "show.yaml": SHOW,
                           "ep.data.yaml": "title: " + "[" * 500 + "]" * 500 + "\n"},
         "ep.data.yaml:1: data: nested more than 64 levels deep", ("build", "ep.yaml.j2")),
    Case("data-control-character", {"ep.yaml.j2": TEMPLATE, "show.yaml": SHOW,
                                    "ep.data.yaml": "title: a\x07b\n"},
         "ep.data.yaml:1: data: the control character U+0007 cannot appear in a YAML file; "
         "remove it", ("build", "ep.yaml.j2")),
    Case("data-custom-tag", {"ep.yaml.j2": TEMPLATE, "show.yaml": SHOW,
                             "ep.data.yaml": "title: !!python/name:os.system x\n"},
         "ep.data.yaml:1: title: " + TAG.format("!!python/name:os.system"),
         ("build", "ep.yaml.j2")),
    Case("data-json-5000-digits", {"ep.yaml.j2": TEMPLATE, "show.yaml": SHOW,
                                   "ep.data.json": '{"title": ' + "1" * 5000 + "}"},
         "ep.data.json:1: data: cannot read the JSON: Exceeds the limit (4300 digits) for "
         "integer string conversion: value has 5000 digits; use sys.set_int_max_str_digits() "
         "to increase the limit", ("build", "ep.yaml.j2")),
    Case("data-json-too-deep", {"ep.yaml.j2": TEMPLATE, "show.yaml": SHOW,
                                "ep.data.json": '{"title": ' + "[" * 100_000 + "]" * 100_000
                                + "}"},
         "ep.data.json:1: data: cannot read the JSON: nested too deeply",
         ("build", "ep.yaml.j2")),
    Case("data-fifo", {"ep.yaml.j2": TEMPLATE, "show.yaml": SHOW, "ep.data.yaml": Fifo()},
         "ep.data.yaml:1: data: not a regular file: it is a named pipe (FIFO)",
         ("build", "ep.yaml.j2")),
    Case("data-template-includes-a-fifo",
         {"ep.yaml.j2": "{% include 'part.j2' %}\n", "part.j2": Fifo()},
         "ep.yaml.j2:1: template: cannot include part.j2: not a regular file: it is a named "
         "pipe (FIFO)", ("build", "ep.yaml.j2")),
    Case("config-alias-bomb", {"ep.yaml": ep(), "podcastgen.yaml": bomb(9)},
         "podcastgen.yaml:2: lol.a4.0.2.0.8.3: " + BOMB),
    Case("config-merge-key", {"ep.yaml": ep(), "podcastgen.yaml": "providers:\n  <<: {}\n"},
         "podcastgen.yaml:2: providers." + MERGE),
    Case("config-5000-digits", {"ep.yaml": ep(),
                                "podcastgen.yaml": "providers:\n  openai: {timeout: " + "9" * 5000
                                + "}\n"},
         "podcastgen.yaml:2: providers.openai.timeout: a number of 5000 characters is too long "
         "(at most 100)"),
    Case("config-fifo", {"ep.yaml": ep(), "podcastgen.yaml": Fifo()},
         "podcastgen.yaml:1: file: not a regular file: it is a named pipe (FIFO)"),
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "show"
    (root / "art").mkdir(parents=True)
    (root / "podcastgen.yaml").write_text("# project marker\n")
    tone(root / "sfx" / "ok.wav")
    (root / "art" / "ok.png").write_bytes(GOOD_PNG)
    monkeypatch.chdir(root)
    return root


def write(root: Path, files: dict[str, str | bytes | Fifo | Link | Folder | Silence]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        if isinstance(content, Fifo):
            os.mkfifo(path)
        elif isinstance(content, Link):
            path.symlink_to(content.target)
        elif isinstance(content, Folder):
            path.mkdir()
        elif isinstance(content, Silence):
            ffmpeg.run(["-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", str(content.seconds),
                        "-c:a", "flac", str(path)])
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def snapshot(root: Path) -> dict[str, int]:
    """Every path under `root` with its size (-1 for what is not a regular file)."""
    return {str(p.relative_to(root)): p.lstat().st_size if p.is_file() and not p.is_symlink()
            else -1 for p in root.rglob("*")}


@contextlib.contextmanager
def time_bound(seconds: float) -> Iterator[None]:
    """Fail instead of hanging: an alarm interrupts whatever blocks past `seconds`."""
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_the_corpus_covers_every_kind_with_at_least_a_hundred_inputs() -> None:
    kinds = {case.id.split("-")[0] for case in CASES}
    assert kinds == {"yaml", "alias", "depth", "number", "date", "empty", "text", "path", "file",
                     "show", "data", "config"}
    assert len(CASES) >= 100 and len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_malformed_input_is_one_line_exit_2_and_nothing_written(
        project: Path, capsys: pytest.CaptureFixture[str], case: Case) -> None:
    write(project, case.files)
    before = snapshot(project)
    started = time.monotonic()
    with time_bound(TIME_BOUND_S):
        code = main(list(case.args))
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    assert (code, err.splitlines()) == (2, [case.expected])
    assert "Traceback" not in err + out
    assert snapshot(project) == before  # nothing written, not even an empty build folder
    assert elapsed < TIME_BOUND_S


SUBPROCESS = ["yaml-raw-bel-in-title", "yaml-merge-key", "yaml-tag-custom",
              "alias-bomb-nine-levels-unknown-key", "alias-bomb-in-script", "depth-500-brackets",
              "depth-600-mappings", "number-400-digit-gap", "number-5000-digits", "date-month-13",
              "text-lone-surrogate", "path-episode-fifo", "path-sound-symlink-loop",
              "file-cover-truncated-png", "data-json-too-deep"]


@pytest.mark.parametrize("name", SUBPROCESS)
def test_malformed_input_through_the_console_command(project: Path, name: str) -> None:
    case = next(c for c in CASES if c.id == name)
    write(project, case.files)
    before = snapshot(project)
    proc = subprocess.run([sys.executable, "-m", "podcastgen", *case.args], capture_output=True,
                          text=True, timeout=60)
    assert (proc.returncode, proc.stderr, proc.stdout) == (2, case.expected + "\n", "")
    assert snapshot(project) == before


@pytest.mark.parametrize("name", ["alias-bomb-nine-levels-unknown-key", "path-episode-fifo",
                                  "date-february-30-quoted", "file-sound-text",
                                  "text-seventeen-hours-planned"])
def test_check_and_dry_run_refuse_the_same_input(
        project: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    case = next(c for c in CASES if c.id == name)
    write(project, case.files)
    before = snapshot(project)
    with time_bound(TIME_BOUND_S):
        assert main(["check", *case.args[1:]]) == 2
        error, *warnings = capsys.readouterr().out.splitlines()  # check shows warnings too
        assert error == case.expected and all(": warning: " in w for w in warnings)
        assert main([*case.args, "--dry-run"]) == 2
    assert capsys.readouterr().err.splitlines() == [case.expected]
    assert snapshot(project) == before


@pytest.mark.parametrize("name", ["file-cover-truncated-png", "file-sound-text",
                                  "date-february-30-quoted", "text-lone-surrogate"])
def test_bad_input_stops_a_cloud_build_before_any_request(
        cloud: Emulator, capsys: pytest.CaptureFixture[str], name: str) -> None:
    case = next(c for c in CASES if c.id == name)
    tone(Path("sfx/ok.wav"))
    files = {k: v.replace("alex: {name: Alex}", "alex: {provider: openai, voice: onyx}")
             if isinstance(v, str) else v for k, v in case.files.items()}
    write(Path.cwd(), files)
    assert main(list(case.args)) == 2
    assert capsys.readouterr().err.splitlines() == [case.expected]
    assert len(cloud.log) == 0
