"""Shards: byte-identical rewrites, correct index offsets, random access, atomic commits."""

import hashlib
import json
import tarfile
import tempfile

import pytest

from curation.dataset.shard_reader import read_sample
from curation.dataset.shard_writer import ShardSettings, ShardWriter, staging_folder
from curation.store.run_store import RunStore
from schemas.tables import SegmentRow
from tests.curation.dataset.real_samples import real_members

CLIP = "talkvid_tys_gt.mp4"


@pytest.fixture(scope="module")
def samples(shared_media):
    clip = str(shared_media / CLIP)
    return [(f"vid-s0000-t00-g{i:03d}", real_members(clip, 0.5 * i, 1.0, f"k{i}")) for i in range(5)]


def _write(tmp_path, samples, target_bytes, bucket_by=()):
    store = RunStore(str(tmp_path))
    (tmp_path / "shards").mkdir(parents=True, exist_ok=True)
    writer = ShardWriter(store, ShardSettings(target_bytes, list(bucket_by)), str(tmp_path / "shards"))
    for i, (key, members) in enumerate(samples):
        writer.add(writer.settings.bucket_of(SegmentRow(state="speaking" if i % 2 else "listening")), key, members)
    return store, writer.close(), writer.locations


def test_same_samples_give_byte_identical_shards(tmp_path, samples):
    _, rows_a, _ = _write(tmp_path / "a", samples, 10_000_000)
    _, rows_b, _ = _write(tmp_path / "b", samples, 10_000_000)
    assert [r.sha256 for r in rows_a] == [r.sha256 for r in rows_b]
    assert (tmp_path / "a/shards/shard-000000.tar").read_bytes() == (
        tmp_path / "b/shards/shard-000000.tar"
    ).read_bytes()


def test_target_size_splits_shards_and_index_offsets_are_exact(tmp_path, samples):
    store, rows, locations = _write(tmp_path, samples, target_bytes=1)  # every sample closes its shard
    assert len(rows) == len(samples)
    assert sum(r.n_samples or 0 for r in rows) == len(samples)
    for key, members in samples:
        shard, _ = locations[key]
        assert read_sample(store, shard, key) == members
        with tarfile.open(store.local_path(shard)) as tar:
            names = sorted(m.name for m in tar.getmembers())
            assert names == sorted(f"{key}.{ext}" for ext in members)
            assert all(m.mtime == 0 and m.uid == 0 and m.uname == "" for m in tar.getmembers())
    for row in rows:
        data = store.local_path(row.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row.sha256 and len(data) == row.bytes
        index = json.loads(store.local_path(row.index_path).read_text())
        assert index["n_samples"] == row.n_samples
    assert not list(tmp_path.rglob(".tmp-*")), "no temporary file survives a commit"


def test_bucketing_puts_each_state_in_its_own_folder(tmp_path, samples):
    _, rows, locations = _write(tmp_path, samples, 10_000_000, bucket_by=["state"])
    assert sorted(r.bucket for r in rows) == ["state=listening", "state=speaking"]
    assert locations[samples[1][0]][0] == "shards/state=speaking/shard-000000.tar"


def test_a_damaged_member_is_detected_on_read(tmp_path, samples):
    store, _, locations = _write(tmp_path, samples[:1], 10_000_000)
    key = samples[0][0]
    shard = store.local_path(locations[key][0])
    index = json.loads(shard.with_suffix(".json").read_text())
    where = index["samples"][0]["members"]["mp4"]
    data = bytearray(shard.read_bytes())
    data[where["offset"] + where["size"] // 2] ^= 0xFF  # one byte in the middle of the clip
    shard.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="checksum"):
        read_sample(store, locations[key][0], key)


def test_an_object_stores_shards_leave_no_local_file_after_upload_or_a_failed_one(tmp_path, samples, monkeypatch):
    """A worker packs shards for an object store in a local staging folder; thousands of shards (and
    a whole shard each time an upload failed) must not stay on its node's disk."""
    local = tmp_path / "node-tmp"
    local.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(local))
    store = RunStore("memory://lpm-staging-test/run")
    try:
        with staging_folder(store) as staging:
            row = ShardWriter(store, ShardSettings(), staging).write_shard("", 0, samples[:2])
        assert store.exists(row.path) and not list(local.iterdir())

        def refused(*_args):
            raise OSError("503 Slow Down")

        monkeypatch.setattr(RunStore, "put_file", refused)
        with pytest.raises(OSError, match="Slow Down"), staging_folder(store) as staging:
            ShardWriter(store, ShardSettings(), staging).write_shard("", 1, samples[2:])
        assert not list(local.iterdir()), "the failed upload's shard is not left on the node"
    finally:
        store.remove("")
