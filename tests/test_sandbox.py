"""The one sandbox every template runs in: attacks from an episode's own templates (show notes,
the page, an episode template) are refused under `build`, `check` and `build --dry-run` with
exit 2 and one `file:line` line, and nothing runs, is read or is written."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from podcastgen import __version__, sandbox
from podcastgen.cli import main

SECRET = "SECRET-MARKER-7f3a"
REFUSED = "refused by the sandbox: "
OUTSIDE = "{outside}: path is outside the project; move the file into the project or pass " \
          "--allow-outside"
# (name, the template's line 2, what the error line says after `file:2: template...: `)
ATTACKS = [
    ("popen-command", "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}",
     REFUSED + "access to attribute '__globals__' is unsafe (a Python internal)"),
    ("open-file", "{{ cycler.__init__.__globals__.__builtins__.open('/etc/passwd').read() }}",
     REFUSED + "access to attribute '__builtins__' is unsafe (a Python internal)"),
    ("mro-walk", "{{ ''.__class__.__mro__[1].__subclasses__() }}",
     REFUSED + "access to attribute '__subclasses__' is unsafe (a Python internal)"),
    ("self-init", "{{ self.__init__.__globals__['os'] }}",
     REFUSED + "access to attribute '__globals__' is unsafe (a Python internal)"),
    ("subscript", "{{ namespace['__init__'] }}",
     REFUSED + "access to attribute '__init__' is unsafe (a Python internal)"),
    ("format-field", "{{ '{0.__class__.__mro__}'.format('') }}",
     REFUSED + "access to attribute '__class__' of 'str' object is unsafe"),
    ("attr-built", "{{ ''|attr('_' ~ '_class__') }}",
     REFUSED + "access to attribute '__class__' of 'str' object is unsafe"),
    ("list-mutation", "{{ [].append(1) }}",
     REFUSED + "access to attribute 'append' of 'list' object is unsafe"),
    ("range", "{{ range(10**12)|length }}",
     REFUSED + "a range of 1,000,000,000,000 numbers (at most 100,000)"),
    ("printf-width", "{{ '%99999999s'|format('x') }}",
     REFUSED + "a format width of 99,999,999 (at most 10,000)"),
    ("printf-star", "{{ '%*s' % (999999999, 'x') }}",
     REFUSED + "a width taken from the arguments (*) in a format"),
    ("format-width", "{{ '{:>999999999}'.format('x') }}",
     REFUSED + "a format width of 999,999,999 (at most 10,000)"),
    ("format-nested-width", "{{ '{:{}}'.format('x', 999999999) }}",
     REFUSED + "a width taken from the arguments ({...}) in a format"),
    ("center", "{{ 'x'.center(10**9) }}",
     REFUSED + "center() would build a value of more than 2,000,000 characters"),
    ("repeat", "{{ 'ab' * 10**9 }}",
     REFUSED + "a repeated value of more than 2,000,000 characters"),
    ("replace", "{{ ('a' * 100000).replace('a', 'b' * 100000) }}",
     REFUSED + "replace() would build a value of more than 2,000,000 characters"),
    ("join", "{{ ('x' * 100000).join(range(100000)|map('string')) }}",
     REFUSED + "join() would build a value of more than 2,000,000 characters"),
    ("batch", "{{ [1]|batch(999999999, 0)|list }}",
     REFUSED + "the batch filter would build a value of more than 2,000,000 characters"),
    ("sum-lists", "{{ ([[1]] * 100000)|sum(start=[]) }}",
     REFUSED + "sum adds numbers; join lists or text with the join filter"),
    ("to-bytes", "{{ (1).to_bytes(10**9, 'big') }}",
     REFUSED + "to_bytes() would build a value of more than 2,000,000 characters"),
    ("shared-items", "{% set a = 'x' * 100000 %}{% set b = [a, a, a, a, a, a, a, a] %}"
     "{% set c = [b, b, b, b, b, b, b, b] %}{{ c|string }}",
     REFUSED + "a value of more than 2,000,000 characters"),
    ("doubling", "{% set ns = namespace(s='x') %}{% for i in range(64) %}"
     "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
     REFUSED + "a namespace value of more than 250,000 characters"),
    ("big-number", "{% set ns = namespace(n=10**1000) %}{% for i in range(40) %}"
     "{% set ns.n = ns.n * ns.n %}{% endfor %}",
     REFUSED + "a number of more than 100,000 bits"),
    ("nested-loops", "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}"
     "{% endfor %}",
     REFUSED + "more than 1,000,000 loop iterations, calls and operations"),
    ("output", "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}",
     REFUSED + "the output is longer than 2,000,000 characters"),
    ("captured", "{% set x %}{% for i in range(100000) %}{% for j in range(9) %}"
     + "x" * 60 + "{% endfor %}{% endfor %}{% endset %}",
     REFUSED + "the template produced more than 20,000,000 characters"),
    ("macro-recursion", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
     REFUSED + "calls nested more than 50 deep (a macro or recursive loop calling itself?)"),
    ("loop-recursion", "{% for x in [1] recursive %}{{ loop([x]) }}{% endfor %}",
     REFUSED + "calls nested more than 50 deep (a macro or recursive loop calling itself?)"),
    ("include-self", "{% include '{self}' %}",
     REFUSED + "templates or macros nested too deeply (one including, importing, extending "
     "or calling itself?)"),
    ("include-absolute", "{% include '/etc/passwd' %}",
     "cannot include /etc/passwd: an absolute path; name the file relative to the template"),
    ("include-outside", "{% include '../../outside.txt' %}", "cannot include " + OUTSIDE),
    ("include-symlink", "{% include 'link.txt' %}", "cannot include " + OUTSIDE),
    ("import-outside", "{% import '../../outside.txt' as secret %}{{ secret }}",
     "cannot include " + OUTSIDE),
    ("extends-outside", "{% extends '../../outside.txt' %}", "cannot include " + OUTSIDE),
]
COMMANDS = {"build": ["build", "{episode}", "-o", "out"], "check": ["check", "{episode}"],
            "dry-run": ["build", "{episode}", "--dry-run"]}
EPISODE = """\
title: T
date: 2026-01-01
speakers:
  alex: {name: Alex}
script:
  - alex: Hello.
"""
# Where the attack is written: the show-notes template, the page, or the episode template.
HOSTS = {
    "notes": ("show/evil.md.j2", "show/ep.yaml", "template error"),
    "page": ("show/evil.html.j2", "show/ep.yaml", "template error"),
    "episode": ("show/ep.yaml.j2", "show/ep.yaml.j2", "template"),
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project in tmp/proj with its episodes in show/; a secret beside the project, and a
    symlink to it inside."""
    root = tmp_path / "proj"
    (root / "show").mkdir(parents=True)
    (root / "podcastgen.yaml").write_text("")
    (tmp_path / "outside.txt").write_text(SECRET + "\n")
    (root / "show" / "link.txt").symlink_to(tmp_path / "outside.txt")
    monkeypatch.chdir(root)
    return root


def plant(project: Path, host: str, attack: str) -> tuple[str, str]:
    """Write the attack at line 2 of the host template; the episode to name, and the host."""
    template, episode, _ = HOSTS[host]
    body = f"# line one\n{attack.replace('{self}', Path(template).name)}\n"
    if host == "episode":
        body = "title: T\n" + attack.replace("{self}", "ep.yaml.j2") + "\n" + EPISODE[9:]
    (project / template).write_text(body)
    if host != "episode":
        kind = "markdown" if host == "notes" else "html"
        (project / episode).write_text(
            EPISODE + f"output:\n  show_notes: {{{kind}: {Path(template).name}}}\n")
    return episode, template


def run(capsys: pytest.CaptureFixture[str], command: str, episode: str) -> tuple[int, str]:
    args = [a.replace("{episode}", episode) for a in COMMANDS[command]]
    code = main(args)
    out, err = capsys.readouterr()
    return code, out + err


def files_in(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("name,attack,message", ATTACKS, ids=[a[0] for a in ATTACKS])
def test_an_attack_is_refused_at_its_line_and_nothing_runs(
        project: Path, capsys: pytest.CaptureFixture[str], command: str, host: str, name: str,
        attack: str, message: str) -> None:
    episode, template = plant(project, host, attack)
    before = files_in(project)
    code, said = run(capsys, command, episode)
    expected = message.replace("{outside}", str(project.parent / "outside.txt"))
    assert code == 2, said
    assert f"{template}:2: {HOSTS[host][2]}: {expected}\n" in said
    assert SECRET not in said and "root:" not in said
    assert files_in(project) == before  # no PWNED, no output folder, no cache
    assert not (project / "PWNED").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_an_episode_template_naming_an_attacking_notes_template(
        project: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    (project / "show" / "evil.md.j2").write_text(
        "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}\n")
    (project / "show" / "ep.yaml.j2").write_text(
        EPISODE + "output:\n  show_notes: {markdown: {{ 'evil.md.j2' }}}\n")
    code, said = run(capsys, command, "show/ep.yaml.j2")
    assert (code, said.splitlines()[0]) == (2, "show/evil.md.j2:1: template error: " + REFUSED
                                            + "access to attribute '__globals__' is unsafe "
                                            "(a Python internal)")
    assert not (project / "PWNED").exists() and not (project / "out").exists()


def test_a_python_internal_on_a_branch_never_taken_is_refused_all_the_same(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    episode, _ = plant(project, "notes", "{% if episode.duration_s > 0 %}"
                                         "{{ cycler.__init__ }}{% endif %}")
    assert run(capsys, "check", episode) == (2, (
        "show/evil.md.j2:2: template error: " + REFUSED + "access to attribute '__init__' is "
        "unsafe (a Python internal)\nchecked 1 episode: 1 error, 0 warnings\n"))


@pytest.mark.parametrize("snippet", [
    "{{ self._TemplateReference__context }}", "{{ namespace(a=1)._Namespace__attrs }}",
    "{% for x in [1] %}{{ loop._iterator }}{% endfor %}"])
def test_other_underscore_names_are_refused_when_used(
        project: Path, capsys: pytest.CaptureFixture[str], snippet: str) -> None:
    episode, _ = plant(project, "notes", snippet)
    code, said = run(capsys, "check", episode)
    assert code == 2 and said.startswith("show/evil.md.j2:2: template error: " + REFUSED)


def test_data_keys_starting_with_an_underscore_still_read(project: Path) -> None:
    (project / "show" / "fine.md.j2").write_text(
        "{% set d = {'_id': 7} %}{{ d._id }} {{ d['_id'] }}\n")
    with sandbox.scope(project):
        out = sandbox.render(sandbox.environment(), project / "show" / "fine.md.j2", {})
    assert out == "7 7\n"


def test_allow_outside_still_refuses_an_absolute_include(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    episode, _ = plant(project, "notes", "{% include '/etc/passwd' %}")
    code = main(["check", episode, "--allow-outside"])
    assert (code, capsys.readouterr().out) == (2, (
        "show/evil.md.j2:2: template error: cannot include /etc/passwd: an absolute path; name "
        "the file relative to the template\n"))


def test_notes_templates_include_partials_beside_them_and_the_built_in_ones(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "show" / "parts").mkdir()
    (project / "show" / "parts" / "credits.md.j2").write_text(
        "{% for line in credits %}* {{ line }}\n{% endfor %}")
    episode, _ = plant(project, "notes", "{% include 'parts/credits.md.j2' %}"
                                         "{% include 'notes.md.j2' %}")
    assert main(["build", episode, "-o", "out"]) == 0
    notes = (project / "out" / "ep.md").read_text()
    assert notes.startswith("# line one\n* Written by Alex\n* Voices: Alex (local voice joe)\n"
                            f"* Produced with podcastgen {__version__}\n# T\n\n")
    assert "## Speakers\n\n- Alex\n" in notes


def test_rendering_stops_when_its_cpu_time_is_spent(tmp_path: Path) -> None:
    """The CPU-time limit, with the clock injected: each reading is a second later."""
    (tmp_path / "slow.md.j2").write_text("one\n{% for i in range(100) %}{{ i }}{% endfor %}\n")
    ticks = itertools.count()
    limits = sandbox.Limits(seconds=20.0, cpu_clock=lambda: float(next(ticks)))
    with sandbox.scope(tmp_path, limits=limits), pytest.raises(Exception) as caught:
        sandbox.render(sandbox.environment(), tmp_path / "slow.md.j2", {})
    assert sandbox.describe(caught.value, tmp_path / "slow.md.j2") == (
        tmp_path / "slow.md.j2", 2, REFUSED + "rendering took more than 20 s of CPU time")


def test_within_the_limits_a_template_may_loop_build_and_format(tmp_path: Path) -> None:
    (tmp_path / "fine.md.j2").write_text(
        "{% set ns = namespace(total=0) %}{% for i in range(50000) %}"
        "{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }} "
        "{{ '%08.3f|%-6s' % (3.14159, 'ab') }} {{ '{:>8}'.format('x') }} "
        "{{ (['ab'] * 3)|join('-') }} {{ 'x' * 5 ~ '!' }} {{ 'a-b'.replace('-', '+') }}\n")
    with sandbox.scope(tmp_path):
        out = sandbox.render(sandbox.environment(), tmp_path / "fine.md.j2", {})
    assert out == "1249975000 0003.142|ab            x ab-ab-ab xxxxx! a+b\n"
