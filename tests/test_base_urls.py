"""A key goes only where the user sends it: a base URL written in an episode, its show file or
its template receives nothing unless the user allowed that URL outside the episode; plain http
carries a key only to this machine unless the user allows it. A listener on 127.0.0.1 records
every request, so "nothing received" means no Authorization header ever arrived."""

from __future__ import annotations

from pathlib import Path

import pytest

from podcastgen import http
from podcastgen.cli import main

from .listener import Answer, Seen, listening

KEY = "sk-user-key-0123456789abcdef"
COMMANDS = {"build": ["build", "{ep}", "-o", "out"], "check": ["check", "{ep}"],
            "dry-run": ["build", "{ep}", "--dry-run"]}
SPEAKER = "speakers:\n  oa: {provider: openai, voice: nova}\n"
# the episode itself, its show file, or its template names the URL (line 6 of each)
HOSTS = {
    "episode": ("ep.yaml", {"ep.yaml": "title: T\ndate: 2026-01-01\n" + SPEAKER
                            + "providers:\n  openai: {base_url: '{url}'}\nscript:\n"
                              "  - oa: Hello.\n"}),
    "show file": ("show.yaml", {"show.yaml": "show: S\n" + SPEAKER + "output: {formats: [mp3]}\n"
                                "providers:\n  openai: {base_url: '{url}'}\n",
                                "ep.yaml": "extends: show.yaml\ntitle: T\ndate: 2026-01-01\n"
                                "script:\n  - oa: Hello.\n"}),
    "template": ("ep.yaml.j2", {"ep.yaml.j2": "title: {{ 'T' }}\ndate: 2026-01-01\n"
                                + SPEAKER + "providers:\n  openai: {base_url: '{url}'}\n"
                                "script:\n  - oa: Hello.\n"}),
}


def refused(url: str) -> str:
    return (f"providers.openai.base_url: refused: {url} would receive your openai key, and "
            "only you choose where keys go (the default https://api.openai.com/v1, "
            "OPENAI_BASE_URL or podcastgen.yaml); to let episodes use it, set "
            f"PODCASTGEN_ALLOW_BASE_URL={url} or add it to allow_base_urls in podcastgen.yaml")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "podcastgen.yaml").write_text("")
    monkeypatch.chdir(tmp_path)
    for var in ("OPENAI_BASE_URL", "PODCASTGEN_ALLOW_BASE_URL", "PODCASTGEN_ALLOW_HTTP"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setattr(http, "sleep", lambda seconds: None)
    return tmp_path


def write(host: str, url: str) -> str:
    """Write the host's files naming `url`; the episode to build."""
    for name, text in HOSTS[host][1].items():
        Path(name).write_text(text.replace("{url}", url))
    return "ep.yaml.j2" if host == "template" else "ep.yaml"


def run(capsys: pytest.CaptureFixture[str], command: str, episode: str,
        *flags: str) -> tuple[int, str]:
    code = main([a.replace("{ep}", episode) for a in COMMANDS[command]] + list(flags))
    out, err = capsys.readouterr()
    return code, out + err


def bad_request(seen: Seen, count: int) -> Answer:
    return 400, {"content-type": "application/json"}, b'{"error": {"message": "no"}}'


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("host", HOSTS)
def test_a_base_url_in_the_episode_receives_nothing(
        project: Path, capsys: pytest.CaptureFixture[str], command: str, host: str) -> None:
    with listening() as listener:
        episode = write(host, listener.url)
        code, said = run(capsys, command, episode)
    assert code == 2
    assert f"{HOSTS[host][0]}:6: {refused(listener.url)}\n" in said
    assert listener.seen == [] and listener.authorizations() == []
    assert KEY not in said and not Path("out").exists()


@pytest.mark.parametrize("allow", ["environment", "project file", "its own base URL",
                                   "project base URL"])
def test_the_user_may_allow_an_episodes_base_url(
        project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        allow: str) -> None:
    with listening(bad_request) as listener:
        episode = write("episode", listener.url)
        if allow == "environment":
            monkeypatch.setenv("PODCASTGEN_ALLOW_BASE_URL", f"https://other.example/v1 "
                                                            f"{listener.url}/")
        elif allow == "project file":
            Path("podcastgen.yaml").write_text(f"allow_base_urls: ['{listener.url}']\n")
        elif allow == "its own base URL":
            monkeypatch.setenv("OPENAI_BASE_URL", listener.url.replace("http", "HTTP"))
        else:
            Path("podcastgen.yaml").write_text(
                f"providers:\n  openai: {{base_url: '{listener.url}'}}\n")
        code, said = run(capsys, "build", episode)
    assert code == 1, said  # sent, and the listener said no
    assert listener.authorizations() == [f"Bearer {KEY}"]
    assert said.endswith("\nep.yaml:8: openai: no (HTTP 400)\n")


def test_a_draft_sends_nothing_so_the_url_stays_unused(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with listening() as listener:
        episode = write("episode", listener.url)
        code, said = run(capsys, "build", episode, "--draft", "-q")
    assert (code, listener.seen) == (0, [])
    assert Path("out/ep.draft.mp3").is_file()  # a draft is named apart


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/v1", "http://127.8.9.10/v1",
                                 "http://localhost:9/v1", "http://[::1]:9/v1",
                                 "https://relay.example/v1"])
def test_loopback_or_https_base_urls_need_no_permission(
        project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        url: str) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    write("episode", url)
    assert run(capsys, "check", "ep.yaml") == (0, "checked 1 episode: 0 errors, 0 warnings\n")


def test_plain_http_to_another_machine_is_refused_wherever_it_is_set(
        project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    url = "http://192.0.2.7/v1"  # TEST-NET-1: never reached
    why = (f"{url} is plain http to another machine, so the key would cross the network "
           "unencrypted; use https, or set PODCASTGEN_ALLOW_HTTP=1 (or allow_http: true in "
           "podcastgen.yaml)")
    Path("ep.yaml").write_text(HOSTS["episode"][1]["ep.yaml"].replace("{url}", url))
    monkeypatch.setenv("PODCASTGEN_ALLOW_BASE_URL", url)  # allowed, but not in the clear
    assert run(capsys, "check", "ep.yaml")[1].startswith(
        f"ep.yaml:6: providers.openai.base_url: {why}\n")
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    Path("ep.yaml").write_text("title: T\n" + SPEAKER + "script:\n  - oa: Hello.\n")
    assert run(capsys, "build", "ep.yaml", "--dry-run") == (2, f"OPENAI_BASE_URL: {why}\n")
    monkeypatch.delenv("OPENAI_BASE_URL")
    Path("podcastgen.yaml").write_text(f"providers:\n  openai:\n    base_url: {url}\n")
    assert run(capsys, "build", "ep.yaml") == (
        2, f"podcastgen.yaml:3: providers.openai.base_url: {why}\n")
    Path("podcastgen.yaml").write_text(f"allow_http: true\nproviders:\n  openai:\n"
                                       f"    base_url: {url}\n")
    assert run(capsys, "check", "ep.yaml")[0] == 0
    Path("podcastgen.yaml").write_text("")
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.setenv("PODCASTGEN_ALLOW_HTTP", "1")
    assert run(capsys, "check", "ep.yaml")[0] == 0


def test_the_project_files_allow_list_is_checked(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Path("podcastgen.yaml").write_text("allow_base_urls: [ftp://x/v1]\nallow_http: maybe\n")
    Path("ep.yaml").write_text("title: T\n" + SPEAKER + "script:\n  - oa: Hello.\n")
    assert run(capsys, "check", "ep.yaml") == (2, (
        "podcastgen.yaml:1: allow_base_urls.0: expected an http(s) URL such as "
        "https://host/v1, got 'ftp://x/v1'\n"
        "podcastgen.yaml:2: allow_http: expected true or false, got text ('maybe')\n"
        "checked 1 episode: 2 errors, 0 warnings\n"))
