"""An ingest run over fsspec URIs: objects are hashed as they stream, copied to the node once and probed locally."""

from pathlib import Path

import fsspec
import pytest
from pipeline_runs import manifest, run_ingest


def test_run_over_an_fsspec_folder_keeps_real_videos(
    shared_media: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LPM_CACHE_DIR", str(tmp_path / "cache"))
    fs = fsspec.filesystem("memory")
    fs.pipe(
        {
            "/bucket/batch/talk.mp4": (shared_media / "fantasy_end0.1.mp4").read_bytes(),
            "/bucket/batch/dup/talk copy.mp4": (shared_media / "fantasy_end0.1.mp4").read_bytes(),
            "/bucket/batch/notes.mp4": b"not a video at all, just words\n" * 10,
        }
    )
    try:
        # the memory filesystem lives in this process: the in-process executor sees it
        result = run_ingest("memory://bucket/batch", tmp_path / "out", executor="local")
    finally:
        fs.rm("/bucket", recursive=True)
    rows = {row["uri"].rsplit("/", 1)[-1]: row for row in manifest(tmp_path / "out")}
    assert (result.accounting.kept, result.accounting.rejected) == (2, 1)
    talk = rows["talk.mp4"]
    assert (talk["state"], talk["width"], talk["height"], talk["has_audio"]) == ("kept", 480, 848, True)
    # the first URI in sorted order is processed; the other records it as its twin
    assert talk["duplicate_of"] == rows["talk copy.mp4"]["uri"] == "memory:///bucket/batch/dup/talk copy.mp4"
    assert rows["talk copy.mp4"]["duplicate_of"] is None
    assert talk["video_id"] == rows["talk copy.mp4"]["video_id"]
    assert (rows["notes.mp4"]["state"], rows["notes.mp4"]["reason"]) == ("rejected", "not_a_video")
    copies = [p for p in (tmp_path / "cache" / "inputs").iterdir() if not p.name.startswith(".")]
    assert len(copies) == 2  # one copy per distinct content (beside the cache's index and lock)
