"""``python -m apps.bench.decode_paths``: one in-process decode whose passes convert only the frames
they take, timed against ffmpeg's pipe."""

import json
from pathlib import Path

from apps.bench.decode_paths import RateSelector, main


def nearest_counts(fps: float, source_fps: float, seconds: int) -> list[int]:
    """For each source frame, how many output slots (k / fps) are nearest to it."""
    counts = [0] * int(seconds * source_fps)
    for k in range(int(seconds * fps) - 1):  # the last slot may lie past the last source frame
        counts[min(round(k / fps * source_fps), len(counts) - 1)] += 1
    return counts


def test_a_faster_source_drops_frames_and_a_slower_one_repeats_them() -> None:
    from_30 = RateSelector(fps=25.0, source_fps=30.0)
    taken = [from_30.take(i / 30) for i in range(60)]
    assert set(taken) == {0, 1} and taken[:-1] == nearest_counts(25.0, 30.0, 2)[:-1]
    from_10 = RateSelector(fps=25.0, source_fps=10.0)
    taken = [from_10.take(i / 10) for i in range(20)]
    assert set(taken) == {2, 3} and taken[:-1] == nearest_counts(25.0, 10.0, 2)[:-1]


def test_every_rate_takes_one_source_frame_per_slot_at_the_same_rate() -> None:
    same = RateSelector(fps=25.0, source_fps=25.0)
    assert [same.take(i / 25) for i in range(50)] == [1] * 50


def test_one_clip_gives_ffmpegs_frame_counts_and_the_switching_pass_its_mix(shared_media: Path, capsys) -> None:
    assert main([str(shared_media / "fantasy_end0.1.mp4")]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[0])
    assert report["ffmpeg_fine_frames"] == 88 and report["ffmpeg_coarse_frames"] in (17, 18)  # 3.52 s
    assert abs(report["inprocess_fine_frames"] - report["ffmpeg_fine_frames"]) <= 1
    assert abs(report["inprocess_coarse_frames"] - report["ffmpeg_coarse_frames"]) <= 1
    assert report["inprocess_codec_frames"] == 0  # decoded, none converted
    # the switching pass: the coarse frames everywhere plus the fine ones of the first half
    half_fine = report["inprocess_switching_frames"] - report["inprocess_coarse_frames"]
    assert abs(half_fine - report["inprocess_fine_frames"] / 2) <= 1
    assert min(v for k, v in report.items() if k.endswith("_s")) > 0
