"""The shard plan assigns samples exactly as a serial writer fills shards, so planned shards packed
one task each are byte-identical to shards written one after another."""

import pytest

from curation.dataset.shard_plan import ShardPlan, plan_shards
from curation.dataset.shard_writer import ShardSettings, ShardWriter
from curation.runtime.products import SampleEntry, SampleSet
from curation.store.run_store import RunStore
from schemas.tables import SegmentRow, ShardRow
from tests.curation.dataset.real_samples import real_members

CLIP = "talkvid_tys_gt.mp4"


@pytest.fixture(scope="module")
def videos(shared_media):
    """Three videos' samples (key -> members) of different sizes, two states."""
    clip = str(shared_media / CLIP)
    return {
        f"v{v}": {
            f"v{v}-s0000-t00-g{i:03d}": real_members(clip, 0.4 * i, 0.5 + 0.5 * v, f"k{v}{i}")
            for i in range(2 + v)
        }
        for v in range(3)
    }


def _state(key: str) -> str:
    return "speaking" if int(key[-1]) % 2 else "listening"


def _sample_sets(videos, settings):
    return [
        (video_id, SampleSet("unused", [
            SampleEntry(key, key, settings.bucket_of(SegmentRow(state=_state(key))),
                        {e: len(d) for e, d in members.items()}, stem=key)
            for key, members in samples.items()
        ]))
        for video_id, samples in sorted(videos.items())
    ]


@pytest.mark.parametrize("target_bytes,bucket_by", [(1, []), (60_000, []), (120_000, ["state"]), (10**9, [])])
def test_planned_shards_equal_serially_written_shards(tmp_path, videos, target_bytes, bucket_by):
    settings = ShardSettings(target_bytes, bucket_by)
    serial = ShardWriter(RunStore(str(tmp_path / "serial")), settings, str(tmp_path / "stage-a"))
    (tmp_path / "stage-a").mkdir()
    for _video_id, samples in sorted(videos.items()):
        for key in sorted(samples):
            serial.add(settings.bucket_of(SegmentRow(state=_state(key))), key, samples[key])
    serial_rows = serial.close()

    plan = plan_shards(_sample_sets(videos, settings), settings)
    assert ShardPlan.from_json(plan.to_json()).digest() == plan.digest()
    (tmp_path / "stage-b").mkdir()
    planned_rows = []
    for shard in reversed(plan.shards):  # any order, as tasks finish
        writer = ShardWriter(RunStore(str(tmp_path / "planned")), settings, str(tmp_path / "stage-b"))
        samples = ((key, videos[video_id][key]) for video_id, key in shard.samples)
        planned_rows.append(writer.write_shard(shard.bucket, shard.number, samples))
    assert len(plan.shards) == len(serial_rows) >= 1
    def digests(rows: list[ShardRow]) -> list[tuple[str | None, str | None]]:
        return sorted((r.path, r.sha256) for r in rows)

    assert digests(planned_rows) == digests(serial_rows)
    if target_bytes == 1:
        assert len(plan.shards) == sum(len(s) for s in videos.values())
