"""An ingest run over every shared clip accounts for all of them, with facts matching the manifest."""

import json
from pathlib import Path

import pytest
from pipeline_runs import manifest, run_ingest

from apps.cli.status_command import run_status


@pytest.mark.slow
def test_ingest_of_the_shared_media_accounts_for_every_clip(
    ray_session: str, shared_media: Path, media_manifest: list, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    result = run_ingest(shared_media, out, executor="ray")
    expected = {entry.file: entry for entry in media_manifest}
    assert len(expected) == 82

    acc = result.accounting
    assert (acc.inputs, acc.kept, acc.rejected, acc.failed) == (82, 82, 0, 0)
    rows = {row["uri"].rsplit("/", 1)[-1]: row for row in manifest(out)}
    assert set(rows) == set(expected)
    for name, row in rows.items():
        entry = expected[name]
        # MANIFEST.csv's durations are Debian ffprobe 5.1's; the probe reads with PyAV's FFmpeg 8,
        # whose mp4 duration is the longest stream's rather than the movie header's: up to 0.064 s
        # shorter on these clips (talkvid_talk_emotion_gt: 4.578 s, its audio's end, against 4.642 s)
        assert row["duration_s"] == pytest.approx(entry.duration_s, abs=0.07), name
        assert row["has_audio"] is entry.has_audio, name
        assert row["width"] >= 64 and row["height"] >= 64 and row["n_frames"] >= 2, name
        # every shared clip has evenly spaced timestamps (several have edit lists that fool
        # avg_frame_rate); none may be reported as variable
        assert row["variable_fps"] is False, name
    assert len({row["video_id"] for row in rows.values()}) == 82
    assert manifest(out, "rejections") == []

    info = json.loads((out / "run.json").read_text())
    assert info["state"] == "complete" and info["executor"] == "ray"
    assert info["accounting"]["inputs"] == 82 and info["accounting"]["kept"] == 82
    assert info["workflow"]["name"] == "ingest"
    assert info["workflow"]["stages"][0]["stage"] == "probe" and info["workflow"]["stages"][0]["min_duration_s"] == 0.5
    assert info["versions"]["ray"] == "2.60.0" and info["versions"]["ffmpeg"] and info["versions"]["pyarrow"]
    assert info["stage_seconds"]["probe"] > 0 and info["wall_s"] > 0
    # the same two FFmpeg versions' durations summed over 82 clips: 743.86 s against 745.39 s
    assert info["seconds_in"] == pytest.approx(sum(e.duration_s for e in media_manifest), abs=2.0)

    status = run_status(str(out))
    assert status["complete"] and status["states"] == {"kept": 82} and status["tables"]["videos"] == 82
