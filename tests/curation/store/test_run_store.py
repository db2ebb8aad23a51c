"""Run-directory writes are atomic: a reader sees the old file or the new one, never a part."""

import os
from pathlib import Path

import pytest

from curation.faults.store_retry import is_transient
from curation.store.run_store import TEMP_PREFIX, RunStore, UnsafeRunPathError


def test_write_replaces_whole_files_and_lists_only_committed_ones(tmp_path: Path) -> None:
    store = RunStore(str(tmp_path / "run"))
    store.write_bytes("work/videos/a.pkl", b"first")
    store.write_bytes("work/videos/a.pkl", b"second")
    (tmp_path / "run" / "work" / "videos" / f"{TEMP_PREFIX}half").write_bytes(b"par")
    assert store.read_bytes("work/videos/a.pkl") == b"second"
    assert list(store.list("work/videos", ".pkl")) == ["a.pkl"]
    assert list(store.list("work/videos")) == ["a.pkl"]
    assert list(store.list("nowhere")) == []


def test_a_write_that_dies_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RunStore(str(tmp_path))
    store.write_bytes("run.json", b'{"old": true}')

    def crash(src: str, dst: str) -> None:
        raise OSError("disk vanished")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk vanished"):
        store.write_bytes("run.json", b'{"new": true}')
    monkeypatch.undo()
    assert store.read_bytes("run.json") == b'{"old": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]


def test_leftovers_of_a_killed_write_are_removed_on_the_next_start(tmp_path: Path) -> None:
    store = RunStore(f"file://{tmp_path}")
    (tmp_path / "manifest").mkdir()
    (tmp_path / "manifest" / f"{TEMP_PREFIX}abc").write_bytes(b"partial parquet")
    (tmp_path / f"{TEMP_PREFIX}def").write_bytes(b"partial run.json")
    store.write_bytes("manifest/videos.parquet", b"whole")
    assert store.remove_temporaries() == 2
    assert [p.name for p in (tmp_path / "manifest").iterdir()] == ["videos.parquet"]


def test_object_store_uri_goes_through_fsspec() -> None:
    import fsspec

    store = RunStore("memory://runs/r1/")
    try:
        store.write_bytes("manifest/videos.parquet", b"rows")
        assert store.exists("manifest/videos.parquet") and store.read_bytes("manifest/videos.parquet") == b"rows"
        assert list(store.list("manifest", ".parquet")) == ["videos.parquet"]
        with pytest.raises(ValueError, match="remote"):
            store.local_path("run.json")
    finally:
        fsspec.filesystem("memory").rm("/runs", recursive=True)


def test_nothing_is_written_or_removed_through_a_link_in_the_run(tmp_path: Path) -> None:
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    (elsewhere / "mine.tar").write_bytes(b"a user's file")
    run = tmp_path / "run"
    run.mkdir()
    (run / "shards").symlink_to(elsewhere)
    store = RunStore(str(run))
    with pytest.raises(UnsafeRunPathError, match="link"):
        store.write_bytes("shards/mine.tar", b"overwritten")
    with pytest.raises(UnsafeRunPathError, match="link"):
        store.remove("shards/mine.tar")
    with pytest.raises(UnsafeRunPathError, match="outside"):
        store.write_bytes("../escaped.json", b"{}")
    assert (elsewhere / "mine.tar").read_bytes() == b"a user's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "run"]
    # a link refused is the run's fault, not the store's: never retried as a passing error
    assert not is_transient(UnsafeRunPathError("x"))


def test_a_run_directory_reached_through_a_link_is_the_users_choice(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "via").symlink_to(tmp_path / "real")
    store = RunStore(str(tmp_path / "via"))
    store.write_bytes("manifest/videos.parquet", b"rows")
    assert (tmp_path / "real" / "manifest" / "videos.parquet").read_bytes() == b"rows"


def test_an_s3_store_follows_the_endpoint_of_its_environment_not_an_earlier_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """fsspec caches clients by their arguments, which leave out the endpoint botocore reads from the
    environment: a store made after the first endpoint closed must not reuse that endpoint's client
    (CI: a later test's ``RunStore`` sent its requests to an earlier test's closed moto server)."""
    from tests.curation.runtime.s3_endpoint import s3_endpoint, s3_filesystem

    with s3_endpoint() as first:
        for key, value in first.items():
            monkeypatch.setenv(key, value)
        s3_filesystem(first).mkdir("runs")
        RunStore("s3://runs/a").write_bytes("run.json", b"first")
    with s3_endpoint() as second:
        assert second["AWS_ENDPOINT_URL"] != first["AWS_ENDPOINT_URL"]
        for key, value in second.items():
            monkeypatch.setenv(key, value)
        s3_filesystem(second).mkdir("runs")
        store = RunStore("s3://runs/a")
        store.write_bytes("run.json", b"second")
        assert store.read_bytes("run.json") == b"second"


def test_listing_an_s3_folder_keeps_no_listing_in_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """s3fs caches each listing with every object's details (~1.2 KB an object): a driver that
    lists a block's folder of 10^5 videos would keep hundreds of MB. The store wants the names once; a
    file written since (by a worker) is listed the next time."""
    from tests.curation.runtime.s3_endpoint import s3_endpoint, s3_filesystem

    with s3_endpoint() as endpoint:
        for key, value in endpoint.items():
            monkeypatch.setenv(key, value)
        s3_filesystem(endpoint).mkdir("runs")
        store = RunStore("s3://runs/a")
        for name in ("v1.outcome.json", "v1.json", "v2.outcome.json"):
            store.write_bytes(f"work/block0/{name}", b"{}")
        assert list(store.list("work/block0", ".outcome.json")) == ["v1.outcome.json", "v2.outcome.json"]
        assert not store.fs.dircache, "no listing left behind"
        RunStore("s3://runs/a").write_bytes("work/block0/v3.outcome.json", b"{}")  # another process
        assert list(store.list("work/block0", ".outcome.json"))[-1] == "v3.outcome.json"
