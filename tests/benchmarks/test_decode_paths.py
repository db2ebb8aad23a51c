"""``python -m benchmarks.decode_paths``: one in-process decode whose passes convert only the frames
they take, timed against ffmpeg's pipe."""

import json
from pathlib import Path

from benchmarks.decode_paths import main


def test_one_clip_gives_ffmpegs_frame_counts_and_the_switching_pass_its_mix(shared_media: Path, capsys) -> None:
    assert main([str(shared_media / "fantasy_end0.1.mp4")]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[0])
    assert report["ffmpeg_fine_frames"] == 88 and report["ffmpeg_coarse_frames"] in (17, 18)  # 3.52 s
    assert report["inprocess_fine_frames"] == report["ffmpeg_fine_frames"]
    assert report["inprocess_coarse_frames"] == report["ffmpeg_coarse_frames"]
    assert report["inprocess_codec_frames"] == 0  # decoded, none converted
    # the switching pass: the coarse frames everywhere plus the fine ones of the first half
    half_fine = report["inprocess_switching_frames"] - report["inprocess_coarse_frames"]
    assert abs(half_fine - report["inprocess_fine_frames"] / 2) <= 1
    assert min(v for k, v in report.items() if k.endswith("_s")) > 0
