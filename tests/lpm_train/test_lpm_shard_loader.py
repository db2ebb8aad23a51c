import random
from pathlib import Path

import torch
import webdataset as wds
from conftest import tiny_config

from lpm_train.data.byte_shuffle import byte_bounded_shuffle
from lpm_train.data.shape_batcher import batches_by_shape
from lpm_train.data.shard_loader import make_loader, worker_share
from lpm_train.data.shard_stream import ReaderPosition, expand_shard_urls, read_shard_samples, shard_sequence
from schemas.performer_states import PerformerState


def first_batches(config, shards, n, **kwargs):
    loader = iter(make_loader(config.data, shards, **kwargs))
    return [next(loader) for _ in range(n)]


def test_batches_from_real_clip_shards_have_model_shapes(media_shards, tmp_path):
    config = tiny_config(tmp_path, media_shards)
    batches = first_batches(config, config.data.shards, 3, resampled=True)
    keys = set(media_shards["keys"]["train"])
    for batch in batches:
        b = len(batch)
        assert b >= 1 and set(batch.keys) <= keys
        assert batch.video.shape == (b, 8, 3, 16, 16)
        assert float(batch.video.min()) >= -1.0 and float(batch.video.max()) <= 1.0
        # Real faces, not blank frames: clear spatial contrast in every clip.
        assert float(batch.video.std(dim=(1, 2, 3, 4)).min()) > 0.1
        assert batch.cond.audio_speak.shape == (b, 8, 64)
        assert batch.cond.text.shape == (b, 32) and bool(batch.cond.text_valid.any(dim=1).all())
        assert batch.cond.refs.shape[:2] == (b, batch.cond.ref_valid.shape[1])


def test_audio_streams_follow_the_per_frame_states(media_shards, tmp_path):
    config = tiny_config(tmp_path, media_shards, "data.frame_buckets=[50]", "data.batch_size=1")
    loader = make_loader(config.data, config.data.shards, resampled=False, shuffle=False)
    seen_states = set()
    for batch in loader:
        cond = batch.cond
        speaking = cond.state == int(PerformerState.SPEAKING)
        listening = cond.state == int(PerformerState.LISTENING)
        assert torch.equal(cond.speak_valid, speaking) and torch.equal(cond.listen_valid, listening)
        # Features exist exactly on the frames their stream drives.
        assert bool((cond.audio_speak.abs().sum(-1) > 0)[speaking].all())
        assert float(cond.audio_speak[~speaking].abs().sum()) == 0.0
        assert float(cond.audio_listen[~listening].abs().sum()) == 0.0
        seen_states |= set(cond.state.unique().tolist())
    assert seen_states == {0, 1, 2}


def test_missing_optional_members_and_unknown_members_are_tolerated(media_shards, tmp_path):
    config = tiny_config(tmp_path, media_shards, "data.batch_size=1")
    shards = config.data.shards + config.data.heldout_shards
    members = {}
    for url in shards:
        for raw in read_shard_samples(url):
            members[raw.key] = set(raw.members)
    without_refs = [k for k, m in members.items() if "ref_00.jpg" not in m]
    without_npz = [k for k, m in members.items() if "npz" not in m]
    with_extra = [k for k, m in members.items() if "extra.bin" in m]
    assert without_refs and without_npz and with_extra, "the test shards must cover these cases"
    decoded = {}
    for batch in make_loader(config.data, shards, resampled=False, shuffle=False):
        decoded[batch.keys[0]] = batch
    assert set(decoded) == set(members)
    for key in without_refs:
        assert decoded[key].cond.refs.shape[1] == 0
    for key in without_npz:  # states came from the record's state_timeline instead
        assert decoded[key].cond.state.shape == (1, 8)


def _write_bad_shard(path, good_raw):
    with wds.TarWriter(str(path), encoder=False) as writer:
        broken = dict(good_raw.members)
        broken["mp4"] = broken["mp4"][:200]  # truncated video
        writer.write({"__key__": "broken_video", **broken})
        no_audio = {k: v for k, v in good_raw.members.items() if k != "wav"}
        writer.write({"__key__": "no_audio", **no_audio})
        bad_json = dict(good_raw.members, json=b"{not json")
        writer.write({"__key__": "bad_json", **bad_json})
        writer.write({"__key__": "good", **good_raw.members})


def test_bad_samples_and_truncated_shards_are_skipped_not_fatal(media_shards, tmp_path, caplog):
    config = tiny_config(tmp_path, media_shards, "data.batch_size=2")
    good = next(iter(read_shard_samples(config.data.shards[0])))
    bad = tmp_path / "bad.tar"
    _write_bad_shard(bad, good)
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(Path(config.data.shards[0]).read_bytes()[:150_000])
    batches = list(make_loader(config.data, [str(bad), str(truncated)], resampled=False, shuffle=False))
    keys = [k for b in batches for k in b.keys]
    assert "good" in keys and not {"broken_video", "no_audio", "bad_json"} & set(keys)
    assert sum(b.skipped for b in batches) >= 1  # the truncated video fails at decode
    logged = caplog.text
    assert "broken_video" in logged and "no_audio" in logged and "bad_json" in logged
    assert "read error" in logged  # the truncated shard


def test_skipping_batches_replays_the_stream_exactly(media_shards, tmp_path):
    config = tiny_config(tmp_path, media_shards, "data.num_workers=2")
    full = first_batches(config, config.data.shards, 6, resampled=True)
    resumed = first_batches(config, config.data.shards, 3, resampled=True, skip_batches=3)
    for a, b in zip(full[3:], resumed, strict=True):
        assert a.keys == b.keys
        assert torch.equal(a.video, b.video) and torch.equal(a.cond.audio_speak, b.cond.audio_speak)
    # Two workers really interleave: the first two batches come from different streams.
    assert full[0].keys != full[1].keys


def test_worker_share_counts_round_robin_batches():
    assert [worker_share(7, w, 3) for w in range(3)] == [3, 2, 2]
    assert sum(worker_share(10, w, 4) for w in range(4)) == 10


def test_shards_split_by_node_and_worker():
    urls = [f"s{i}.tar" for i in range(10)]
    seen = []
    for rank in range(2):
        for worker in range(2):
            seen += list(shard_sequence(urls, False, 0, ReaderPosition(rank, 2, worker, 2)))
    assert sorted(seen) == sorted(urls)  # every shard exactly once
    draws = {}
    for worker in range(2):
        stream = shard_sequence(urls, True, 0, ReaderPosition(0, 1, worker, 2))
        draws[worker] = [next(stream) for _ in range(20)]
    assert draws[0] != draws[1]
    again = shard_sequence(urls, True, 0, ReaderPosition(0, 1, 0, 2))
    assert [next(again) for _ in range(20)] == draws[0]


def test_expand_shard_urls_handles_braces_and_globs(tmp_path):
    for i in range(3):
        (tmp_path / f"train-{i:06d}.tar").write_bytes(b"")
    braces = expand_shard_urls([str(tmp_path / "train-{000000..000002}.tar")])
    globbed = expand_shard_urls([str(tmp_path / "train-*.tar")])
    assert braces == globbed and len(braces) == 3


class Blob:
    def __init__(self, index, nbytes):
        self.index, self.nbytes = index, nbytes


def test_byte_bounded_shuffle_bounds_memory_and_permutes():
    items = [Blob(i, 10 + (i % 7) * 30) for i in range(300)]
    held, peak = [], 0

    def tracked():
        for item in items:
            held.append(item)
            yield item

    out = []
    for item in byte_bounded_shuffle(tracked(), 500, random.Random(0)):
        out.append(item)
        in_buffer = [b for b in held if b not in out]
        peak = max(peak, sum(b.nbytes for b in in_buffer))
    assert sorted(b.index for b in out) == list(range(300))
    assert [b.index for b in out] != list(range(300))
    assert peak <= 500 + max(b.nbytes for b in items)


def test_shape_batcher_groups_and_flushes_rare_shapes():
    samples = [("a", i) for i in range(7)] + [("b", 0)]
    batches = list(batches_by_shape(samples, lambda s: s[0], batch_size=3, max_pending=64))
    assert [(shape, len(b)) for shape, b in batches] == [("a", 3), ("a", 3), ("a", 1), ("b", 1)]
    assert all(len({s[0] for s in b}) == 1 for _, b in batches)
    shapes = [("rare", 0)] + [("common", i) for i in range(5)]
    flushed = list(batches_by_shape(shapes, lambda s: s[0], batch_size=10, max_pending=3))
    assert flushed[0][0] == "common" and len(flushed[0][1]) == 3


def test_shards_stream_from_an_fsspec_object_store(media_shards, tmp_path):
    import fsspec

    store = fsspec.filesystem("memory")
    for path in media_shards["paths"]["train"]:
        store.pipe(f"/lpm-bucket/{Path(path).name}", Path(path).read_bytes())
    try:
        urls = expand_shard_urls(["memory://lpm-bucket/train-*.tar"])
        assert len(urls) == len(media_shards["paths"]["train"]) and all(u.startswith("memory://") for u in urls)
        config = tiny_config(tmp_path, media_shards)
        batch = first_batches(config, ["memory://lpm-bucket/train-*.tar"], 1, resampled=True)[0]
        assert len(batch) >= 1 and batch.video.shape[1:] == (8, 3, 16, 16)
    finally:
        store.rm("/lpm-bucket", recursive=True)


def test_own_and_partner_channels_drive_the_speak_and_listen_streams(media_shards, tmp_path):
    """Schema 1.4 samples carry ``own.wav`` and ``partner.wav``: the speak stream reads the first,
    the listen stream the second; without them (older shards) both read ``wav``."""
    import io
    import wave

    import numpy as np

    from lpm_train.data.sample_decoder import SampleDecoder

    def silence_like(data: bytes) -> bytes:
        with wave.open(io.BytesIO(data)) as w:
            params, n = w.getparams(), w.getnframes()
        out = io.BytesIO()
        with wave.open(out, "wb") as w:
            w.setparams(params)
            w.writeframes(np.zeros(n * params.nchannels, np.int16).tobytes())
        return out.getvalue()

    config = tiny_config(tmp_path, media_shards)
    decoder = SampleDecoder(config.data)
    raw = next(r for url in config.data.shards for r in read_shard_samples(url) if "npz" in r.members)
    states = torch.from_numpy(np.load(io.BytesIO(raw.members["npz"]))["state"].astype(np.int64))
    shape = decoder.shape_of(raw)
    old = decoder.decode(raw, shape, random.Random(0))
    raw.members["own.wav"] = silence_like(raw.members["wav"])
    raw.members["partner.wav"] = raw.members["wav"]
    new = decoder.decode(raw, shape, random.Random(0))
    speaking = new.state == int(PerformerState.SPEAKING)
    assert bool(speaking.any()) and bool(states.eq(int(PerformerState.SPEAKING)).any())
    silent = decoder.audio_encoder(torch.zeros(16_000), 25.0, 1)[0]
    # The speak stream now hears own.wav's silence, where it heard the mix before
    assert torch.allclose(new.audio_speak[speaking], silent.expand_as(new.audio_speak[speaking]), atol=1e-5)
    assert not torch.allclose(old.audio_speak[speaking], new.audio_speak[speaking])
    assert torch.equal(old.audio_listen, new.audio_listen)  # partner.wav is the same mix here
