"""The foundation's hostile-input matrix through the full workflow (smoke settings), not just ingest.

Everything rejected at ingest or probe keeps that stage and reason; what gets past them (synthetic
test patterns without a face) ends rejected by a later stage with a reason; nothing fails, nothing
hangs, and every input is accounted for.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_folder import build_hostile_folder
from pipeline_runs import manifest

# file -> (stage, reason) for inputs refused before analysis (as in the ingest matrix)
REFUSED_EARLY = {
    "empty.mp4": ("ingest", "empty_file"),
    "truncated.mp4": ("probe", "unreadable"),
    "no_moov.mp4": ("probe", "unreadable"),
    "random.mp4": ("probe", "not_a_video"),
    "image.mp4": ("probe", "not_a_video"),
    "notes.mp4": ("probe", "not_a_video"),
    "audio_only.mp4": ("probe", "no_video_stream"),
    "no_tracks.mp4": ("probe", "no_video_stream"),
    "zero_duration.mp4": ("probe", "too_short"),
    "one_frame.mp4": ("probe", "too_few_frames"),
    "huge.mp4": ("probe", "resolution_too_large"),
    "loop.mp4": ("ingest", "not_a_file"),
    "loop-partner.mp4": ("ingest", "not_a_file"),
    "concat.mp4": ("probe", "unsupported_container"),
    "playlist.mp4": ("probe", "unsupported_container"),
}
PAST_INGEST = ["video_only.mp4", "vfr.mp4", "rotated.mp4", "clip with spaces é 日本.mp4"]


@pytest.mark.slow
@pytest.mark.ci_core
def test_hostile_inputs_through_the_full_workflow(tmp_path):
    folder, work, outside = tmp_path / "in", tmp_path / "work", tmp_path / "outside"
    for d in (folder, work, outside):
        d.mkdir()
    base = build_hostile_folder(folder, outside, work)
    shutil.copy(base, folder / PAST_INGEST[3])
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "apps.cli.main", "run", "--input", str(folder), "--out", str(out),
                          "--workflow", "smoke", "--executor", "local"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    rows = {Path(r["uri"]).name: r for r in manifest(out, "videos")}
    assert sorted(rows) == sorted([*REFUSED_EARLY, *PAST_INGEST])
    assert all(r["state"] != "failed" for r in rows.values()), {n: r["detail"] for n, r in rows.items()}
    for name, (stage, reason) in REFUSED_EARLY.items():
        assert (rows[name]["stage"], rows[name]["reason"]) == (stage, reason), name
    for name in PAST_INGEST:
        row = rows[name]
        assert row["stage"] not in ("ingest", "probe"), f"{name} got past probe"
        assert row["state"] == "kept" or (row["reason"] and row["detail"]), name
    assert not (out / "shards").exists() or not list((out / "shards").rglob(".tmp-*"))
