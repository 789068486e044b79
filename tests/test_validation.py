"""Malformed episodes: each gives one exact `path:line: key: message` line, exit 2, no output."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from podcastgen.cli import main

from .helpers import tone

HEADER = """\
title: Test episode
speakers:
  alex: {name: Alex}
  anna: {name: Anna}
"""
SCRIPT = """\
script:
  - alex: Hello there.
  - anna: Hi, Alex.
"""
DIRS = "directives: chapter, pause, sound"

CASES = [
    # (id, episode text, expected error line)
    ("yaml-syntax", "title: [unclosed\n" + HEADER[20:] + SCRIPT,
     "ep.yaml:2: yaml: YAML syntax error: expected ',' or ']', but got ':'"),
    ("yaml-tab", HEADER + "script:\n\t- alex: Hi\n",
     "ep.yaml:6: yaml: YAML syntax error: found character '\\t' that cannot start any token"),
    ("unknown-speaker", HEADER + SCRIPT + "  - bob: Who am I?\n",
     f"ep.yaml:8: script.2.bob: unknown speaker or directive 'bob'; speakers: alex, anna; {DIRS}"),
    ("speaker-typo", HEADER + SCRIPT + "  - alx: Typo here.\n",
     "ep.yaml:8: script.2.alx: unknown speaker or directive 'alx'; did you mean 'alex'?"),
    ("unknown-directive", HEADER + SCRIPT + "  - music: bed.mp3\n",
     f"ep.yaml:8: script.2.music: unknown speaker or directive 'music'; speakers: alex, anna; "
     f"{DIRS}"),
    ("directive-typo", HEADER + SCRIPT + "  - chapters: Intro\n",
     "ep.yaml:8: script.2.chapters: unknown speaker or directive 'chapters'; "
     "did you mean 'chapter'?"),
    ("key-typo", HEADER + "descripton: Oops\n" + SCRIPT,
     "ep.yaml:5: descripton: unknown key; did you mean 'description'?"),
    ("nested-key-typo", HEADER + "production:\n  loudnes: -16\n" + SCRIPT,
     "ep.yaml:6: production.loudnes: unknown key; did you mean 'loudness'?"),
    ("unknown-key", HEADER + "colour: blue\n" + SCRIPT,
     "ep.yaml:5: colour: unknown key; expected one of: title, show, number, season, date, "
     "language, authors, description, cover, explicit, category, website, speakers, synthesis, "
     "production, output, script, providers, feed"),
    ("number-as-text", HEADER + "number: one\n" + SCRIPT,
     "ep.yaml:5: number: expected a whole number, got text ('one')"),
    ("gap-as-text", HEADER + "production: {gap: short}\n" + SCRIPT,
     "ep.yaml:5: production.gap: expected a number, got text ('short')"),
    ("turn-text-bool", HEADER + "script:\n  - alex: yes\n",
     "ep.yaml:6: script.0.alex: expected text, got true/false (true); put text in quotes"),
    ("speakers-list", "title: T\nspeakers: [alex, anna]\n" + SCRIPT,
     "ep.yaml:2: speakers: expected a mapping of speaker ids to speakers, got a list"),
    ("missing-sound", HEADER + SCRIPT + "  - sound: sfx/missing.wav\n",
     "ep.yaml:8: script.2.sound: file not found: sfx/missing.wav"),
    ("missing-cover", HEADER + "cover: art/none.png\n" + SCRIPT,
     "ep.yaml:5: cover: file not found: art/none.png"),
    ("gap-negative", HEADER + "production:\n  gap: -1\n" + SCRIPT,
     "ep.yaml:6: production.gap: must be between 0 and 10, got -1"),
    ("loudness-range", HEADER + "production:\n  loudness: 3\n" + SCRIPT,
     "ep.yaml:6: production.loudness: must be between -40 and -5, got 3"),
    ("speed-range", HEADER + "script:\n  - alex:\n      text: Fast.\n      speed: 9\n",
     "ep.yaml:8: script.0.alex.speed: must be between 0.25 and 4, got 9"),
    ("pause-range", HEADER + SCRIPT + "  - pause: 0\n",
     "ep.yaml:8: script.2.pause: must be between 0.01 and 60, got 0"),
    ("pause-text", HEADER + SCRIPT + "  - pause: long\n",
     "ep.yaml:8: script.2.pause: expected a number, got text ('long')"),
    ("outside-project", HEADER + "cover: ../outside.png\n" + SCRIPT,
     "ep.yaml:5: cover: path is outside the project; move the file into the project or pass "
     "--allow-outside"),
    ("two-keys", HEADER + SCRIPT + "  - {alex: One, anna: Two}\n",
     "ep.yaml:8: script.2: a script item has exactly one key (a speaker id, chapter, pause or "
     "sound), got 2 keys: alex, anna"),
    ("bare-string-item", HEADER + SCRIPT + "  - Just some text\n",
     "ep.yaml:8: script.2: a script item has exactly one key (a speaker id, chapter, pause or "
     "sound), got text ('Just some text')"),
    ("long-turn-no-text", HEADER + "script:\n  - alex:\n      speed: 1.1\n",
     "ep.yaml:6: script.0.alex.text: missing required key"),
    ("missing-title", HEADER[20:] + SCRIPT,
     "ep.yaml:1: title: missing required key"),
    ("empty-script", HEADER + "script: []\n",
     "ep.yaml:5: script: is empty; add at least one turn, e.g. `- alex: Hello`"),
    ("duplicate-key", HEADER + "title: Again\n" + SCRIPT,
     "ep.yaml:5: title: duplicate key; each key may appear once"),
    ("bad-speaker-id", HEADER + "  Bob: {name: Bob}\n" + SCRIPT,
     "ep.yaml:5: speakers.Bob: speaker ids are lower-case names like 'alex' or 'host-2' "
     "(letters, digits, - and _) and may not be chapter, pause or sound"),
    ("unknown-local-voice", HEADER + "  carl: {voice: robot}\n" + SCRIPT,
     "ep.yaml:5: speakers.carl.voice: unknown local voice 'robot'; local voices: joe, "
     "joe-bright, joe-deep, joe-lively, joe-calm (see `podcastgen voices local`)"),
    ("bad-mode", HEADER + "synthesis: {mode: monologue}\n" + SCRIPT,
     "ep.yaml:5: synthesis.mode: must be one of: turns, dialogue; got 'monologue'"),
    ("unknown-provider", HEADER + "synthesis:\n  provider: acme\n" + SCRIPT,
     "ep.yaml:6: synthesis.provider: must be one of: local, siliconflow, openai, stepfun, coze; "
     "got 'acme'"),
    ("bad-date", HEADER + "date: 21/11/2026\n" + SCRIPT,
     "ep.yaml:5: date: expected a date as YYYY-MM-DD, got '21/11/2026'"),
    ("bad-bitrate", HEADER + "output: {bitrate: loud}\n" + SCRIPT,
     "ep.yaml:5: output.bitrate: expected a bitrate like 128k (32k to 320k), got text ('loud')"),
    ("bad-sample-rate", HEADER + "output:\n  sample_rate: 12345\n" + SCRIPT,
     "ep.yaml:6: output.sample_rate: must be one of: 22050, 24000, 32000, 44100, 48000; "
     "got a number (12345)"),
    ("empty-chapter", HEADER + SCRIPT + "  - chapter: ''\n",
     "ep.yaml:8: script.2.chapter: must not be empty"),
    ("emotion-on-local", HEADER + "script:\n  - alex:\n      text: Yay.\n      emotion: happy\n",
     "ep.yaml:8: script.0.alex.emotion: the local provider does not support emotion; remove it "
     "or choose a provider that does"),
    ("extends-missing", "extends: nowhere.yaml\n" + HEADER + SCRIPT,
     "ep.yaml:1: extends: file not found: nowhere.yaml"),
    ("top-level-list", "- alex: Hello\n",
     "ep.yaml:1: file: an episode must be a mapping of keys"),
    ("cloud-without-voice", HEADER + "  wei: {provider: siliconflow}\n" + SCRIPT,
     "ep.yaml:5: speakers.wei: speakers on siliconflow need a voice or a reference clip"),
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "show"
    root.mkdir()
    (root / "podcastgen.yaml").write_text("# project marker\n")
    (tmp_path / "outside.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    monkeypatch.chdir(root)
    return root


def run_build(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = main(["build", *args])
    return code, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize("text,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_episode(project: Path, capsys: pytest.CaptureFixture[str], text: str,
                           expected: str) -> None:
    (project / "ep.yaml").write_text(text, encoding="utf-8")
    before = sorted(p.name for p in project.iterdir())
    code, lines = run_build(capsys, "ep.yaml")
    assert code == 2
    assert lines == [expected]
    assert sorted(p.name for p in project.iterdir()) == before  # nothing written


def test_every_problem_is_reported_at_once(project: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    (project / "ep.yaml").write_text(HEADER + "number: x\nproduction: {gap: -2}\n" + SCRIPT
                                     + "  - bob: Hi\n  - pause: forever\n")
    code, lines = run_build(capsys, "ep.yaml")
    assert code == 2
    assert [line.split(": ")[0] for line in lines] == [
        "ep.yaml:5", "ep.yaml:6", "ep.yaml:10", "ep.yaml:11"]


def test_error_in_show_file_names_the_show_file(project: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    (project / "show.yaml").write_text("show: My Show\nproduction:\n  true_peak: 2\n")
    (project / "ep.yaml").write_text("extends: show.yaml\n" + HEADER + SCRIPT)
    code, lines = run_build(capsys, "ep.yaml")
    assert (code, lines) == (2, ["show.yaml:3: production.true_peak: must be between -9 and 0, "
                                 "got 2"])


def test_episode_overrides_show_and_errors_point_to_the_episode(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "show.yaml").write_text("show: My Show\nproduction:\n  gap: 0.5\n  loudness: -16\n")
    (project / "ep.yaml").write_text(
        "extends: show.yaml\n" + HEADER + "production:\n  gap: 99\n" + SCRIPT)
    code, lines = run_build(capsys, "ep.yaml")
    assert (code, lines) == (2, ["ep.yaml:7: production.gap: must be between 0 and 10, got 99"])


def test_extends_loop(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "a.yaml").write_text("extends: b.yaml\n")
    (project / "b.yaml").write_text("extends: a.yaml\n")
    (project / "ep.yaml").write_text("extends: a.yaml\n" + HEADER + SCRIPT)
    code, lines = run_build(capsys, "ep.yaml")
    assert (code, lines) == (2, ["b.yaml:1: extends: extends forms a loop"])


def test_missing_episode_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = run_build(capsys, "nope.yaml")
    assert (code, lines) == (2, ["nope.yaml:1: file: file not found"])


def test_text_no_local_engine_speaks_warns_with_line(project: Path) -> None:
    from podcastgen.pipeline import BuildOptions, load_episode

    (project / "ep.yaml").write_text(HEADER + SCRIPT + "  - anna: 你好，Привет\n",
                                     encoding="utf-8")
    episode = load_episode(Path("ep.yaml"), BuildOptions())
    assert episode.warnings == (  # Chinese is spoken in Mandarin; Cyrillic by neither engine
        "ep.yaml:8: script.2.anna: warning: the local voices (English and Mandarin) cannot "
        "speak 'Привет'; those characters are left out (use a cloud provider for this text)",)


def test_draft_moves_cloud_speakers_to_distinct_local_voices(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from podcastgen.pipeline import BuildOptions, load_episode

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("SILICONFLOW_API_KEY", raising=False)

    tone(project / "voice.wav")
    (project / "ep.yaml").write_text(textwrap.dedent("""\
        title: Draft
        speakers:
          alex: {voice: joe-calm}
          anna: {provider: openai, voice: nova, model: gpt-4o-mini-tts}
          wei:
            provider: siliconflow
            reference: {audio: voice.wav, text: Hello.}
        script:
          - alex: One.
          - anna:
              text: Two.
              instruction: cheerful
          - wei: Three.
        providers: {openai: {models: {gpt-4o-mini-tts: {instructions: true}}}}
        """))
    with pytest.raises(Exception, match="^ep.yaml: openai and siliconflow need API keys: set "
                       "OPENAI_API_KEY and SILICONFLOW_API_KEY in the environment"):
        load_episode(Path("ep.yaml"), BuildOptions())
    episode = load_episode(Path("ep.yaml"), BuildOptions(draft=True))
    voices = {sid: (s.provider, s.voice) for sid, s in episode.speakers.items()}
    assert voices == {"alex": ("local", "joe-calm"), "anna": ("local", "joe"),
                      "wei": ("local", "joe-bright")}
    assert episode.warnings == ("ep.yaml:12: script.1.anna.instruction: warning: instruction is "
                                "ignored by the local voices of --draft",)


TEMPLATES = Path(__file__).parent.parent / "templates"


@pytest.mark.parametrize("template", sorted(p for p in TEMPLATES.glob("*.yaml")
                                            if not p.name.endswith(".data.yaml")),
                         ids=lambda p: p.name)
def test_shipped_templates_validate_beside_the_example_show(template: Path,
                                                          tmp_path: Path) -> None:
    import shutil

    from podcastgen.pipeline import BuildOptions, load_episode

    shows = Path(__file__).parent.parent / "episodes"
    shutil.copytree(shows, tmp_path / "episodes", ignore=shutil.ignore_patterns("build"))
    (tmp_path / "podcastgen.yaml").write_text("")
    target = tmp_path / "episodes" / template.name
    shutil.copy(template, target)
    episode = load_episode(target, BuildOptions())
    assert episode.meta.show == "Signal and Noise" and episode.warnings == ()


PRODUCTION_CASES = [
    ("bed-key-typo", "production:\n  bed: {file: music/bed.flac, duk: 12}\n",
     "ep.yaml:6: production.bed.duk: unknown key; did you mean 'duck'?"),
    ("bed-duck-range", "production:\n  bed: {file: music/bed.flac, duck: 50}\n",
     "ep.yaml:6: production.bed.duck: must be between 0 and 40, got 50"),
    ("bed-without-file", "production:\n  bed:\n    level: -20\n",
     "ep.yaml:6: production.bed.file: missing required key"),
    ("bed-file-missing", "production:\n  bed: music/none.flac\n",
     "ep.yaml:6: production.bed: file not found: music/none.flac"),
    ("bed-number", "production:\n  bed: 3\n",
     "ep.yaml:6: production.bed: expected a file or a mapping with file: and level, duck, gain, "
     "fade_in, fade_out, attack, release; got a number (3)"),
    ("bed-attack-zero", "production:\n  bed:\n    file: music/bed.flac\n    attack: 0\n",
     "ep.yaml:8: production.bed.attack: must be between 0.01 and 5, got 0"),
    ("intro-crossfade-text", "production:\n  intro: {file: music/intro.flac, crossfade: long}\n",
     "ep.yaml:6: production.intro.crossfade: expected a number, got text ('long')"),
    ("outro-gain-range", "production:\n  outro: {file: music/intro.flac, gain: 30}\n",
     "ep.yaml:6: production.outro.gain: must be between -40 and 20, got 30"),
    ("sound-gain-text", SCRIPT + "  - sound: {file: music/bed.flac, gain: loud}\n",
     "ep.yaml:8: script.2.sound.gain: expected a number, got text ('loud')"),
    ("sound-without-file", SCRIPT + "  - sound: {gain: -3}\n",
     "ep.yaml:8: script.2.sound.file: missing required key"),
    ("sound-list", SCRIPT + "  - sound: [sfx/a.wav, sfx/b.wav]\n",
     "ep.yaml:8: script.2.sound: expected a file or a mapping with file: and gain; got a list"),
    ("format-unknown", "output: {formats: [mp3, ogg]}\n",
     "ep.yaml:5: output.formats.1: must be one of: mp3, m4a, opus, flac, wav; got 'ogg'"),
    ("formats-empty", "output:\n  formats: []\n",
     "ep.yaml:6: output.formats: name at least one format, e.g. [mp3]"),
    ("channels", "output:\n  channels: 6\n",
     "ep.yaml:6: output.channels: must be one of: 1, 2; got a number (6)"),
    ("transcript-kind", "output:\n  transcript: [vtt, txt]\n",
     "ep.yaml:6: output.transcript.1: must be one of: vtt, srt, json; got 'txt'"),
    ("show-notes-text", "output:\n  show_notes: yes please\n",
     "ep.yaml:6: output.show_notes: expected true, false or a mapping with markdown: and html: "
     "templates; got text ('yes please')"),
    ("show-notes-missing", "output:\n  show_notes: {html: none.html.j2}\n",
     "ep.yaml:6: output.show_notes.html: file not found: none.html.j2"),
    ("feed-email", "feed:\n  email: nobody\n",
     "ep.yaml:6: feed.email: expected an e-mail address like host@example.org, got 'nobody'"),
    ("feed-type", "feed: {type: daily}\n",
     "ep.yaml:5: feed.type: must be one of: episodic, serial; got 'daily'"),
    ("feed-episode-type", "feed: {episode_type: teaser}\n",
     "ep.yaml:5: feed.episode_type: must be one of: full, trailer, bonus; got 'teaser'"),
    ("template-syntax", "output:\n  show_notes: {markdown: notes.md.j2}\n",
     "notes.md.j2:2: template error: syntax error: unexpected end of template, expected "
     "'end of print statement'."),
    ("template-undefined", "output:\n  show_notes: {html: page.html.j2}\n",
     "page.html.j2:2: template error: 'dict object' has no attribute 'subtitle'"),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in PRODUCTION_CASES],
                         ids=[c[0] for c in PRODUCTION_CASES])
def test_malformed_production_output_or_feed(project: Path, capsys: pytest.CaptureFixture[str],
                                             text: str, expected: str) -> None:
    for name in ("bed.flac", "intro.flac"):
        tone(project / "music" / name)  # a WAV under that name: ffmpeg reads it by content
    (project / "notes.md.j2").write_text("# {{ episode.title }}\n{{ episode.show \n")
    (project / "page.html.j2").write_text("<h1>{{ episode.title }}</h1>\n"
                                          "<p>{{ episode.subtitle }}</p>\n")
    body = text if text.startswith(SCRIPT) else text + SCRIPT
    (project / "ep.yaml").write_text(HEADER + body, encoding="utf-8")
    before = sorted(p.name for p in project.iterdir())
    code, lines = run_build(capsys, "ep.yaml")
    assert (code, lines) == (2, [expected])
    assert sorted(p.name for p in project.iterdir()) == before  # nothing written


def test_a_long_turn_is_a_warning_long_before_it_is_refused(project: Path) -> None:
    from podcastgen.pipeline import BuildOptions, load_episode

    (project / "ep.yaml").write_text(HEADER + "script:\n  - alex: " + "word " * 500 + "\n")
    episode = load_episode(Path("ep.yaml"), BuildOptions())
    assert episode.warnings == (
        "ep.yaml:6: script.0.alex: warning: turn is 2,499 characters (about 2:58 of speech); "
        "consider splitting it (turns are refused from 10,000)",)
