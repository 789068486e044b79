"""docs/episode-format.md cannot drift from the code: its tables are read here and compared
with the keys the validator accepts (spied on while it checks a rich episode and project
file), with the ranges and choices of `podcastgen schema` (itself tested against the
validator), with the defaults of the records a build uses, with each provider's options,
models and speeds as the providers judge them, and with the command line's options. Its
complete example validates, and the README links it."""

from __future__ import annotations

import re
import shutil
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml

from podcastgen import config, schema, source
from podcastgen import episode as ep
from podcastgen import settings as st
from podcastgen.cli import parser
from podcastgen.model import Meta
from podcastgen.providers import KNOWN, REGISTRY, ProviderConfig, coze, stepfun
from podcastgen.providers.openai import Model
from podcastgen.schema_export import episode_schema

from .helpers import tone

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "episode-format.md").read_text("utf-8")
RANGE = re.compile(r"(-?[\d.]+) to (-?[\d.]+)")
# a mapping the validator checks, by its key path (ids, items and names as *): its table
SECTIONS = {
    (): "top", ("speakers", "*"): "speaker", ("speakers", "*", "reference"): "reference",
    ("synthesis",): "synthesis", ("production",): "production",
    ("production", "intro"): "music", ("production", "outro"): "music",
    ("production", "bed"): "bed", ("output",): "output", ("output", "show_notes"): "show_notes",
    ("feed",): "feed", ("script", "*", "sound"): "sound", ("script", "*", "*"): "turn",
    ("providers",): "provider names", ("providers", "*"): "providers",
    ("providers", "*", "models"): None,  # the service's model names: any
    ("providers", "*", "models", "*"): "openai_model",
}
# the records a build fills from each table, whose defaults the table states
RECORDS = {
    "top": Meta("", ""), "synthesis": ep.Synthesis(), "production": st.Production(),
    "music": st.Music(Path(), ""), "bed": st.Bed(Path(), ""), "output": st.Output(),
    "feed": st.Feed(), "sound": ep.Sound(Path(), ""), "providers": ProviderConfig("any"),
    "openai_model": Model("any", None), "project": config.Project(),
}


def cells(row: str) -> list[str]:
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", row.strip()[1:-1])]


def tables() -> dict[str, list[dict[str, str]]]:
    """Every table the doc marks with `<!-- name -->`, as rows of {column: cell}."""
    found = {}
    for match in re.finditer(r"<!-- ([^>]+?) -->\n((?:\|.*\|\n)+)", DOC):
        head, _, *rows = match.group(2).splitlines()
        found[match.group(1)] = [dict(zip(cells(head), cells(row))) for row in rows]
    return found


TABLES = tables()


def keyed(name: str) -> dict[str, dict[str, str]]:
    """A `keys:` or `options:` table by its first column's name."""
    rows = TABLES[name]
    first = next(iter(rows[0]))
    return {row[first].strip("`"): row for row in rows}


def ticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def test_every_table_has_the_same_columns() -> None:
    for name, rows in TABLES.items():
        if name.startswith("keys: "):
            assert all(list(r) == ["key", "type", "range", "default", "example"] for r in rows)
        if name.startswith("options: "):
            assert all(list(r) == ["option", "type", "range", "models", "example"] for r in rows)
        for row in rows:
            assert all(row.values()), (name, row)  # no empty cell


def spied_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[tuple, set[str]]:
    """Every mapping the validator checks while reading a rich episode and project file, by
    its key path with ids, items and names as *, and the keys it accepts there."""
    seen: dict[tuple, set[str]] = {}
    real = schema.Checker.mapping

    def spy(self: Any, key: tuple, value: Any, allowed: Any, required: Any = ()) -> Any:
        shape = tuple("*" if _wild(key, i) else k for i, k in enumerate(key))
        seen.setdefault((self.doc.files[0].name, shape), set()).update(allowed)
        return real(self, key, value, allowed, required)

    monkeypatch.setattr(schema.Checker, "mapping", spy)
    tone(tmp_path / "clip.wav")
    (tmp_path / "podcastgen.yaml").write_text(
        "providers: {openai: {concurrency: 2, models: {m: {sse: true}}}}\n"
        "allow_base_urls: [https://relay.example/v1]\nallow_http: false\n")
    (tmp_path / "ep.yaml").write_text(
        "title: T\nsynthesis: {provider: local}\noutput: {show_notes: {markdown: clip.wav}}\n"
        "production: {intro: {file: clip.wav}, outro: {file: clip.wav}, bed: {file: clip.wav}}\n"
        "providers: {openai: {models: {m: {instructions: true}}}}\nfeed: {type: serial}\n"
        "speakers:\n  a: {reference: {audio: clip.wav, text: Hi.}}\n"
        "script:\n  - a: {text: Hello., speed: 1.1}\n  - sound: {file: clip.wav, gain: -2}\n")
    project = config.project_config(tmp_path)
    ep.validate(source.load(tmp_path / "ep.yaml", tmp_path), tmp_path,
                project=project.providers)
    return {("project",) + shape if name == "podcastgen.yaml" else shape: keys
            for (name, shape), keys in seen.items()}


def _wild(key: tuple, i: int) -> bool:
    """Whether `key[i]` is an id, an index or a name rather than a key of the format."""
    if key[0] == "script" and i == 2:
        return key[2] not in ep.DIRECTIVES  # a turn's speaker
    return (key[0] in ("speakers", "script") and i == 1) or \
        (key[0] == "providers" and i in (1, 3))


def test_every_key_the_validator_accepts_is_in_the_doc(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen = spied_keys(monkeypatch, tmp_path)
    sections = {**SECTIONS, **{("project",) + k: v for k, v in SECTIONS.items() if k}}
    sections[("project",)] = "project"
    for shape, allowed in seen.items():
        assert shape in sections, f"the validator checks {shape}: give it a table in the doc"
        name = sections[shape]
        if name is None:
            continue
        if name == "provider names":
            documented = {r["provider"].strip("`") for r in TABLES["providers"]}
        else:
            documented = set(keyed(f"keys: {name}"))
            if name == "top":
                documented.discard("extends")  # read by the loader, before validation
        assert documented == allowed, (shape, sorted(documented ^ allowed))


def test_the_script_table_has_the_directives_and_turns() -> None:
    assert set(keyed("keys: script")) == {*ep.DIRECTIVES, "*speaker id*"}


def schema_nodes() -> dict[str, dict[str, Any]]:
    """The schema's properties for each table that has them."""
    s = episode_schema()
    d = s["$defs"]
    openai = d["openai_config"]["properties"]
    return {
        "top": s["properties"], "speaker": d["speaker"]["properties"],
        "reference": d["reference"]["properties"], "synthesis": d["synthesis"]["properties"],
        "production": d["production"]["properties"], "output": d["output"]["properties"],
        "show_notes": d["output"]["properties"]["show_notes"]["anyOf"][1]["properties"],
        "music": d["music"]["anyOf"][1]["properties"], "bed": d["bed"]["anyOf"][1]["properties"],
        "feed": d["feed"]["properties"], "sound": d["sound"]["anyOf"][1]["properties"],
        "turn": d["turn"]["anyOf"][1]["properties"], "providers": openai,
        "openai_model": openai["models"]["additionalProperties"]["anyOf"][1]["properties"],
        "script": d["script"]["items"]["properties"],
    }


@pytest.mark.parametrize("name", sorted(schema_nodes()))
def test_documented_ranges_and_choices_are_the_schemas(name: str) -> None:
    nodes = schema_nodes()[name]
    for key, row in keyed(f"keys: {name}").items():
        node = nodes.get(key, {})
        node = node.get("items", node)  # a list: the range of its items
        if "minimum" in node:
            found = RANGE.match(row["range"])
            assert found, (name, key, "give the range as `low to high`")
            assert (float(found[1]), float(found[2])) == (node["minimum"], node["maximum"]), key
        if "enum" in node:
            assert ticked(row["range"]) == [str(v) for v in node["enum"]], (name, key)


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_documented_defaults_are_the_records(name: str) -> None:
    record = RECORDS[name]
    rows = keyed(f"keys: {name}")
    for f in fields(record):
        if f.name not in rows or isinstance(getattr(record, f.name), Path):
            continue
        value = getattr(record, f.name)
        value = dict(value) if f.name == "options" else \
            list(value) if isinstance(value, tuple) else value
        cell = rows[f.name]["default"]
        literal = ticked(cell)[0] if cell.startswith("`") else None
        if value is None or value in ("", {}, []):
            assert literal is None or yaml.safe_load(literal) == value, (name, f.name, cell)
        else:
            assert literal is not None, (name, f.name, f"state the default, {value!r}")
            assert yaml.safe_load(literal) == value, (name, f.name, cell, value)


def test_every_provider_and_its_models_and_speeds() -> None:
    rows = {r["provider"].strip("`"): r for r in TABLES["providers"]}
    assert list(rows) == list(KNOWN)
    for name, cls in REGISTRY.items():
        models = [m for m in ticked(rows[name]["models (default first)"]) if m in cls.models]
        assert set(models) == set(cls.models), name
        if cls.models:
            assert models[0] == cls.default_model, name
        lo, hi = map(float, RANGE.match(rows[name]["speed"]).groups())
        assert (lo, hi) == cls.speed_range, name
        assert cls.speed_problem(lo) is None and cls.speed_problem(hi) is None
        assert cls.speed_problem(lo - 0.01) and cls.speed_problem(hi + 0.01)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_provider_option_as_the_provider_judges_it(name: str) -> None:
    cls = REGISTRY[name]
    declared = getattr(cls, "options", {})
    if not declared:
        assert f"options: {name}" not in TABLES and name == "local"
        return
    rows = keyed(f"options: {name}")
    assert list(rows) == list(declared)
    for option, opt in declared.items():
        row = rows[option]
        named = [m for m in ticked(row["models"]) if m in cls.models]
        assert named == list(opt.models), option  # none named: every model
        model = opt.models[0] if opt.models else cls.default_model
        if opt.kind == "choice":
            assert ticked(row["range"]) == [str(c) for c in opt.choices], option
        if opt.kind in ("number", "int"):
            lo, hi = map(float, RANGE.match(row["range"]).groups())
            step = 1 if opt.kind == "int" else 0.01
            lo, hi = (int(lo), int(hi)) if opt.kind == "int" else (lo, hi)
            for inside in (lo, hi):
                assert cls.option_problem(model, option, inside) is None, (option, inside)
            for outside in (lo - step, hi + step):
                assert cls.option_problem(model, option, outside), (option, outside)


def test_the_emotions_each_provider_takes() -> None:
    rows = TABLES["directions"]
    stepfun_rows = [r for r in rows if r["provider"] == "`stepfun`"]
    assert len(stepfun_rows) == 2
    named = [t for t in ticked(stepfun_rows[0]["`emotion`"]) if t in stepfun.EMOTIONS]
    assert named == list(stepfun.EMOTIONS)
    assert "、".join(stepfun.EMOTIONS.values()).replace("、", ", ") in stepfun_rows[0]["`emotion`"]
    [coze_row] = [r for r in rows if r["provider"] == "`coze`"]
    assert ticked(coze_row["`emotion`"]) == list(coze.EMOTIONS)
    assert {r["provider"].strip("`") for r in rows} == set(KNOWN)


def test_every_command_and_option_of_the_command_line() -> None:
    cli = DOC[DOC.index("<!-- cli -->"):]
    commands = parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert "podcastgen --version" in cli
    for name, sub in commands.items():
        assert f"podcastgen {name} " in cli, name
        for action in sub._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert flag in cli, (name, flag)


def test_the_complete_example_validates(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "episodes", tmp_path / "episodes",
                    ignore=shutil.ignore_patterns("build"))
    (tmp_path / "podcastgen.yaml").write_text("")
    example = DOC[DOC.index("```yaml\n# episodes/welcome.yaml") + 8:]
    (tmp_path / "episodes" / "example.yaml").write_text(example[:example.index("```")])
    episode = ep.validate(source.load(tmp_path / "episodes" / "example.yaml", tmp_path),
                          tmp_path)
    turns = [i for i in episode.script if isinstance(i, ep.Turn)]
    assert (turns[-1].emotion, turns[-1].instruction) == ("happy", "warm and unhurried")


def test_the_readme_links_the_doc_and_shows_emotion_and_instruction(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "(docs/episode-format.md)" in readme
    assert "episode-format document" not in readme
    [example] = [b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S)
                 if "emotion:" in b and "instruction:" in b]
    (tmp_path / "podcastgen.yaml").write_text("")
    (tmp_path / "ep.yaml").write_text("title: T\n" + example)
    episode = ep.validate(source.load(tmp_path / "ep.yaml", tmp_path), tmp_path)
    [turn] = episode.script
    assert turn.emotion and turn.instruction  # as written, for a provider that takes both
