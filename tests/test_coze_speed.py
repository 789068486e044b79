"""Coze speed by voice type (the seed: 0.5–2 for large-model voices, 0.2–3 for the others),
where the voice list tells the type: checked before the first paid request, warned about by
`check`, which cannot ask the service."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from podcastgen.cli import main
from podcastgen.emulator import Emulator
from podcastgen.providers import ProviderConfig
from podcastgen.providers.coze import CozeProvider

from .cloud_helpers import build

BIG = "7426720361732915209"  # 爽快思思, a large-model voice in the emulator's list
SMALL = "7426725529589596187"  # 渊博小叔, a small-model voice


def episode(voice: str, speed: float) -> None:
    Path("ep.yaml").write_text(
        f"title: Coze\ndate: 2026-11-21\noutput: {{sample_rate: 24000}}\nspeakers:\n"
        f"  alex: {{provider: coze, voice: \"{voice}\", speed: {speed}}}\n"
        "script:\n  - alex: 你好，欢迎收听。\n  - alex: {text: 再见。, speed: 1}\n")


def test_a_large_model_voice_too_fast_is_refused_before_anything_is_paid(
        cloud: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    episode(BIG, 2.5)
    assert build("ep.yaml", "-o", "out") == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"ep.yaml:7: script.0.alex.speed: coze voice {BIG} (爽快思思) is a large-model voice, "
        "which speaks at 0.5 to 2; got 2.5")
    assert [e.endpoint for e in cloud.log] == ["/audio/voices"]  # listed, nothing synthesized
    assert not Path("out").exists()


def test_a_small_model_voice_takes_the_wider_range(cloud: Emulator) -> None:
    episode(SMALL, 2.5)
    assert build("ep.yaml", "-o", "out", "-q") == 0
    assert sorted(e.json.get("speed", 1) for e in cloud.log.speech("coze")) == [1, 2.5]


def test_in_range_speeds_need_no_voice_list(cloud: Emulator) -> None:
    episode(BIG, 1.5)
    assert build("ep.yaml", "-o", "out", "-q") == 0
    assert {e.endpoint for e in cloud.log} == {"/audio/speech"}


def test_check_warns_where_only_the_voice_type_can_tell(
        cloud: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    episode(BIG, 2.5)
    assert main(["check", "ep.yaml"]) == 0
    assert capsys.readouterr().out == (
        "ep.yaml:7: script.0.alex: warning: coze large-model voices speak at 0.5 to 2 "
        "(small-model ones at 0.2 to 3), got 2.5; a build checks this voice's type in the "
        "voice list before sending anything\n")
    assert len(cloud.log) == 0


def test_the_voice_list_is_read_page_by_page() -> None:
    pages = {1: [{"voice_id": "a", "model_type": "big"}], 2: [{"voice_id": "b"}]}
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page_num"])
        asked.append(request.url.params["page_size"])
        return httpx.Response(200, json={"code": 0, "msg": "", "data": {
            "voice_list": pages[page], "has_more": page < 2}})

    coze = CozeProvider(ProviderConfig("coze", base_url="http://unit.test/v1", api_key="k"),
                        transport=httpx.MockTransport(handler))
    assert [v["voice_id"] for v in coze.voice_list()] == ["a", "b"] and asked == ["100", "100"]
    assert coze.remote_voices() == {"a": ", large model", "b": ""}


def test_a_voice_list_that_cannot_be_read_leaves_the_speed_to_the_service(
        cloud: Emulator) -> None:
    cloud.fail("coze", "4101", times=None, endpoint="/audio/voices")  # no list permission
    episode(BIG, 2.5)
    assert build("ep.yaml", "-o", "out", "-q") == 1  # the service refuses it, as it should
    assert [e.fault for e in cloud.log if e.endpoint == "/audio/voices"] == ["4101"]
    assert 2.5 in {e.json.get("speed") for e in cloud.log.speech("coze")}
