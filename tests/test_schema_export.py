"""`podcastgen schema`: a JSON Schema that editors can trust — it accepts every example episode,
rejects the malformed ones it can see, and has exactly the keys the validator accepts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from podcastgen import schema as checker_module
from podcastgen import source
from podcastgen.cli import main
from podcastgen.episode import validate
from podcastgen.schema_export import episode_schema
from podcastgen.template_data import TemplateInput
from podcastgen.templating import render

from .helpers import tone
from .test_validation import CASES

ROOT = Path(__file__).resolve().parent.parent
# Malformed cases a schema cannot see, and why (the README lists the same):
CROSS_CHECKS = {
    "unknown-speaker": "script turns name speakers declared elsewhere in the file",
    "speaker-typo": "same", "unknown-directive": "same", "directive-typo": "same",
    "missing-sound": "files must exist", "missing-cover": "files must exist",
    "outside-project": "paths must stay inside the project",
    "extends-missing": "files must exist",
    "unknown-local-voice": "the provider is inherited from synthesis.provider's default",
    "emotion-on-local": "what a provider supports lives in the provider",
    "duplicate-key": "YAML loaders keep the last value (editors flag duplicates themselves)",
}
NOT_YAML = {"yaml-syntax", "yaml-tab"}  # rejected by any YAML parser before a schema


def plain(value: Any) -> Any:
    """YAML as an editor sees it: dates stay text, as they do in podcastgen's loader."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def errors(schema: dict, data: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return [e.message for e in validator.iter_errors(data)]


@pytest.fixture(scope="module")
def schema() -> dict:
    jsonschema.Draft202012Validator.check_schema(episode_schema())
    return episode_schema()


def test_cli_prints_the_schema(capsys: pytest.CaptureFixture[str], schema: dict) -> None:
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_example_episode_is_valid(schema: dict) -> None:
    examples = [ROOT / "episodes" / "welcome.yaml", ROOT / "templates" / "two-hosts.yaml"]
    for path in examples:
        assert errors(schema, plain(yaml.safe_load(path.read_text()))) == [], path
    show = plain(yaml.safe_load((ROOT / "episodes" / "show.yaml").read_text()))
    assert errors(episode_schema(show=True), show) == []
    merged = source.load(examples[0], ROOT).data
    assert errors(schema, merged) == []


@pytest.mark.parametrize("name", ["interview", "news-roundup", "solo"])
def test_every_rendered_template_is_valid(schema: dict, name: str) -> None:
    rendered = render(ROOT / "templates" / f"{name}.yaml.j2", TemplateInput(), ROOT)
    assert errors(schema, plain(yaml.safe_load(rendered.text))) == []


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_malformed_episodes_are_rejected_unless_only_a_cross_check_can_tell(
        schema: dict, case: tuple[str, str, str]) -> None:
    name, text, _ = case
    try:
        data = plain(yaml.safe_load(text))
    except yaml.YAMLError:
        assert name in NOT_YAML
        return
    assert name not in NOT_YAML
    found = errors(schema, data)
    if name in CROSS_CHECKS:
        assert found == [], f"{name} is listed as beyond the schema but it catches it"
    else:
        assert found, f"{name} passes the schema"


def validate_project(root: Path, episode: str) -> None:
    """Validate `episode` as ep.yaml in a project at `root` that has a clip.wav."""
    (root / "podcastgen.yaml").write_text("")
    tone(root / "clip.wav")
    (root / "ep.yaml").write_text(episode)
    validate(source.load(root / "ep.yaml", root), root)


def test_the_schema_has_exactly_the_keys_the_validator_accepts(
        tmp_path: Path, schema: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Spy on every mapping the validator checks and compare its keys with the schema's."""
    seen: dict[tuple, tuple] = {}
    real = checker_module.Checker.mapping

    def spy(self: Any, key: tuple, value: Any, allowed: Any, required: Any = ()) -> Any:
        wild = {"speakers": (1,), "script": (1,)}.get(key[0] if key else "", ())
        shape = tuple("*" if i in wild else k for i, k in enumerate(key))
        seen[shape] = tuple(allowed)
        return real(self, key, value, allowed, required)

    monkeypatch.setattr(checker_module.Checker, "mapping", spy)
    validate_project(tmp_path, (
        "title: T\nsynthesis: {provider: local}\noutput: {bitrate: 96k}\n"
        "production: {gap: 0.3, intro: {file: clip.wav}, bed: {file: clip.wav}}\n"
        "providers: {openai: {}}\nspeakers:\n  a: {reference: {audio: clip.wav, text: Hi.}}\n"
        "script:\n  - a: {text: Hello., speed: 1.1}\n  - sound: {file: clip.wav, gain: -2}\n"))
    defs = schema["$defs"]
    expected = {
        (): [k for k in schema["properties"] if k != "extends"],
        ("synthesis",): list(defs["synthesis"]["properties"]),
        ("speakers", "*"): list(defs["speaker"]["properties"]),
        ("speakers", "*", "reference"): list(defs["reference"]["properties"]),
        ("production",): list(defs["production"]["properties"]),
        ("output",): list(defs["output"]["properties"]),
        ("feed",): list(defs["feed"]["properties"]),
        ("production", "intro"): list(defs["music"]["anyOf"][1]["properties"]),
        ("production", "bed"): list(defs["bed"]["anyOf"][1]["properties"]),
        ("script", "*", "sound"): list(defs["sound"]["anyOf"][1]["properties"]),
        ("script", "*", "a"): list(defs["turn"]["anyOf"][1]["properties"]),
        ("providers",): schema["properties"]["providers"]["propertyNames"]["enum"],
        ("providers", "openai"): list(defs["openai_config"]["properties"]),
    }
    assert {k: sorted(v) for k, v in seen.items()} == {k: sorted(v) for k, v in expected.items()}


def _at(schema: dict, node: dict, path: tuple) -> dict:
    """The sub-schema an editor applies at `path` (refs followed, the mapping form of a
    file-or-mapping taken, script items' directives and turns told apart)."""
    for step in path:
        while "$ref" in node or "anyOf" in node:
            if "$ref" in node:
                node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
            else:
                node = next(b for b in node["anyOf"] if "properties" in b or "items" in b)
        if isinstance(step, int):
            node = node["items"]
        else:
            node = node.get("properties", {}).get(step) or node["additionalProperties"]
    return node


def test_the_schema_allows_exactly_the_numbers_and_choices_the_validator_does(
        tmp_path: Path, schema: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Spy on every range and choice the validator checks, and find the same bounds or the
    same options where the schema describes that key."""
    ranges: dict[tuple, tuple] = {}
    choices: dict[tuple, list] = {}
    real_number, real_choice = checker_module.Checker.number, checker_module.Checker.choice

    def number(self: Any, key: tuple, value: Any, lo: float, hi: float,
               integer: bool = False) -> Any:
        ranges[key] = (lo, hi, integer)
        return real_number(self, key, value, lo, hi, integer)

    def choice(self: Any, key: tuple, value: Any, options: Any) -> Any:
        choices[key] = list(options)
        return real_choice(self, key, value, options)

    monkeypatch.setattr(checker_module.Checker, "number", number)
    monkeypatch.setattr(checker_module.Checker, "choice", choice)
    validate_project(tmp_path, (
        "title: T\nnumber: 3\nseason: 1\nsynthesis: {provider: local, speed: 1, "
        "block_seconds: 90}\noutput: {sample_rate: 44100, channels: 1}\n"
        "production: {gap: 0.3, loudness: -16, true_peak: -1,\n"
        "  intro: {file: clip.wav, gain: 0, fade_in: 1, fade_out: 1, crossfade: 1},\n"
        "  bed: {file: clip.wav, level: -24, duck: 12, gain: 0, fade_in: 1, fade_out: 1, "
        "attack: 0.2, release: 0.5}}\n"
        "providers: {openai: {concurrency: 4, rpm: 60, max_retries: 3, timeout: 30}}\n"
        "speakers:\n  a: {voice: joe, speed: 1.1}\n"
        "script:\n  - a: {text: Hello., speed: 1.1}\n  - pause: 1\n"
        "  - sound: {file: clip.wav, gain: -2}\n"))
    assert len(ranges) == 26 and len(choices) >= 8  # every numeric key above was checked
    for key, (lo, hi, integer) in ranges.items():
        node = _at(schema, schema, key)
        assert (node["minimum"], node["maximum"]) == (lo, hi), key
        assert node["type"] == ("integer" if integer else "number"), key
    for key, options in choices.items():
        assert _at(schema, schema, key)["enum"] == options, key
