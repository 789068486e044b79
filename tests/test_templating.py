"""Episode templates: rendering with data, errors at the template's own lines, the sandbox,
the filters, and `podcastgen render`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from podcastgen import filters
from podcastgen.cli import main
from podcastgen.pipeline import BuildOptions, load_episode

TEMPLATE = """\
{# a comment line #}
title: {{ title | yaml }}
speakers:
  alex: {name: Alex}
  anna: {name: Anna}
script:
{% for story in stories %}
  - chapter: {{ story.headline | yaml }}
  - alex: {{ story.text | yaml }}
  - anna:
      text: Really?
      speed: {{ story.speed | default(1) }}
{% endfor %}
  - alex: Goodbye.
"""
DATA = """\
title: "Roundup: week 1"
stories:
  - {headline: One, text: "First: the news"}
  - {headline: Two, text: Second, speed: 1.2}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "show"
    root.mkdir()
    (root / "podcastgen.yaml").write_text("")
    monkeypatch.chdir(root)
    return root


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = main(list(args))
    return code, capsys.readouterr().err.splitlines()


def test_a_template_renders_with_its_data_file_into_an_episode(project: Path) -> None:
    write(project, "ep.yaml.j2", TEMPLATE)
    write(project, "ep.data.yaml", DATA)
    episode = load_episode(Path("ep.yaml.j2"), BuildOptions())
    assert episode.stem == "ep" and episode.meta.title == "Roundup: week 1"
    turns = [(i.speaker, i.text, i.where) for i in episode.script if hasattr(i, "speaker")]
    assert turns == [
        ("alex", "First: the news", "ep.yaml.j2:9"), ("anna", "Really?", "ep.yaml.j2:10"),
        ("alex", "Second", "ep.yaml.j2:9"), ("anna", "Really?", "ep.yaml.j2:10"),
        ("alex", "Goodbye.", "ep.yaml.j2:14")]
    assert [i.speed for i in episode.script if hasattr(i, "speed")] == [None, 1, None, 1.2, None]


def test_validation_errors_name_the_template_line(project: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "ep.yaml.j2", TEMPLATE)
    write(project, "ep.data.yaml", DATA.replace("speed: 1.2", "speed: 9"))
    code, lines = errors_of(capsys, "build", "ep.yaml.j2")
    assert (code, lines) == (2, ["ep.yaml.j2:12: script.5.anna.speed: must be between 0.25 and 4, "
                                 "got 9"])
    assert sorted(p.name for p in project.iterdir()) == ["ep.data.yaml", "ep.yaml.j2",
                                                         "podcastgen.yaml"]


def test_data_from_json_and_vars_over_the_data(project: Path) -> None:
    write(project, "ep.yaml.j2", TEMPLATE)
    write(project, "values.json", '{"title": "From JSON", "stories": [{"headline": "H", '
                                  '"text": "T"}]}')
    options = BuildOptions(data=Path("values.json"), variables=(("title", "From --var"),))
    episode = load_episode(Path("ep.yaml.j2"), options)
    assert episode.meta.title == "From --var"
    assert [i.title for i in episode.script if hasattr(i, "title")] == ["H"]


def test_dotted_var_sets_a_nested_value(project: Path) -> None:
    write(project, "ep.yaml.j2", "title: {{ guest.name | yaml }}\nspeakers: {a: {}}\n"
                                 "script:\n  - a: Hi {{ guest.name }}.\n")
    episode = load_episode(Path("ep.yaml.j2"), BuildOptions(variables=(("guest.name", "Ada"),)))
    assert episode.meta.title == "Ada" and episode.script[0].text == "Hi Ada."


def test_undefined_value_names_template_line_and_data_file(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "ep.yaml.j2", TEMPLATE.replace("{{ title | yaml }}", "{{ titel | yaml }}"))
    write(project, "ep.data.yaml", DATA)
    code, lines = errors_of(capsys, "build", "ep.yaml.j2")
    assert (code, lines) == (2, ["ep.yaml.j2:2: template: 'titel' is undefined; set titel in "
                                 "ep.data.yaml or pass --var titel=VALUE"])


def test_missing_attribute_in_data_names_the_data_file(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "ep.yaml.j2", TEMPLATE)
    write(project, "data/week.yaml", DATA.replace("headline: Two, ", ""))
    code, lines = errors_of(capsys, "build", "ep.yaml.j2", "--data", "data/week.yaml")
    assert (code, lines) == (2, ["ep.yaml.j2:8: template: 'dict object' has no attribute "
                                 "'headline'; check data/week.yaml or pass --var KEY=VALUE"])


def test_undefined_without_any_data_file(project: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "ep.yaml.j2", TEMPLATE)
    code, lines = errors_of(capsys, "build", "ep.yaml.j2")
    assert (code, lines) == (2, [
        "ep.yaml.j2:2: template: 'title' is undefined; no data file was found: pass --data "
        "FILE, create ep.data.yaml beside the template, or pass --var title=VALUE"])


def test_syntax_error_names_the_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "ep.yaml.j2", "title: T\n\nscript:\n{% for x in %}\n{% endfor %}\n")
    code, lines = errors_of(capsys, "build", "ep.yaml.j2")
    assert (code, lines) == (2, ["ep.yaml.j2:4: template: syntax error: Expected an expression, "
                                 "got 'end of statement block'"])


def test_unclosed_block_is_a_syntax_error(project: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "ep.yaml.j2", "title: T\n{% if true %}\nspeakers: {}\n")
    assert main(["check", "ep.yaml.j2"]) == 2
    out, err = capsys.readouterr()
    assert out == ("ep.yaml.j2:3: template: syntax error: Unexpected end of template. Jinja was "
                   "looking for the following tags: 'elif' or 'else' or 'endif'. The innermost "
                   "block that needs to be closed is 'if'.\n")
    assert err == "checked 1 episode: 1 error, 0 warnings\n"


@pytest.mark.parametrize("expression,attribute", [
    ("''.__class__.__mro__", "__mro__"), ("range.__globals__", "__globals__"),
    ("(1).__add__", "__add__"),
])
def test_the_sandbox_refuses_attribute_tricks(project: Path, capsys: pytest.CaptureFixture[str],
                                              expression: str, attribute: str) -> None:
    write(project, "ep.yaml.j2", f"title: T\nspeakers: {{a: {{}}}}\nscript:\n"
                                 f"  - a: {{{{ {expression} }}}}\n")
    code, lines = errors_of(capsys, "build", "ep.yaml.j2")
    assert (code, lines) == (2, [f"ep.yaml.j2:4: template: refused by the sandbox: access to "
                                 f"attribute '{attribute}' is unsafe (a Python internal)"])


@pytest.mark.parametrize("expression,refusal", [
    ("'ab' * 10**9", "a repeated value of more than 2,000,000 characters"),
    ("[1] * 2000000", "a repeated value of more than 2,000,000 characters"),
    ("2 ** 100000000", "the exponent 100000000 is too large (at most 1000)"),
])
def test_the_sandbox_refuses_huge_values(project: Path, capsys: pytest.CaptureFixture[str],
                                         expression: str, refusal: str) -> None:
    write(project, "ep.yaml.j2", f"title: T\n\nx: {{{{ {expression} }}}}\n")
    code, lines = errors_of(capsys, "build", "ep.yaml.j2")
    assert (code, lines) == (2, [f"ep.yaml.j2:3: template: refused by the sandbox: {refusal}"])


def test_includes_are_relative_and_their_errors_name_the_included_file(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "parts/close.yaml.j2", "  - alex: Bye.\n  - bob: Who?\n")
    write(project, "episodes/ep.yaml.j2", "title: T\nspeakers: {alex: {}}\nscript:\n"
                                          "  - alex: Hi.\n{% include '../parts/close.yaml.j2' %}\n")
    code, lines = errors_of(capsys, "build", "episodes/ep.yaml.j2")
    assert (code, lines) == (2, ["parts/close.yaml.j2:2: script.2.bob: unknown speaker or "
                                 "directive 'bob'; speakers: alex; directives: chapter, pause, "
                                 "sound"])


def test_an_undefined_value_in_an_include_names_the_included_file(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "parts/intro.yaml.j2", "  - alex: Hi.\n  - alex: I am {{ host }}.\n")
    write(project, "ep.yaml.j2", "title: T\nspeakers: {alex: {}}\nscript:\n"
                                 "{% include 'parts/intro.yaml.j2' %}\n")
    code, lines = errors_of(capsys, "build", "ep.yaml.j2")
    assert (code, lines) == (2, [
        "parts/intro.yaml.j2:2: template: 'host' is undefined; no data file was found: pass "
        "--data FILE, create ep.data.yaml beside the template, or pass --var host=VALUE"])


def test_includes_may_not_leave_the_project(project: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (project.parent / "secret.txt").write_text("password")
    write(project, "ep.yaml.j2", "title: T\n{% include '../secret.txt' %}\n")
    code, lines = errors_of(capsys, "build", "ep.yaml.j2")
    assert (code, lines) == (2, [f"ep.yaml.j2:2: template: cannot include "
                                 f"{project.parent / 'secret.txt'}: path is outside the project; "
                                 "move the file into the project or pass --allow-outside"])


def test_a_filter_given_a_bad_value_names_the_line(project: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "ep.yaml.j2", "title: T\nnumber: {{ 'twelve' | spell_en }}\n")
    code, lines = errors_of(capsys, "build", "ep.yaml.j2")
    assert (code, lines) == (2, ["ep.yaml.j2:2: template: spell_en expects a number, got "
                                 "'twelve'"])


def test_yaml_syntax_error_in_the_output_names_the_template_line(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "ep.yaml.j2", "title: T\nspeakers: {a: {}}\nscript:\n"
                                 "{% for s in ['x', 'y'] %}\n  - a: {{ s }}\n{% endfor %}\n"
                                 "\tbad: tab\n")
    code, lines = errors_of(capsys, "build", "ep.yaml.j2")
    assert (code, lines) == (2, ["ep.yaml.j2:7: yaml: YAML syntax error: found character '\\t' "
                                 "that cannot start any token"])


def test_bad_data_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "ep.yaml.j2", TEMPLATE)
    write(project, "ep.data.yaml", "- just\n- a list\n")
    assert errors_of(capsys, "build", "ep.yaml.j2") == (2, [
        "ep.data.yaml:1: data: expected a mapping of names to values at the top of the data file"])
    write(project, "v.json", '{"title": "x",\n "stories": [}\n')
    assert errors_of(capsys, "build", "ep.yaml.j2", "--data", "v.json") == (2, [
        "v.json:2: data: JSON syntax error: Expecting value"])
    assert errors_of(capsys, "build", "ep.yaml.j2", "--data", "none.yaml") == (2, [
        "none.yaml:1: data: file not found"])


def test_bad_var_is_a_usage_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["build", "ep.yaml.j2", "--var", "no-equals-sign"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "podcastgen build: error: argument --var: expected KEY=VALUE with KEY a name like guest "
        "or guest.name, got 'no-equals-sign'")


def test_template_extends_a_plain_show_file(project: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "show.yaml", "show: My Show\nspeakers:\n  alex: {name: Alex, voice: joe}\n"
                                "production:\n  gap: 0.5\n")
    write(project, "ep.yaml.j2", "extends: show.yaml\ntitle: {{ title | yaml }}\nscript:\n"
                                 "  - alex: Hello.\n")
    episode = load_episode(Path("ep.yaml.j2"), BuildOptions(variables=(("title", "Ep"),)))
    assert (episode.meta.show, episode.meta.title, episode.production.gap) == ("My Show", "Ep", 0.5)
    write(project, "show.yaml", "show: My Show\nspeakers:\n  alex: {name: Alex, voice: joe}\n"
                                "production:\n  gap: -1\n")
    code, lines = errors_of(capsys, "build", "ep.yaml.j2", "--var", "title=Ep")
    assert (code, lines) == (2, ["show.yaml:5: production.gap: must be between 0 and 10, got -1"])


def test_render_prints_yaml_with_template_lines(project: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "ep.yaml.j2", TEMPLATE)
    write(project, "ep.data.yaml", DATA)
    assert main(["render", "ep.yaml.j2", "--var", "title=Hi"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ['ep.yaml.j2:2  | title: "Hi"', "ep.yaml.j2:3  | speakers:"]
    assert out[5:11] == [
        'ep.yaml.j2:8  |   - chapter: "One"', 'ep.yaml.j2:9  |   - alex: "First: the news"',
        "ep.yaml.j2:10 |   - anna:", "ep.yaml.j2:11 |       text: Really?",
        "ep.yaml.j2:12 |       speed: 1", 'ep.yaml.j2:8  |   - chapter: "Two"']
    assert main(["render", "ep.yaml.j2", "--plain"]) == 0
    plain = capsys.readouterr().out
    assert plain.startswith('title: "Roundup: week 1"\nspeakers:\n') and "|" not in plain


def test_one_environment_sandboxed_and_strict() -> None:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    from podcastgen.templating import environment

    env = environment()
    assert env is environment()
    assert isinstance(env, SandboxedEnvironment) and env.undefined is StrictUndefined
    assert set(filters.FILTERS) <= set(env.filters)


@pytest.mark.parametrize("value,english,chinese", [
    (0, "zero", "零"), (7, "seven", "七"), (12, "twelve", "十二"), (21, "twenty-one", "二十一"),
    (105, "one hundred five", "一百零五"), (1010, "one thousand ten", "一千零一十"),
    (2024, "two thousand twenty-four", "两千零二十四"), (10500, "ten thousand five hundred",
                                                       "一万零五百"),
    (100010, "one hundred thousand ten", "十万零一十"), (200000000, "two hundred million", "两亿"),
    (-3, "minus three", "负三"), ("2.5", "two point five", "二点五"),
])
def test_numbers_spelled_out(value: object, english: str, chinese: str) -> None:
    assert filters.spell_en(value) == english
    assert filters.spell_zh(value) == chinese


def test_other_filters() -> None:
    assert [filters.spell_en(n, ordinal=True) for n in (1, 3, 12, 21, 40)] == [
        "first", "third", "twelfth", "twenty-first", "fortieth"]
    assert filters.spell_zh(2026, digits=True) == "二〇二六"
    assert filters.slug("Ça va? Hello, World!") == "ca-va-hello-world"
    assert filters.slug("你好 世界") == "你好-世界"
    assert (filters.mmss(754), filters.mmss(59.6), filters.hms(3754)) == ("12:34", "1:00",
                                                                         "1:02:34")
    assert filters.join_names(["A", "B", "C"]) == "A, B and C"
    assert filters.join_names(["甲", "乙", "丙"], lang="zh") == "甲、乙和丙"
    assert filters.long_date(dt.date(2026, 12, 1)) == "1 December 2026"
    assert filters.long_date("2026-12-01", lang="zh") == "2026年12月1日"
    assert filters.yaml_value('He said: "hi"\n') == '"He said: \\"hi\\"\\n"'
    with pytest.raises(filters.FilterError, match="mmss expects a duration in seconds of 0 or"):
        filters.mmss(-1)
