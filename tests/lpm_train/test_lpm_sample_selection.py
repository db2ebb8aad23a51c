"""``data.sync_verdicts`` and ``data.skip_picture_twins``: the trainer reads only the samples whose
records pass, in the segment stream (here) and the pair stream (``test_lpm_pair_sampling.py``)."""

import json
import logging
from pathlib import Path

import pytest
import webdataset as wds
from conftest import tiny_config

from lpm_train.config import ConfigError, save_resolved
from lpm_train.data import sample_selection
from lpm_train.data.sample_decoder import sample_record
from lpm_train.data.sample_selection import SampleSelection, warn_if_selection_changed
from lpm_train.data.shard_loader import make_loader
from lpm_train.data.shard_stream import read_shard_samples
from schemas.sample_record import SampleRecord

# (sync_verdict, picture_twin_of) given to the speaking samples in turn; None: the key is absent,
# as in a sample written before schema 1.4
SPEAKING_FLAGS = [("in_sync", None), ("uncertain", None), ("in_sync", "other-segment"), (None, None)]


@pytest.fixture(scope="module")
def flagged_shard(media_shards, tmp_path_factory) -> dict:
    """The train shards' samples in one shard, speaking ones flagged in turn by ``SPEAKING_FLAGS``;
    returns its path and each key's record."""
    path = tmp_path_factory.mktemp("flagged") / "flagged-000000.tar"
    records, spoken = {}, 0
    with wds.TarWriter(str(path), encoder=False) as writer:
        for url in media_shards["paths"]["train"]:
            for raw in read_shard_samples(url):
                document = json.loads(raw.members["json"])
                document.pop("sync_verdict", None)
                document.pop("picture_twin_of", None)
                if document["state"] == "speaking":
                    verdict, twin = SPEAKING_FLAGS[spoken % len(SPEAKING_FLAGS)]
                    spoken += 1
                    if verdict is not None:
                        document["sync_verdict"] = verdict
                    document["picture_twin_of"] = twin
                members = {**raw.members, "json": json.dumps(document).encode()}
                writer.write({"__key__": raw.key, **members})
                records[raw.key] = SampleRecord.from_document(document)
    assert spoken >= len(SPEAKING_FLAGS), "the shard must hold every flag combination"
    assert any(r.state != "speaking" for r in records.values())
    return {"path": str(path), "records": records}


def keys_read(tmp_path: Path, shard: str, *overrides: str) -> list[str]:
    config = tiny_config(tmp_path, None, f"data.shards={json.dumps([shard])}", "data.batch_size=1", *overrides)
    return [key for batch in make_loader(config.data, [shard], resampled=False, shuffle=False) for key in batch.keys]


def test_speaking_samples_are_read_only_with_a_chosen_verdict(flagged_shard, tmp_path):
    records = flagged_shard["records"]
    every = keys_read(tmp_path, flagged_shard["path"])
    assert sorted(every) == sorted(records), "no selection: every sample"

    confirmed = keys_read(tmp_path, flagged_shard["path"], "data.sync_verdicts=[in_sync]")
    expected = [k for k in every if records[k].state != "speaking" or records[k].sync_verdict == "in_sync"]
    assert confirmed == expected, "the order of the stream is kept, only the others are left out"
    # Speaking samples without a verdict (before schema 1.4) are uncertain: nothing confirmed them.
    no_verdict = {k for k, r in records.items() if r.state == "speaking" and r.sync_verdict is None}
    assert no_verdict and not no_verdict & set(confirmed)
    doubtful = keys_read(tmp_path, flagged_shard["path"], "data.sync_verdicts=[uncertain]")
    assert no_verdict <= set(doubtful)
    assert all(records[k].sync_verdict != "in_sync" for k in doubtful)


def test_picture_twins_are_left_out_when_asked(flagged_shard, tmp_path):
    records = flagged_shard["records"]
    kept = keys_read(tmp_path, flagged_shard["path"], "data.skip_picture_twins=true")
    twins = {k for k, r in records.items() if r.picture_twin_of}
    assert twins and sorted(kept) == sorted(set(records) - twins)
    both = keys_read(tmp_path, flagged_shard["path"], "data.skip_picture_twins=true", "data.sync_verdicts=[in_sync]")
    confirmed = [k for k in kept if records[k].state != "speaking" or records[k].sync_verdict == "in_sync"]
    assert sorted(both) == sorted(confirmed)


def test_what_is_left_out_is_logged(flagged_shard, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger=sample_selection.__name__):
        keys_read(tmp_path, flagged_shard["path"], "data.sync_verdicts=[in_sync]")
    lines = [r.getMessage() for r in caplog.records if r.name == sample_selection.__name__]
    assert lines and "left out" in lines[0] and "sync_verdict=uncertain" in lines[0]


def test_a_stream_that_nothing_passes_ends_or_if_resampled_fails(flagged_shard, tmp_path, monkeypatch):
    monkeypatch.setattr(sample_selection, "LEFT_OUT_IN_A_ROW_LIMIT", 50)
    # Only the speaking samples, none of them out of sync: nothing passes.
    shard = tmp_path / "speaking-000000.tar"
    with wds.TarWriter(str(shard), encoder=False) as writer:
        for raw in read_shard_samples(flagged_shard["path"]):
            if flagged_shard["records"][raw.key].state == "speaking":
                writer.write({"__key__": raw.key, **raw.members})
    config = tiny_config(tmp_path, None, f"data.shards={json.dumps([str(shard)])}", "data.batch_size=1",
                         "data.sync_verdicts=[out_of_sync]")
    selection = SampleSelection.of(config.data)
    assert all(selection.why_left_out(sample_record(raw)) for raw in read_shard_samples(str(shard)))
    with pytest.raises(RuntimeError, match="in a row"):
        next(iter(make_loader(config.data, [str(shard)], resampled=True)))
    assert list(make_loader(config.data, [str(shard)], resampled=False)) == [], "a finite stream simply ends"


def test_an_unknown_verdict_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="in_synch"):
        tiny_config(tmp_path, None, "data.sync_verdicts=[in_synch]")


def test_a_record_the_selection_cannot_read_is_left_to_decoding_to_skip(flagged_shard, tmp_path, caplog):
    """A malformed record must not stop training: decoding logs the sample and skips it, as without a selection."""
    raws = list(read_shard_samples(flagged_shard["path"]))
    shard = tmp_path / "malformed-000000.tar"
    with wds.TarWriter(str(shard), encoder=False) as writer:
        for i, raw in enumerate(raws[:4]):
            document = json.loads(raw.members["json"])
            if i == 0:
                document["references"] = 5  # not a list: the record cannot be built
            if i == 1:
                document.update(state="speaking", sync_verdict=["in_sync"])  # not a verdict a run writes
            writer.write({"__key__": raw.key, **raw.members, "json": json.dumps(document).encode()})
    config = tiny_config(tmp_path, None, f"data.shards={json.dumps([str(shard)])}", "data.batch_size=1",
                         "data.sync_verdicts=[in_sync]")
    with caplog.at_level(logging.WARNING):
        batches = list(make_loader(config.data, [str(shard)], resampled=False, shuffle=False))
    read = [key for batch in batches for key in batch.keys]
    skipped = [r.getMessage() for r in caplog.records if r.name == "lpm_train.data.sample_decoder"]
    assert raws[0].key not in read and len(skipped) == 1 and f"skip sample {raws[0].key}" in skipped[0]
    assert raws[1].key not in read  # a list is no verdict: uncertain, left out
    records = flagged_shard["records"]
    assert read == [r.key for r in raws[2:4]
                    if records[r.key].state != "speaking" or records[r.key].sync_verdict == "in_sync"]


def test_a_selection_that_leaves_no_speech_is_warned_about(flagged_shard, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(sample_selection, "SPEAKING_STARVED", 2)
    # in_sync samples' flags cleared: the shard now holds speech with no verdict, as before schema 1.4
    shard = tmp_path / "old-000000.tar"
    with wds.TarWriter(str(shard), encoder=False) as writer:
        for raw in read_shard_samples(flagged_shard["path"]):
            document = json.loads(raw.members["json"])
            document.pop("sync_verdict", None)
            writer.write({"__key__": raw.key, **raw.members, "json": json.dumps(document).encode()})
    with caplog.at_level(logging.WARNING, logger=sample_selection.__name__):
        kept = keys_read(tmp_path, str(shard), "data.sync_verdicts=[in_sync]")
    assert kept and all(flagged_shard["records"][k].state != "speaking" for k in kept)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "with speech left out and none read" in warnings[0]


def test_a_resumed_run_says_when_its_selection_changed(tmp_path, caplog):
    saved = tmp_path / "config.yaml"
    save_resolved(tiny_config(tmp_path, None, "data.sync_verdicts=[in_sync]"), saved)
    with caplog.at_level(logging.WARNING, logger=sample_selection.__name__):
        warn_if_selection_changed(saved, tiny_config(tmp_path, None, "data.sync_verdicts=[in_sync]").data)
        assert not caplog.records
        warn_if_selection_changed(saved, tiny_config(tmp_path, None).data)
    (line,) = [r.getMessage() for r in caplog.records]
    assert "data selection changed on resume (sync_verdicts=['in_sync'] -> every sample)" in line
