"""``data.sampling: pairs`` on shards and a pairs manifest written by the pipeline itself: the
two-camera run of ``tests/conftest.py`` (``two_camera_run``: one conversation filmed by two
cameras, so pairs within each file and across the two, and an unrelated conversation)."""

import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch
from conftest import tiny_config

from lpm_train.data.audio_features import read_wav
from lpm_train.data.pair_stream import LISTENER, SPEAKER, PairBatchStream, aligned_starts, read_indexed
from lpm_train.data.sample_decoder import sample_record
from lpm_train.train_loop import train_base
from schemas.performer_states import PerformerState
from schemas.sample_layout import AUDIO_MEMBER, OWN_AUDIO_MEMBER, PARTNER_AUDIO_MEMBER, safe_key


@pytest.fixture(scope="module")
def pair_data(two_camera_run: Path) -> dict:
    shards = sorted(str(p) for p in (two_camera_run / "shards").rglob("*.tar"))
    rows = pq.read_table(two_camera_run / "manifest" / "pairs").to_pylist()
    return {"paths": {"train": shards, "heldout": []}, "pairs": rows}


def pairs_config(tmp_path: Path, pair_data: dict, *overrides: str):
    return tiny_config(tmp_path, pair_data, "data.sampling=pairs", "data.heldout_shards=[]", *overrides)


@pytest.mark.slow
def test_every_pair_gives_the_speaker_then_the_listener(pair_data: dict, tmp_path: Path):
    config = pairs_config(tmp_path, pair_data)
    stream = PairBatchStream(config.data, config.data.shards, resampled=False, shuffle=False)
    seen = []
    for batch in stream:
        assert batch.skipped == 0
        roles = batch.extra["pair_role"].tolist()
        assert roles == [SPEAKER, LISTENER] * (len(batch) // 2)
        for i in range(0, len(batch), 2):
            seen.append((batch.keys[i], batch.keys[i + 1]))
            speaker, listener = batch.cond.index(slice(i, i + 1)), batch.cond.index(slice(i + 1, i + 2))
            # The speaker's clip is driven by the speak stream, the listener's by the listen stream
            # (frame by frame, as labelled: a listener's clip may hold a frame of their own voice)
            assert speaker.speak_valid.any() and listener.listen_valid.any()
            assert speaker.audio_speak.abs().sum() > 0 and listener.audio_listen.abs().sum() > 0
    expected = {(safe_key(r["speaking_segment_id"]), safe_key(r["listening_segment_id"])) for r in pair_data["pairs"]}
    assert sorted(seen) == sorted(expected), "each pair of the manifest exactly once"
    across = {(safe_key(r["speaking_segment_id"]), safe_key(r["listening_segment_id"]))
              for r in pair_data["pairs"] if r["listener_video_id"] != r["video_id"]}
    assert across and across <= set(seen), "the pairs across the two cameras are among them"


@pytest.mark.slow
def test_a_pair_is_read_only_when_both_samples_pass_the_selection(pair_data: dict, tmp_path: Path):
    every = PairBatchStream(pairs_config(tmp_path, pair_data).data, pair_data["paths"]["train"], resampled=False,
                            shuffle=False)
    # A speaker without a verdict counts as uncertain, as the selection reads it.
    verdicts = {p: sample_record(read_indexed(p.speaker_key, every.index[p.speaker_key])).sync_verdict or "uncertain"
                for p in every.pairs}
    # The pipeline's own verdicts: select the pairs whose speaker carries the commonest one.
    commonest = max(set(verdicts.values()), key=list(verdicts.values()).count)
    assert commonest in ("in_sync", "uncertain")
    config = pairs_config(tmp_path, pair_data, f"data.sync_verdicts=[{commonest}]")
    stream = PairBatchStream(config.data, config.data.shards, resampled=False, shuffle=False)
    seen = [(batch.keys[i], batch.keys[i + 1]) for batch in stream for i in range(0, len(batch), 2)]
    assert sorted(seen) == sorted((p.speaker_key, p.listener_key) for p, v in verdicts.items() if v == commonest)
    # A verdict no speaker carries: every pair is left out, and a run-once stream simply ends.
    other = next(v for v in ("in_sync", "uncertain", "out_of_sync") if v not in verdicts.values())
    config = pairs_config(tmp_path, pair_data, f"data.sync_verdicts=[{other}]")
    assert list(PairBatchStream(config.data, config.data.shards, resampled=False, shuffle=False)) == []


@pytest.mark.slow
def test_a_cross_video_pair_is_cut_at_one_moment_and_driven_by_the_right_channels(pair_data: dict, tmp_path: Path):
    config = pairs_config(tmp_path, pair_data)
    stream = PairBatchStream(config.data, config.data.shards, resampled=False, shuffle=False)
    pair = next(p for p in stream.pairs if p.offset_s != 0.0)
    speaker = read_indexed(pair.speaker_key, stream.index[pair.speaker_key])
    listener = read_indexed(pair.listener_key, stream.index[pair.listener_key])
    s_record, l_record = sample_record(speaker), sample_record(listener)
    frames = 8
    starts = aligned_starts(pair, s_record, l_record, frames, random.Random(0))
    assert None not in starts, "the two cameras' segments share time"
    fps = float(s_record.fps)
    speaker_t = s_record.t_start + starts[0] / fps
    listener_t = l_record.t_start + starts[1] / fps
    assert abs((listener_t - speaker_t) - pair.offset_s) <= 1 / fps  # the same moment on both clocks

    decoder, shape = stream.decoder, (frames, 0)
    said = decoder.decode(speaker, shape, random.Random(0), start=starts[0])
    heard = decoder.decode(listener, shape, random.Random(0), start=starts[1])

    def features(raw, member: str, start: int) -> torch.Tensor:
        n_clip = int(sample_record(raw).n_frames or 0)
        return decoder.audio_encoder(read_wav(raw.members[member]), fps, n_clip)[start : start + frames]

    speak_frames = said.state == int(PerformerState.SPEAKING)
    assert speak_frames.any()
    assert torch.allclose(said.audio_speak[speak_frames], features(speaker, OWN_AUDIO_MEMBER, starts[0])[speak_frames])
    listen_frames = heard.state == int(PerformerState.LISTENING)
    assert listen_frames.any()
    partner = features(listener, PARTNER_AUDIO_MEMBER, starts[1])
    assert torch.allclose(heard.audio_listen[listen_frames], partner[listen_frames])
    # What the listener hears is what the speaker says, at the same moment: the two mixes agree
    mix_said, mix_heard = features(speaker, AUDIO_MEMBER, starts[0]), features(listener, AUDIO_MEMBER, starts[1])
    same = torch.corrcoef(torch.stack([mix_said.flatten(), mix_heard.flatten()]))[0, 1]
    assert same > 0.8


@pytest.mark.slow
def test_training_on_pairs_resumes_exactly(pair_data: dict, tmp_path: Path):
    """Training steps on pairs, two loader workers; stopped after 3 steps and resumed, the losses
    are those of the uninterrupted run (the pair stream skips consumed batches before decode)."""
    torch.set_num_threads(1)
    common = ["data.num_workers=2", "train.warmup_steps=2", "train.checkpoint_every=1000"]
    straight = train_base(pairs_config(tmp_path / "a", pair_data, "train.steps=6", *common))
    assert straight.step == 6 and straight.skipped_samples == 0
    assert all(torch.isfinite(torch.tensor(loss)) for _, loss in straight.losses)
    first = train_base(pairs_config(tmp_path / "b", pair_data, "train.steps=3", *common))
    resumed = train_base(pairs_config(tmp_path / "b", pair_data, "train.steps=6", *common))
    expected = dict(straight.losses)
    assert [loss for _, loss in first.losses] == [expected[s] for s in range(1, 4)]
    assert [loss for _, loss in resumed.losses] == [expected[s] for s in range(4, 7)]  # exact, not approx
