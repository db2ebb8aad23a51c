"""A tiny mirror: one git repository made here, holding real shared clips, so checksums are real."""

import csv
import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

MIRROR_REPO = "example/talking-heads"
GOOD_CLIP = "fantasy_end0.1.mp4"  # a real talking head with its voice
DAMAGED_CLIP = "panda_UaQKCrszICw.16.mp4"  # committed truncated: the manifest keeps the real checksum


@dataclass(frozen=True)
class FakeMirror:
    root: Path  # the --from-mirror folder
    commit: str
    manifest: Path  # good, damaged and absent rows
    shared_media: Path


def _git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t",
           "PATH": "/usr/bin:/bin", "HOME": str(repo)}
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=env).stdout


def manifest_row(name: str, label: str, path: str, commit: str, data: bytes, person: str) -> dict[str, object]:
    return {
        "name": name, "label": label, "person_id": person, "source_id": "talking-heads",
        "source_repo": MIRROR_REPO, "source_path": path, "commit": commit,
        "sha256": hashlib.sha256(data).hexdigest(), "size_bytes": len(data), "duration_s": 3.5,
        "has_audio": True, "voiced_fraction": 0.9, "labelled_by": "test fixture",
    }


def write_manifest(path: Path, rows: list[dict[str, object]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def fake_mirror(tmp_path: Path, shared_media: Path) -> FakeMirror:
    root = tmp_path / "mirror"
    repo = root / "example+talking-heads" / "repo"
    (repo / "clips").mkdir(parents=True)
    _git(repo, "init", "-q")
    shutil.copyfile(shared_media / GOOD_CLIP, repo / "clips" / GOOD_CLIP)
    damaged = (shared_media / DAMAGED_CLIP).read_bytes()
    (repo / "clips" / DAMAGED_CLIP).write_bytes(damaged[: len(damaged) // 2])
    _git(repo, "add", "clips")
    _git(repo, "commit", "-q", "-m", "clips")
    commit = _git(repo, "rev-parse", "HEAD").strip()
    rows = [
        manifest_row("good.mp4", "talking_head", f"clips/{GOOD_CLIP}", commit,
                     (shared_media / GOOD_CLIP).read_bytes(), "p1"),
        manifest_row("damaged.mp4", "no_face", f"clips/{DAMAGED_CLIP}", commit, damaged, "p2"),
        manifest_row("absent.mp4", "talking_head", "clips/never_committed.mp4", commit, b"never there", "p3"),
    ]
    return FakeMirror(root, commit, write_manifest(tmp_path / "manifest.csv", rows), shared_media)
