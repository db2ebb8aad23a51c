"""The states stage rejects speaking segments whose lips do not follow their audio: a real talking
head muxed with another person's voice (``bench dubbing``'s ``dub``) is not kept as speaking,
while the original is."""

from pathlib import Path

import pytest

from apps.bench.dubbing_bench import dub
from apps.bench.speaking_bench import analyse, bench_stages
from curation.media.probe import probe_media
from curation.runtime.video_work import VideoWork


@pytest.fixture(scope="module")
def original_and_dubbed(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[VideoWork, VideoWork]:
    out = tmp_path_factory.mktemp("dubbing")
    stages = bench_stages()
    video = shared_media / "talkvid_tys_gt.mp4"
    dubbed = dub(video, shared_media / "fantasy_end0.4.mp4", out / "dubbed.mp4", probe_media(video).duration_s)
    return analyse(video, stages, out / "store"), analyse(dubbed, stages, out / "store")


def test_original_keeps_its_speaking_segment_with_a_score(original_and_dubbed):
    original, _ = original_and_dubbed
    speaking = [s for s in original.segments if s["state"] == "speaking"]
    assert speaking
    assert all(s["lip_sync_model"] == "av_sync" and s["lip_sync_score"] >= 0.2 for s in speaking)
    assert not [r for r in original.rejections if r["reason"] == "out_of_sync"]


def test_dubbed_copy_is_rejected_out_of_sync(original_and_dubbed):
    _, dubbed = original_and_dubbed
    assert not [s for s in dubbed.segments if s["state"] == "speaking"]
    rejected = [r for r in dubbed.rejections if r["reason"] == "out_of_sync"]
    assert rejected and all(r["entity"] == "segment" and "av_sync score" in r["detail"] for r in rejected)


def test_a_render_whose_lips_lag_its_audio_is_rejected_out_of_sync(shared_media: Path, tmp_path: Path):
    # fantasy_end0.1 is the render with the weakest audio guidance of the four fantasy clips: its
    # mouth reads 12 frames (480 ms) behind its audio, which is not lip-synced speech to learn from.
    work = analyse(shared_media / "fantasy_end0.1.mp4", bench_stages(), tmp_path / "store")
    assert not [s for s in work.segments if s["state"] == "speaking"]
    rejected = [r for r in work.rejections if r["reason"] == "out_of_sync"]
    assert rejected and all(r["entity"] == "segment" for r in rejected)
