"""Our shards read by the standard WebDataset readers: webdataset, Ray Data and HF datasets."""

import json

import pytest

from curation.dataset.shard_writer import ShardSettings, ShardWriter
from curation.store.run_store import RunStore
from tests.curation.dataset.real_samples import real_members


@pytest.fixture(scope="module")
def shard_dir(shared_media, tmp_path_factory):
    root = tmp_path_factory.mktemp("readers")
    (root / "shards").mkdir()
    writer = ShardWriter(RunStore(str(root)), ShardSettings(target_bytes=40_000), str(root / "shards"))
    keys = []
    for i in range(4):
        key = f"abc-s0000-t00-g{i:03d}"
        writer.add("", key, real_members(str(shared_media / "fantasy_end0.1.mp4"), 0.4 * i, 1.0, key))
        keys.append(key)
    rows = writer.close()
    assert len(rows) >= 2, "the small target makes several shards"
    return root / "shards", keys


def test_webdataset_library_reads_every_sample(shard_dir):
    import webdataset as wds

    folder, keys = shard_dir
    urls = sorted(str(p) for p in folder.glob("*.tar"))
    seen = {}
    for sample in wds.WebDataset(urls, shardshuffle=False):
        seen[sample["__key__"]] = sample
    assert sorted(seen) == keys
    first = seen[keys[0]]
    assert set(first) >= {"mp4", "wav", "npz", "json", "txt"}
    assert json.loads(first["json"])["key"] == keys[0]
    assert first["mp4"][4:8] == b"ftyp"


def test_ray_data_read_webdataset(shard_dir, ray_session):
    import ray.data

    folder, keys = shard_dir
    # The shard folder also holds the .json indexes: hand Ray the tar files only.
    rows = ray.data.read_webdataset(sorted(str(p) for p in folder.glob("*.tar")), decoder=None).take_all()
    assert sorted(r["__key__"] for r in rows) == keys
    assert all(r["mp4"][4:8] == b"ftyp" for r in rows)


def test_huggingface_datasets_webdataset_loader(shard_dir):
    from datasets import load_dataset

    folder, keys = shard_dir
    dataset = load_dataset("webdataset", data_files={"train": sorted(str(p) for p in folder.glob("*.tar"))},
                           split="train", streaming=True)
    got = list(dataset)
    assert sorted(row["__key__"] for row in got) == keys
    assert {"mp4", "wav", "json", "txt"} <= set(got[0])
