import csv
import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from apps.calibration.clip_sources import GitMirrorSource, RawGitHubSource
from apps.calibration.corpus_fetch import CACHE_MANIFEST, materialise
from apps.calibration.corpus_manifest import load_corpus_manifest
from curation.media.probe import probe_media
from tests.apps.calibration.fake_mirror import (
    DAMAGED_CLIP,
    GOOD_CLIP,
    MIRROR_REPO,
    FakeMirror,
    manifest_row,
    write_manifest,
)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_mirror_fetch_keeps_the_verified_clip_and_names_the_bad_ones(fake_mirror: FakeMirror, tmp_path: Path):
    out = tmp_path / "cache"
    report = materialise(load_corpus_manifest(fake_mirror.manifest), out, GitMirrorSource(fake_mirror.root))
    assert report.fetched == ["good.mp4"]
    assert list(report.corrupted) == ["damaged.mp4"] and "SHA-256" in report.corrupted["damaged.mp4"]
    assert list(report.missing) == ["absent.mp4"] and "not in the mirror" in report.missing["absent.mp4"]
    assert report.skipped == 2
    assert _sha(out / "good.mp4") == _sha(fake_mirror.shared_media / GOOD_CLIP)
    # Neither the damaged bytes nor a partial file are left where a benchmark would read them.
    assert sorted(p.name for p in out.iterdir()) == [CACHE_MANIFEST, "good.mp4"]
    with open(out / CACHE_MANIFEST, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["file"], r["label"], r["person_id"]) for r in rows] == [("good.mp4", "talking_head", "p1")]


def test_second_fetch_checks_the_cache_and_replaces_a_damaged_copy(fake_mirror: FakeMirror, tmp_path: Path):
    out = tmp_path / "cache"
    clips = [c for c in load_corpus_manifest(fake_mirror.manifest) if c.name == "good.mp4"]
    source = GitMirrorSource(fake_mirror.root)
    assert materialise(clips, out, source).fetched == ["good.mp4"]
    assert materialise(clips, out, source).already_present == ["good.mp4"]
    with open(out / "good.mp4", "r+b") as fh:  # bit rot in the cache
        fh.seek(100)
        fh.write(b"\x00\x01\x02")
    assert materialise(clips, out, source).fetched == ["good.mp4"]
    assert _sha(out / "good.mp4") == clips[0].sha256


def test_a_stale_cache_file_is_removed_when_its_source_is_damaged(fake_mirror: FakeMirror, tmp_path: Path):
    out = tmp_path / "cache"
    out.mkdir()
    (out / "damaged.mp4").write_bytes(b"an old, wrong copy")
    clips = [c for c in load_corpus_manifest(fake_mirror.manifest) if c.name == "damaged.mp4"]
    report = materialise(clips, out, GitMirrorSource(fake_mirror.root))
    assert list(report.corrupted) == ["damaged.mp4"]
    assert not (out / "damaged.mp4").exists()


def test_a_repository_absent_from_the_mirror_is_missing_by_name(fake_mirror: FakeMirror, tmp_path: Path):
    clips = load_corpus_manifest(fake_mirror.manifest)
    report = materialise(clips, tmp_path / "cache", GitMirrorSource(tmp_path / "empty-mirror"))
    assert sorted(report.missing) == ["absent.mp4", "damaged.mp4", "good.mp4"]
    assert MIRROR_REPO in report.missing["good.mp4"]


@pytest.fixture
def raw_file_server(tmp_path: Path, fake_mirror: FakeMirror):
    """A stand-in for raw.githubusercontent.com on loopback: /<owner>/<name>/<commit>/<path>."""
    served = tmp_path / "served"
    where = served / MIRROR_REPO / fake_mirror.commit / "clips"
    where.mkdir(parents=True)
    shutil.copyfile(fake_mirror.shared_media / GOOD_CLIP, where / GOOD_CLIP)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_https_source_fetches_by_repo_commit_and_path(fake_mirror: FakeMirror, raw_file_server: str, tmp_path: Path):
    out = tmp_path / "cache"
    clips = [c for c in load_corpus_manifest(fake_mirror.manifest) if c.name in ("good.mp4", "absent.mp4")]
    report = materialise(clips, out, RawGitHubSource(raw_file_server, timeout_s=10))
    assert report.fetched == ["good.mp4"]
    assert list(report.missing) == ["absent.mp4"] and "404" in report.missing["absent.mp4"]
    assert _sha(out / "good.mp4") == clips[0].sha256


def _excerpt_manifest(fake_mirror: FakeMirror, tmp_path: Path, excerpt: str, damaged: bool = False) -> Path:
    """One row: an excerpt of the mirror's good clip (or of its damaged one)."""
    clip = DAMAGED_CLIP if damaged else GOOD_CLIP
    row = manifest_row("panel.mp4", "listening", f"clips/{clip}", fake_mirror.commit,
                       (fake_mirror.shared_media / clip).read_bytes(), "p9")
    return write_manifest(tmp_path / "excerpt.csv", [{**row, "excerpt": excerpt}])


def _probe(path: Path) -> tuple[int, int, float]:
    info = probe_media(path)
    return info.width, info.height, info.duration_s


def test_an_excerpt_is_cut_from_the_verified_file_and_recut_when_damaged(fake_mirror: FakeMirror, tmp_path: Path):
    out = tmp_path / "cache"
    clips = load_corpus_manifest(_excerpt_manifest(fake_mirror, tmp_path, "t=0.5..2.5;crop=201x160+10+20"))
    source = GitMirrorSource(fake_mirror.root)
    assert materialise(clips, out, source).fetched == ["panel.mp4"]
    width, height, duration = _probe(out / "panel.mp4")
    assert (width, height) == (200, 160) and abs(duration - 2.0) < 0.1  # the odd pixel dropped for 4:2:0
    with open(out / CACHE_MANIFEST, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["file"], r["excerpt"], r["sha256"]) for r in rows] == [
        ("panel.mp4", "t=0.5..2.5;crop=201x160+10+20", clips[0].sha256)]
    assert materialise(clips, out, source).already_present == ["panel.mp4"]
    with open(out / "panel.mp4", "r+b") as fh:  # bit rot in the cut
        fh.seek(200)
        fh.write(b"\x00\x01\x02")
    assert materialise(clips, out, source).fetched == ["panel.mp4"]
    assert materialise(clips, out, source).already_present == ["panel.mp4"]
    # Another excerpt under the same name is not the cut in the cache.
    moved = load_corpus_manifest(_excerpt_manifest(fake_mirror, tmp_path, "t=1..2.5;crop=201x160+10+20"))
    assert materialise(moved, out, source).fetched == ["panel.mp4"]
    assert abs(_probe(out / "panel.mp4")[2] - 1.5) < 0.1


def test_an_excerpt_of_a_damaged_file_is_never_cut(fake_mirror: FakeMirror, tmp_path: Path):
    out = tmp_path / "cache"
    clips = load_corpus_manifest(_excerpt_manifest(fake_mirror, tmp_path, "t=0..1", damaged=True))
    report = materialise(clips, out, GitMirrorSource(fake_mirror.root))
    assert list(report.corrupted) == ["panel.mp4"] and not (out / "panel.mp4").exists()


def test_an_excerpt_past_the_end_of_its_file_is_missing_by_name(fake_mirror: FakeMirror, tmp_path: Path):
    out = tmp_path / "cache"
    clips = load_corpus_manifest(_excerpt_manifest(fake_mirror, tmp_path, "t=2.5..6"))  # the clip is 3.5 s
    report = materialise(clips, out, GitMirrorSource(fake_mirror.root))
    assert list(report.missing) == ["panel.mp4"] and "holds" in report.missing["panel.mp4"]
    assert not (out / "panel.mp4").exists() and report.fetched == []
