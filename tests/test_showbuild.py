"""Whole-show builds: which files are episodes, `--changed-since` in a real git repository,
`--shard` partitions, per-episode failures, the CI reports and the example workflow."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import yaml

from podcastgen.cli import main, parser
from podcastgen.emulator import Emulator

from .helpers import build_env, write_wav

ROOT = Path(__file__).resolve().parent.parent
SHOW = "speakers:\n  alex: {name: Alex, voice: joe}\nproduction: {gap: 0.2}\n"


def episode(title: str, sound: str | None = None) -> str:
    extra = f"  - sound: ../sfx/{sound}\n" if sound else ""
    return f"extends: show.yaml\ntitle: {title}\nscript:\n  - alex: {title}.\n{extra}"


def tone(path: Path, hz: float, seconds: float = 0.3) -> None:
    t = np.arange(int(22050 * seconds)) / 22050
    write_wav(path, 0.3 * np.sin(2 * np.pi * hz * t), 22050)


def listed(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    assert main(["build", *args, "--list"]) == 0
    return capsys.readouterr().out.splitlines()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "podcastgen.yaml").write_text("")
    (tmp_path / "eps").mkdir()
    (tmp_path / "eps" / "show.yaml").write_text(SHOW)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.org",
                           *args], cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(project: Path) -> Path:
    """Three episodes with a sound each, plus a template with its data, all committed."""
    for name, hz in (("a", 440), ("b", 550), ("c", 660)):
        tone(project / "sfx" / f"{name}.wav", hz)
        (project / "eps" / f"{name}.yaml").write_text(episode(name.upper(), f"{name}.wav"))
    (project / "eps" / "t.yaml.j2").write_text("extends: show.yaml\ntitle: {{ title }}\n"
                                               "script:\n  - alex: {{ title }}.\n")
    (project / "eps" / "t.data.yaml").write_text("title: Templated\n")
    git(project, "init", "-q")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "show")
    return project


def test_a_folder_holds_episodes_not_show_files_data_or_config(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    eps = project / "eps"
    (eps / "network.yaml").write_text("category: Technology\n")
    (eps / "show.yaml").write_text("extends: network.yaml\n" + SHOW)
    (eps / "a.yaml").write_text(episode("A"))
    (eps / "b.yaml.j2").write_text("extends: show.yaml\ntitle: {{ t }}\nscript:\n  - alex: Hi.\n")
    (eps / "b.data.yaml").write_text("t: B\n")
    (eps / "podcastgen.yaml").write_text("")
    (eps / "notes.txt").write_text("not yaml")
    (eps / ".draft.yaml").write_text(episode("Hidden"))
    assert listed(capsys, "eps") == ["eps/a.yaml", "eps/b.yaml.j2"]


def test_named_files_leave_out_the_show_file_they_extend(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "eps" / "a.yaml").write_text(episode("A"))
    (project / "eps" / "b.yaml").write_text(episode("B"))
    # what a shell makes of eps/*.yaml
    assert listed(capsys, "eps/a.yaml", "eps/b.yaml", "eps/show.yaml") == ["eps/a.yaml",
                                                                           "eps/b.yaml"]
    assert listed(capsys, "eps/show.yaml") == ["eps/show.yaml"]  # named alone, it is checked
    assert main(["check", "eps/show.yaml"]) == 2
    assert "eps/show.yaml:1: script: missing required key" in capsys.readouterr().out
    assert main(["check", "eps/a.yaml", "eps/show.yaml"]) == 0
    assert "checked 1 episode" in capsys.readouterr().err


def test_shards_partition_the_episodes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = [f"eps/ep{i}.yaml" for i in range(7)]
    for name in names:
        Path(name).write_text(episode(name))
    assert sorted(listed(capsys, "eps")) == names
    for count in (1, 2, 3, 4, 7, 9):
        shards = [listed(capsys, "eps", "--shard", f"{i}/{count}") for i in range(1, count + 1)]
        together = [name for shard in shards for name in shard]
        assert sorted(together) == names  # no omission, no overlap
        assert max(map(len, shards)) - min(map(len, shards)) <= 1
        assert shards == [listed(capsys, "eps", "--shard", f"{i}/{count}")
                          for i in range(1, count + 1)]  # the same on every run


@pytest.mark.parametrize("value", ["0/2", "3/2", "1", "a/b"])
def test_bad_shard_is_a_usage_error(project: Path, capsys: pytest.CaptureFixture[str],
                                    value: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["build", "eps", "--shard", value])
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"podcastgen build: error: argument --shard: expected I/N with 1 <= I <= N, such as 1/4, "
        f"got {value!r}")


def test_changing_one_asset_builds_only_its_episode(repo: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert listed(capsys, "eps", "--changed-since", "HEAD") == []
    tone(repo / "sfx" / "b.wav", 880)
    assert listed(capsys, "eps", "--changed-since", "HEAD") == ["eps/b.yaml"]
    assert main(["build", "eps", "--changed-since", "HEAD", "-o", "out",
                 "--summary", "out/summary.json"]) == 0
    written = sorted(p.name for p in (repo / "out").iterdir())
    assert "b.mp3" in written and "b.report.json" in written
    assert [n for n in written if not n.startswith("b.")] == ["summary.json"]  # a and c untouched
    summary = json.loads((repo / "out" / "summary.json").read_text())
    assert [(e["episode"], e["status"]) for e in summary["episodes"]] == [("eps/b.yaml", "built")]
    assert summary["changed_since"] == "HEAD"
    assert capsys.readouterr().err == "1 episodes: 1 built, 0 invalid, 0 failed\n"


def test_changes_to_data_show_files_new_files_and_config(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "eps" / "t.data.yaml").write_text("title: Changed\n")
    assert listed(capsys, "eps", "--changed-since", "HEAD") == ["eps/t.yaml.j2"]
    git(repo, "commit", "-q", "-am", "data")
    tone(repo / "sfx" / "new.wav", 330)  # untracked, then used by c
    (repo / "eps" / "c.yaml").write_text(episode("C", "c.wav"))
    assert listed(capsys, "eps", "--changed-since", "HEAD") == []
    (repo / "eps" / "c.yaml").write_text(episode("C", "new.wav"))
    git(repo, "commit", "-q", "-am", "c uses new.wav, not committed yet")
    assert listed(capsys, "eps", "--changed-since", "HEAD") == ["eps/c.yaml"]
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "new.wav")
    (repo / "eps" / "show.yaml").write_text(SHOW.replace("0.2", "0.3"))
    everything = ["eps/a.yaml", "eps/b.yaml", "eps/c.yaml", "eps/t.yaml.j2"]
    assert listed(capsys, "eps", "--changed-since", "HEAD") == everything
    git(repo, "checkout", "-q", "--", ".")
    (repo / "podcastgen.yaml").write_text("# providers: {}\n")
    assert listed(capsys, "eps", "--changed-since", "HEAD") == everything
    empty_tree = git(repo, "hash-object", "-t", "tree", "/dev/null").strip()
    assert listed(capsys, "eps", "--changed-since", empty_tree) == everything


def test_changed_since_errors(project: Path, repo: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "eps", "--changed-since", "nope", "--list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("--changed-since nope: git could not compare with it (") and \
        err.count("\n") == 1
    subprocess.run(["rm", "-rf", str(repo / ".git")], check=True)
    assert main(["build", "eps", "--changed-since", "HEAD", "--list"]) == 2
    assert capsys.readouterr().err.startswith("--changed-since: eps is not inside a git "
                                              "repository (")


def test_one_bad_episode_does_not_stop_the_others(project: Path,
                                                 cloud_server: Emulator) -> None:
    cloud_server.reset()
    cloud_server.fail("openai", "400", times=None)  # a build that fails after validation
    eps = project / "eps"
    (eps / "good.yaml").write_text(episode("Good"))
    (eps / "invalid.yaml").write_text(episode("Invalid").replace("alex: Invalid", "bob: Hi"))
    (eps / "broken.yaml").write_text(episode("Broken").replace(
        "script:", "speakers:\n  bob: {provider: openai, voice: nova}\nscript:").replace(
        "alex: Broken", "bob: Broken"))
    cmd = [sys.executable, "-m", "podcastgen", "build", "eps", "-o", "out", "--summary",
           "out/summary.json", "--junit", "out/junit.xml"]
    env = build_env(cloud_server.env())
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert proc.returncode == 2  # an invalid episode outranks a failed build
    err = proc.stderr.splitlines()
    assert err[0].startswith("eps/broken.yaml:6: openai: ")
    assert err[1:] == ["eps/invalid.yaml:4: script.0.bob: unknown speaker or directive 'bob'; "
                       "speakers: alex; directives: chapter, pause, sound",
                       "3 episodes: 1 built, 1 invalid, 1 failed"]
    out = project / "out"
    assert (out / "good.mp3").is_file() and not (out / "broken.mp3").exists()
    summary = json.loads((project / "out" / "summary.json").read_text())
    assert [(e["episode"], e["status"]) for e in summary["episodes"]] == [
        ("eps/broken.yaml", "failed"), ("eps/good.yaml", "built"), ("eps/invalid.yaml", "invalid")]
    cases = ET.parse(project / "out" / "junit.xml").getroot().iter("testcase")
    kinds = {c.get("name"): [child.tag for child in c] for c in cases}
    assert kinds == {"eps/broken.yaml": ["error"], "eps/good.yaml": [],
                     "eps/invalid.yaml": ["failure"]}
    (eps / "invalid.yaml").unlink()
    (eps / "good.yaml").unlink()
    assert subprocess.run(cmd, capture_output=True, env=env).returncode == 1  # only a failure


def test_two_episodes_with_one_output_name_are_refused(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "eps" / "ep.yaml").write_text(episode("A"))
    (project / "eps" / "ep.yaml.j2").write_text(episode("B"))
    assert main(["build", "eps", "--list"]) == 2
    assert capsys.readouterr().err == ("eps/ep.yaml and eps/ep.yaml.j2 would both write "
                                       "eps/build/ep.*; rename one or build them into "
                                       "different folders\n")


def test_the_ci_workflow_runs_a_command_this_version_accepts() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "render.yml").read_text())
    steps = workflow["jobs"]["render"]["steps"]
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
    assert cache["with"]["path"] == ".podcastgen/cache"
    assert any(s.get("uses", "").startswith("actions/upload-artifact@") for s in steps)
    run = next(s["run"] for s in steps if "podcastgen build" in s.get("run", ""))
    command = run.replace("${{ matrix.shard }}", "1").replace(
        "${{ steps.base.outputs.ref }}", "HEAD")
    args = parser().parse_args(shlex.split(command)[1:])
    assert (args.episodes, args.changed_since, args.shard) == ([Path("episodes")], "HEAD", (1, 2))
    assert args.junit and args.summary
