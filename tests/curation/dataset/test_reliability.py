"""Crashes, killed workers and a full disk: the run resumes to exactly what an undisturbed run makes."""

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from pipeline_runs import manifest

# Three different people (no near-duplicates), 12 s of talking heads in all, each kept with one
# sample: with one sample per shard, three shards to crash between and inside.
CLIPS = ["talkvid_tys_gt.mp4", "fantasy_end1.0.mp4", "talkvid_talk_emotion_gt.mp4"]
# One sample per shard: crashes can then fall between shards and inside one.
SHARD_BYTES = "samples.shard_target_bytes=1"
# slow, but the reliability matrix stays in CI's suite (docs/design.md)
pytestmark = [pytest.mark.slow, pytest.mark.ci_core]


def _inputs(shared_media: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in CLIPS:
        target = folder / name
        if not target.exists():
            target.symlink_to(shared_media / name)
    return folder


def _run(inputs: Path, out: Path, *extra: str, crash_at: str | None = None, timeout: float = 600) -> int:
    env = dict(os.environ)
    env.pop("LPM_CRASH_AT", None)
    if crash_at:
        env["LPM_CRASH_AT"] = crash_at
    command = [sys.executable, "-m", "apps.cli.main", "run", "--input", str(inputs), "--out", str(out),
               "--workflow", "smoke", "--executor", "local", "--set", SHARD_BYTES, *extra]
    return subprocess.run(command, env=env, timeout=timeout, capture_output=True).returncode


def _fingerprint(out: Path) -> dict:
    """Everything a consumer sees: manifest rows and the bytes of every shard and index."""
    tables = {}
    for name in ("videos", "segments", "pairs", "identities", "references", "shards", "rejections"):
        rows = manifest(out, name)
        tables[name] = sorted(repr(sorted(r.items())) for r in rows)
    shards = {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
              for p in sorted((out / "shards").rglob("*")) if p.is_file()}
    return {"tables": tables, "shards": shards}


def _no_leftovers(out: Path) -> None:
    assert not list(out.rglob(".tmp-*")), "no temporary file survives"
    indexed = {p.with_suffix(".tar") for p in (out / "shards").rglob("shard-*.json")}
    assert set((out / "shards").rglob("*.tar")) == indexed, "every shard has its index, no orphan tar"


@pytest.fixture(scope="module")
def reference(shared_media, tmp_path_factory):
    root = tmp_path_factory.mktemp("reliability")
    inputs = _inputs(shared_media, root / "inputs")
    out = root / "reference"
    assert _run(inputs, out) == 0
    fingerprint = _fingerprint(out)
    assert sum(name.endswith(".tar") for name in fingerprint["shards"]) >= 3, "several shards to crash between"
    return inputs, fingerprint


@pytest.mark.parametrize("crash_at", ["video:1", "sample:2", "shard:1"])
def test_sigkill_then_resume_equals_an_undisturbed_run(reference, tmp_path, crash_at):
    inputs, expected = reference
    out = tmp_path / "run"
    assert _run(inputs, out, crash_at=crash_at) == -signal.SIGKILL
    assert _run(inputs, out) == 0
    _no_leftovers(out)
    assert _fingerprint(out) == expected
    status = subprocess.run([sys.executable, "-m", "apps.cli.main", "status", str(out), "--verify", "--json"],
                            capture_output=True, text=True, timeout=120)
    assert status.returncode == 0 and '"ok": true' in status.stdout


def test_a_run_killed_with_a_plan_of_whole_shards_only_resumes_to_the_same_bytes(reference, tmp_path):
    """A plan stored before each shard's sample list was kept apart (``work/shard_plan``, what a
    pack task reads): the resumed run, under the same plan, writes the lists and packs the rest."""
    inputs, expected = reference
    out = tmp_path / "run"
    assert _run(inputs, out, crash_at="shard:1") == -signal.SIGKILL
    assert (out / "shards" / "_plan.json").exists() and (out / "work" / "shard_plan").is_dir()
    shutil.rmtree(out / "work" / "shard_plan")
    assert _run(inputs, out) == 0
    _no_leftovers(out)
    assert _fingerprint(out) == expected


def test_a_killed_ray_worker_does_not_lose_a_video(reference, tmp_path):
    inputs, expected = reference
    out = tmp_path / "run"
    command = [sys.executable, "-m", "apps.cli.main", "run", "--input", str(inputs), "--out", str(out),
               "--workflow", "smoke", "--workers", "2", "--set", SHARD_BYTES]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed = None
    deadline = time.time() + 300
    while killed is None and time.time() < deadline and process.poll() is None:
        for child in psutil.Process(process.pid).children(recursive=True):
            try:
                if "ray::Stages[" in " ".join(child.cmdline()):  # an actor of a stage pool
                    time.sleep(1.0)  # let it get into a video
                    child.kill()
                    killed = child.pid
                    break
            except psutil.NoSuchProcess:
                continue
        time.sleep(0.2)
    assert killed is not None, "found a Ray worker to kill"
    assert process.wait(timeout=600) == 0
    videos = manifest(out, "videos")
    assert len(videos) == len(CLIPS) and all(v["state"] in ("kept", "rejected", "failed") for v in videos)
    assert _fingerprint(out) == expected, "the killed video started over: same result as undisturbed"


def test_disk_full_stops_with_a_clear_error_and_resumes_when_space_is_back(reference, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("this test mounts a small tmpfs and needs root (CI runs as root)")
    inputs, expected = reference
    mount = tmp_path / "smallfs"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mount)], check=True)
    try:
        out = mount / "run"
        env = dict(os.environ)
        result = subprocess.run(
            [sys.executable, "-m", "apps.cli.main", "run", "--input", str(inputs), "--out", str(out),
             "--workflow", "smoke", "--executor", "local", "--set", SHARD_BYTES],
            capture_output=True, text=True, timeout=600, env=env,
        )
        assert result.returncode == 4, result.stdout[-2000:] + result.stderr[-2000:]
        assert "no space left" in result.stdout
        subprocess.run(["mount", "-o", "remount,size=300m", str(mount)], check=True)
        assert _run(inputs, out) == 0
        _no_leftovers(out)
        assert _fingerprint(out) == expected
    finally:
        shutil.rmtree(mount / "run", ignore_errors=True)
        subprocess.run(["umount", str(mount)], check=False)
