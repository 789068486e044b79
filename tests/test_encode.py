"""MP3 delivery measured after encoding: loudness, true peak, gapless length, clean tags."""

import mutagen.id3
import mutagen.mp3
import numpy as np
import pytest

from podcastgen import encode as enc
from podcastgen import ffmpeg
from podcastgen.errors import AudioError
from podcastgen.master import master, measure, measure_file
from podcastgen.model import Loudness

SR = 44100


def episode(seconds: float, seed: int = 4) -> np.ndarray:
    """Talk-like noise bursts with pauses, levels over 8 dB, and three hot clicks."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    f = np.fft.rfftfreq(n, 1 / SR)
    shape = ((f > 90) & (f < 6000)) / np.maximum(f, 150) ** 0.7
    noise = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) * shape, n)
    gains = np.zeros(n)
    t = 0
    while t < n:
        d = int(rng.uniform(0.3, 2.5) * SR)
        gains[t : t + d] = 10 ** (rng.uniform(-8, 0) / 20)
        t += d + int(rng.uniform(0.2, 0.8) * SR)
    x = (noise / noise.std() * gains * 0.05).astype(np.float32)
    for p in rng.integers(0, n - SR, 3):
        x[p : p + 200] += 0.9 * np.sin(2 * np.pi * 3000 * np.arange(200) / SR).astype(np.float32)
    return x


@pytest.fixture(scope="module")
def mastered():
    return master(episode(30), SR)


@pytest.fixture
def spy(monkeypatch):
    """Count the encodes encode_checked() runs."""
    calls = []
    real = enc.encode

    def counting(*args, **kwargs):
        calls.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr(enc, "encode", counting)
    return calls


def test_encode_checked_on_target_gapless_and_untagged(mastered, tmp_path, spy):
    dest = tmp_path / "ep.mp3.tmp"
    got = enc.encode_checked(mastered.copy(), SR, dest)
    assert len(spy) == 1
    assert got == measure_file(dest)
    assert got.integrated_lufs == pytest.approx(-16.0, abs=0.5)
    assert got.true_peak_dbtp <= -1.0
    decoded = ffmpeg.decode(dest, SR)
    assert abs(len(decoded) - len(mastered)) / SR <= 0.050
    head = dest.read_bytes()[:64]
    assert head[:2] == b"\xff\xfb" and b"Info" in head  # no ID3; CBR Xing/LAME frame
    info = mutagen.mp3.MP3(dest)
    assert info.tags is None
    assert (info.info.bitrate, info.info.sample_rate, info.info.channels) == (128000, SR, 1)
    assert info.info.bitrate_mode == mutagen.mp3.BitrateMode.CBR


def test_tagging_later_keeps_the_audio_gapless(mastered, tmp_path):
    dest = tmp_path / "ep.mp3"
    enc.encode(mastered, SR, dest)
    audio = mutagen.mp3.MP3(dest)
    audio.add_tags()
    audio.tags.add(mutagen.id3.TIT2(encoding=3, text="Episode"))
    audio.save(v2_version=3)
    assert mutagen.mp3.MP3(dest).tags["TIT2"].text == ["Episode"]
    assert len(ffmpeg.decode(dest, SR)) == len(mastered)


@pytest.mark.parametrize("bitrate", ["96k", "128k", "192k", "320k"])
def test_encode_keeps_the_level_at_any_bitrate(mastered, tmp_path, bitrate):
    dest = tmp_path / "x.mp3"
    enc.encode(mastered, SR, dest, bitrate=bitrate)
    assert measure_file(dest).integrated_lufs == pytest.approx(-16.0, abs=0.15)


def test_stereo_carries_mono_on_both_channels_at_the_same_loudness(mastered, tmp_path):
    dest = tmp_path / "s.mp3"
    enc.encode(mastered, SR, dest, channels=2)
    assert mutagen.mp3.MP3(dest).info.channels == 2
    assert measure_file(dest).integrated_lufs == pytest.approx(-16.0, abs=0.15)


def test_too_hot_master_is_corrected_by_the_retry_loop(tmp_path, spy):
    hot = master(episode(30, seed=9), SR, true_peak=0.5)
    before = measure(hot, SR)
    assert before.true_peak_dbtp > -1.0  # mastered to about -0.5 dBTP
    got = enc.encode_checked(hot, SR, tmp_path / "hot.mp3")
    assert len(spy) >= 2
    assert got.true_peak_dbtp <= -1.0
    assert got.integrated_lufs == pytest.approx(-16.0, abs=0.5)
    assert measure(hot, SR) == before  # a private copy was corrected: the master is as it was


def test_encode_checked_gives_up_after_three_encodes(mastered, tmp_path, spy, monkeypatch):
    counting = enc.encode

    def always_hot(*args, **kwargs):
        counting(*args, **kwargs)
        return Loudness(-16.0, 0.4)

    monkeypatch.setattr(enc, "encode", always_hot)
    with pytest.raises(AudioError, match=r"-16\.0 LUFS, 0\.4 dBTP after 3 encodes"):
        enc.encode_checked(mastered.copy(), SR, tmp_path / "x.mp3")
    assert len(spy) == 3


def test_only_mp3_mono_or_stereo(mastered, tmp_path):
    with pytest.raises(AudioError):
        enc.encode(mastered, SR, tmp_path / "x.ogg", fmt="ogg")
    with pytest.raises(AudioError):
        enc.encode(mastered, SR, tmp_path / "x.mp3", channels=6)
    with pytest.raises(AudioError):
        enc.encode(mastered, SR, tmp_path / "x.mp3", bitrate="fast")


def test_opus_over_its_ceiling_is_encoded_at_the_ceiling(mastered, tmp_path):
    """libopus takes at most 256k a channel; a show's `bitrate: 320k` must still build."""
    assert enc._bitrate_args("opus", "320k", 1) == ["-b:a", "256k"]
    assert enc._bitrate_args("opus", "320k", 2) == ["-b:a", "320k"]
    assert enc._bitrate_args("mp3", "320k", 1) == ["-b:a", "320k"]
    dest = tmp_path / "x.opus"
    enc.encode(mastered, SR, dest, fmt="opus", bitrate="320k")
    assert abs(len(ffmpeg.decode(dest, SR)) - len(mastered)) < SR // 10
