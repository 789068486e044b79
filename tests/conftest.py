"""Fixtures for builds against the provider emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from podcastgen import http
from podcastgen.emulator import Emulator


@pytest.fixture(scope="module")
def cloud_server() -> Iterator[Emulator]:
    """One emulator for a test module."""
    with Emulator() as running:
        yield running


@pytest.fixture
def cloud(cloud_server: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """A fresh project as the working directory, the emulator's keys and URLs in the
    environment, no retry waits, and a clean log and fault book."""
    emu = cloud_server
    emu.reset()
    (tmp_path / "podcastgen.yaml").write_text("")
    monkeypatch.chdir(tmp_path)
    for name, value in emu.env().items():
        monkeypatch.setenv(name, value)
    waits: list[float] = []
    monkeypatch.setattr(http, "sleep", waits.append)
    emu.waits = waits  # type: ignore[attr-defined]
    return emu
