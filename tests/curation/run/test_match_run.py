"""A corpus ingested in two runs: ``--match-run`` carries identities and duplicates across them."""

import subprocess
from pathlib import Path

import pytest
from pipeline_runs import manifest, run_cli

pytestmark = pytest.mark.slow


def _run(folder: Path, out: Path, *extra: str) -> None:
    done = run_cli("run", "--input", str(folder), "--out", str(out), "--workflow", "smoke", "--executor", "local",
                   *extra, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_a_second_run_matches_the_first_runs_identities_and_footage(smoke_run, shared_media: Path,
                                                                    tmp_path: Path) -> None:
    # The first run: the session's smoke run (tests/conftest.py; it kept fantasy_end1.0 and
    # talkvid_tys_gt among others), only read here.
    first = smoke_run.out
    second_in = tmp_path / "second"
    second_in.mkdir()
    # the second run: a re-encode of a clip the first kept (other bytes, same footage) and the very
    # same file again (same content id)
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(shared_media / "fantasy_end1.0.mp4"),
                    "-c:v", "libx264", "-crf", "30", "-c:a", "aac", str(second_in / "reupload.mp4")],
                   check=True, timeout=120)
    (second_in / "again.mp4").symlink_to(shared_media / "talkvid_tys_gt.mp4")
    _run(second_in, tmp_path / "b", "--match-run", str(first))

    first_videos = {Path(v["uri"]).name: v for v in manifest(first, "videos")}
    fantasy_id = first_videos["fantasy_end1.0.mp4"]["video_id"]
    fantasy = next(s for s in manifest(first, "segments") if s["video_id"] == fantasy_id)
    videos = {Path(v["uri"]).name: v for v in manifest(tmp_path / "b", "videos")}
    assert {name: (v["state"], v["reason"]) for name, v in videos.items()} == {
        "reupload.mp4": ("rejected", "duplicate"), "again.mp4": ("rejected", "duplicate")}
    details = {r["video_id"]: r["detail"] for r in manifest(tmp_path / "b", "rejections") if r["entity"] == "segment"}
    assert fantasy["segment_id"] in details[videos["reupload.mp4"]["video_id"]], details
    assert "same video in the earlier run" in details[videos["again.mp4"]["video_id"]]
    # the re-uploaded person keeps the first run's identity
    tracks = [t for t in manifest(tmp_path / "b", "tracks") if t["video_id"] == videos["reupload.mp4"]["video_id"]]
    assert fantasy["identity_id"] in {t["identity_id"] for t in tracks}
    matched = {i["identity_id"]: i["matched_from"] for i in manifest(tmp_path / "b", "identities")}
    assert matched[fantasy["identity_id"]] == fantasy["identity_id"]
