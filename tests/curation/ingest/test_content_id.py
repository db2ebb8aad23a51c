"""A video's id comes from its bytes; inputs that cannot be read get a reason instead of an id."""

import hashlib
import os
import random
from pathlib import Path

import fsspec
import pytest

from curation.ingest.content_id import identify_input
from curation.ingest.local_copy import ensure_local
from schemas.reasons import Reason


def test_id_is_the_content_hash_and_ignores_the_name(shared_media: Path, tmp_path: Path) -> None:
    source = shared_media / "fantasy_end0.1.mp4"
    twin = tmp_path / "renamed twin.mp4"
    twin.symlink_to(source)
    first, second = identify_input(str(source)), identify_input(str(twin))
    assert first.video_id == hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    assert second.video_id == first.video_id and second.uri == str(twin)
    assert first.size_bytes == source.stat().st_size and first.reason is None


def test_different_content_gets_a_different_id(shared_media: Path) -> None:
    a = identify_input(str(shared_media / "fantasy_end0.1.mp4"))
    b = identify_input(str(shared_media / "fantasy_end0.4.mp4"))
    assert a.video_id != b.video_id


@pytest.mark.parametrize(
    ("make", "reason", "words"),
    [
        (lambda p: p.write_bytes(b""), Reason.EMPTY_FILE, "zero bytes"),
        (lambda p: None, Reason.MISSING_FILE, "not found"),
        (lambda p: p.mkdir(), Reason.NOT_A_FILE, "not a regular file"),
        (lambda p: os.mkfifo(p), Reason.NOT_A_FILE, "not a regular file"),
        (lambda p: p.symlink_to(p.name), Reason.NOT_A_FILE, "symbolic link loop"),
        (lambda p: p.symlink_to(p.parent / "gone.mp4"), Reason.MISSING_FILE, "not found"),
    ],
    ids=["empty", "missing", "directory", "fifo", "self-link", "dangling-link"],
)
def test_unreadable_inputs_get_a_reason_and_no_id(tmp_path: Path, make, reason: Reason, words: str) -> None:
    path = tmp_path / "x.mp4"
    make(path)
    identity = identify_input(str(path))
    assert (identity.video_id, identity.reason) == (None, reason)
    assert words in (identity.detail or "")


def test_remote_input_is_hashed_while_streaming_and_copied_by_whoever_analyses_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LPM_CACHE_DIR", str(tmp_path / "cache"))
    fs = fsspec.filesystem("memory")
    content = random.Random(36).randbytes(9 << 20)  # more than two of identify's 4 MB reads
    fs.pipe("/remote/clip.mp4", content)
    try:
        identity = identify_input("memory://remote/clip.mp4")
        # the same function of the bytes as a local file's id: resumed runs keep their ids
        assert identity.video_id == hashlib.sha256(content).hexdigest()[:16]
        assert (identity.size_bytes, identity.local_path) == (len(content), None)
        assert not (tmp_path / "cache").exists()  # identify keeps no copy
        # the node that analyses it fetches it into its cache, keyed by the content id
        local = Path(ensure_local("memory://remote/clip.mp4", identity.video_id))
        assert local.read_bytes() == content and local.parent == tmp_path / "cache" / "inputs"
        assert local.name == f"{identity.video_id}.mp4"
    finally:
        fs.rm("/remote", recursive=True)

