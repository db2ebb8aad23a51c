"""A shard index reads back into its classes and writes the same bytes; anything else is refused
by name, and verification reports a damaged index instead of stopping on it."""

import json

import pytest

from curation.dataset.shard_reader import verify_shards
from curation.dataset.shard_writer import ShardSettings, ShardWriter
from curation.manifests.manifest_writer import write_manifest
from curation.store.run_store import RunStore
from schemas.shard_index import MemberSpan, ShardIndex, ShardIndexError, ShardSample, index_path_of


def _written(tmp_path) -> tuple[RunStore, bytes]:
    store = RunStore(str(tmp_path / "run"))
    (tmp_path / "staging").mkdir()
    row = ShardWriter(store, ShardSettings(), str(tmp_path / "staging")).write_shard(
        "", 0, [("b_key", {"wav": b"w" * 700, "mp4": b"m" * 1300}), ("a_key", {"json": b"{}"})]
    )
    assert row.index_path == index_path_of(row.path) == "shards/shard-000000.json"
    return store, store.read_bytes(row.index_path)


def test_an_index_the_writer_wrote_reads_back_and_writes_the_same_bytes(tmp_path):
    _store, data = _written(tmp_path)
    index = ShardIndex.from_json(data)
    assert index.keys() == ["b_key", "a_key"] and index.n_samples == 2
    mp4 = index.sample("b_key").members["mp4"]
    assert isinstance(mp4, MemberSpan) and mp4.size == 1300 and mp4.offset % 512 == 0
    assert index.sample("absent") is None
    assert index.to_json() == data
    # the writer's bytes are the sorted, indent-0 dump every earlier version wrote
    assert data == json.dumps(json.loads(data), sort_keys=True, indent=0).encode()
    assert ShardIndex("1.5", "s.tar", "", 1, 10, "0" * 64, [ShardSample("k", {})]).to_json().startswith(b"{\n")


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d[: len(d) // 2],  # truncated
        lambda d: json.dumps({**json.loads(d), "samples": "nope"}).encode(),
        lambda d: json.dumps({k: v for k, v in json.loads(d).items() if k != "bytes"}).encode(),
        lambda d: json.dumps({**json.loads(d), "surprise": 1}).encode(),
    ],
    ids=["truncated", "samples-not-a-list", "field-missing", "field-unknown"],
)
def test_a_file_that_is_not_an_index_is_refused_with_its_name(tmp_path, damage):
    _store, data = _written(tmp_path)
    with pytest.raises(ShardIndexError, match=r"shards/x\.json is not a shard index"):
        ShardIndex.from_json(damage(data), "shards/x.json")


def test_verification_reports_a_damaged_index_and_goes_on(tmp_path):
    store, data = _written(tmp_path)
    rows = [ShardIndex.from_json(data).manifest_row("shards/shard-000000.tar", "shards/shard-000000.json")]
    write_manifest(store, "shards", rows)
    write_manifest(store, "segments", [])
    assert verify_shards(store).problems == ["2 sample(s) in shards have no segment row, e.g. a_key"]
    store.write_bytes("shards/shard-000000.json", data[:40])
    problems = verify_shards(store).problems
    assert len(problems) == 1 and "shard-000000.json is not a shard index" in problems[0], problems
