"""A run killed with SIGKILL mid-way resumes to exactly the manifests of an uninterrupted run."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from pipeline_runs import cli_command, cli_env, comparable, manifest, run_cli, run_ingest

from curation.store.ledger import OUTCOME_SUFFIX, VIDEOS_DIR

# Fourteen short real clips: enough work that the kill lands mid-way on a fast machine too.
CLIPS = (
    "fantasy_end0.1.mp4", "fantasy_end0.4.mp4", "fantasy_end0.7.mp4", "fantasy_end1.0.mp4",
    "liveportrait_d0.mp4", "nemo_test_video.mp4", "talkvid_tys_gt.mp4", "talkvid_talk_emotion_gt.mp4",
    "panda_1NMpoAqzJfY.25.mp4", "panda_4Q8lLQxWgmU.13.mp4", "panda_6fHASeSrH8w.43.mp4",
    "panda_UBdicUlzAng.35.mp4", "panda_YcAETihTOr4.2.mp4", "panda_vdGG2_5VM9U.2.mp4",
)  # fmt: skip


def _finished(out: Path) -> dict[str, int]:
    folder = out / VIDEOS_DIR
    if not folder.is_dir():
        return {}
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.name.endswith(OUTCOME_SUFFIX)}


def _kill_when_some_videos_are_done(command: list[str], out: Path, at_least: int, deadline_s: float) -> dict[str, int]:
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cli_env()
    )
    try:
        deadline = time.monotonic() + deadline_s
        while len(_finished(out)) < at_least:
            assert process.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "the run made no progress"
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    return _finished(out)


@pytest.mark.slow
@pytest.mark.ci_core
def test_sigkill_then_resume_gives_the_uninterrupted_manifests(shared_media: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in CLIPS:
        (folder / name).symlink_to(shared_media / name)
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.mp4").write_text("not a video\n" * 40)
    n_videos = len(CLIPS) + 1  # the empty file has no content id, so no per-video record

    reference = tmp_path / "reference"
    run_ingest(folder, reference)

    out = tmp_path / "killed"
    args = ("run", "--input", str(folder), "--out", str(out), "--workflow", "ingest", "--executor", "local")
    command = cli_command(*args)
    before = _kill_when_some_videos_are_done(command, out, at_least=2, deadline_s=240)
    assert 2 <= len(before) < n_videos, f"killed after {len(before)} of {n_videos} videos"
    assert json.loads((out / "run.json").read_text())["state"] == "running"

    resumed = run_cli(*args)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"inputs {len(CLIPS) + 2} = kept {len(CLIPS)} + rejected 2 + failed 0" in resumed.stdout

    after = _finished(out)
    assert len(after) == n_videos
    # videos finished before the kill were trusted as they were, not redone
    assert {name: after[name] for name in before} == before
    for table in ("videos", "rejections"):
        assert comparable(manifest(out, table), out) == comparable(manifest(reference, table), reference)
    uris = [row["uri"] for row in manifest(out)]
    assert len(uris) == len(set(uris)) == len(CLIPS) + 2
    info = json.loads((out / "run.json").read_text())
    assert (info["state"], info["resumed"]) == ("complete", 1)
    assert not list(out.rglob(".tmp-*"))
