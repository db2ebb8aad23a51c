"""The ledger is versioned plain data: records round-trip exactly, renamed fields and old formats
are refused with a clear message instead of being misread."""

import dataclasses
import json
import types
import typing
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from media_facts import probed
from pipeline_runs import run_cli

from curation.media.media_info import MediaInfo
from curation.runtime.products import (
    AnalysisGrid,
    FaceCrop,
    FaceCrops,
    KeyFrameHashes,
    SpeechResult,
    TrackFeatures,
    VoiceFaces,
)
from curation.runtime.video_work import VideoWork
from curation.store.ledger import LEDGER_FORMAT, Ledger, LedgerFormatError
from curation.store.plain_codec import PlainDataError, from_bytes, to_bytes
from curation.store.run_store import RunStore
from schemas.speech_rows import SpeakerTurn
from schemas.tables import ShotRow, TrackRow
from schemas.voice_span import VoiceSpan


def _features(signals: np.ndarray) -> TrackFeatures:
    n = len(signals)
    return TrackFeatures(present=np.ones(n, bool), face_box=np.zeros((n, 4), np.float16), signals=signals,
                         blendshapes=np.zeros((n, 52), np.float16), kps5=np.zeros((n, 5, 2), np.float32),
                         on_tile=np.zeros(n, bool))


def _record() -> VideoWork:
    work = VideoWork(uri="s3://bucket/a.mp4", video_id="0123456789abcdef", run_uri="/runs/x")
    work.video = probed(4.0)
    work.tracks = [TrackRow(track_id="t0", face_height_px=np.float32(201.5), usable=True)]
    signals = np.arange(12, dtype=np.float16).reshape(4, 3)
    work.track_features = {"t0": _features(signals)}
    work.analysis = AnalysisGrid(25.0, 640, 360, 0.5, 4, np.zeros((4, 2), np.float16))
    work.crops = FaceCrops("work/artefacts/x/crops.npz", {"t0": [FaceCrop(0.5, "000012-0", np.ones((478, 3)),
                                                                          np.zeros(3, np.float16),
                                                                          np.zeros(52, np.float16))]})
    work.key_frame_hashes = KeyFrameHashes([0.0, 0.5], [2**63 + 5, None])
    work.speech = SpeechResult(np.full(4, 0.5, np.float16), [(0.1, 0.9)], [SpeakerTurn(None, 0.1, 0.9)])
    spans = [VoiceSpan("t0", "1", "0", 0, 4, 1.25), VoiceSpan("t0", "1", None, 4, 6, np.nan)]
    work.voice_faces = VoiceFaces("voice_embedding", owners={"0": "1"}, spans=spans)
    return work


def test_a_record_round_trips_with_types_and_arrays_intact(tmp_path: Path) -> None:
    ledger = Ledger(RunStore(str(tmp_path)))
    work = _record()
    ledger.save_record(work, 1)
    back = ledger.record(work.video_id, 1)
    assert isinstance(back.crops.by_track["t0"][0], FaceCrop) and isinstance(back.speech, SpeechResult)
    assert back.speech.intervals == [(0.1, 0.9)] and back.key_frame_hashes.hashes == [2**63 + 5, None]
    # stored as {"speaker", "t_start", "t_end"}: the mapping the speech stage wrote before turns were typed
    assert back.speech.turns == [SpeakerTurn(None, 0.1, 0.9)]
    # the voice-face spans as rows, unknown synchrony (NaN) included
    spans = back.voice_faces.spans
    assert spans[0] == VoiceSpan("t0", "1", "0", 0, 4, 1.25) and spans[1].voice is None and np.isnan(spans[1].sync)
    assert back.track_features["t0"].signals.dtype == np.float16
    np.testing.assert_array_equal(back.track_features["t0"].signals, work.track_features["t0"].signals)
    assert back.tracks[0].face_height_px == 201.5 and isinstance(back.tracks[0], TrackRow)
    assert back.video == work.video and isinstance(back.video, MediaInfo)
    assert not list(tmp_path.rglob("*.pkl")), "nothing is pickled"
    document = json.loads((tmp_path / "work/block1/0123456789abcdef.json").read_text())
    assert document["format"] == LEDGER_FORMAT and document["data"]["uri"] == "s3://bucket/a.mp4"


def test_probe_facts_written_as_a_mapping_before_they_were_typed_still_read() -> None:
    text, npz = to_bytes(_record(), LEDGER_FORMAT)
    document = json.loads(text)
    facts = document["data"]["video"]  # the same keys the untyped record held (MediaInfo.as_row)
    assert from_bytes(text, npz, VideoWork, LEDGER_FORMAT, "a record").video == MediaInfo(**facts)
    document["data"]["video"] = {}  # a record saved before the probe ran: no facts
    assert from_bytes(json.dumps(document).encode(), npz, VideoWork, LEDGER_FORMAT, "a record").video is None
    document["data"]["video"] = {"width": 640}  # a part of the facts is not a record this version wrote
    with pytest.raises(PlainDataError, match=r"\$.video: MediaInfo lacks field\(s\) \['audio_channels'"):
        from_bytes(json.dumps(document).encode(), npz, VideoWork, LEDGER_FORMAT, "a record")


def test_shot_rows_written_as_mappings_before_they_were_typed_read_as_shot_rows() -> None:
    work = _record()
    work.shots = [ShotRow(shot_id="0123456789abcdef-s0000", t_start=0.0, t_end=4.0, usable=True, sharpness=80.5)]
    text, npz = to_bytes(work, LEDGER_FORMAT)
    document = json.loads(text)
    # an older record held only the keys its stages had set
    document["data"]["shots"] = [{"shot_id": "0123456789abcdef-s0000", "t_start": 0.0, "t_end": 4.0, "usable": True,
                                  "sharpness": 80.5}]
    back = from_bytes(json.dumps(document).encode(), npz, VideoWork, LEDGER_FORMAT, "a record")
    assert back.shots == work.shots and back.shots[0].audio_loudness_db is None
    document["data"]["shots"][0]["shot_score"] = 1.0  # a key no ShotRow column holds: refused, not dropped
    with pytest.raises(PlainDataError, match=r"\$.shots\[0\]: ShotRow has no field\(s\) \['shot_score'\]"):
        from_bytes(json.dumps(document).encode(), npz, VideoWork, LEDGER_FORMAT, "a record")


def test_a_field_renamed_since_the_record_was_written_is_refused() -> None:
    text, npz = to_bytes(_record(), LEDGER_FORMAT)
    renamed = text.replace(b'"key_frame_hashes"', b'"key_frame_hash"')
    with pytest.raises(PlainDataError, match=r"VideoWork has no field\(s\) \['key_frame_hash'\]"):
        from_bytes(renamed, npz, VideoWork, LEDGER_FORMAT, "a record")
    with pytest.raises(PlainDataError, match="stored in format 1; this version reads format"):
        from_bytes(text.replace(b'"format": 2', b'"format": 1'), npz, VideoWork, LEDGER_FORMAT, "a record")


def test_a_run_with_a_pickled_ledger_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    old = tmp_path / "old-run"
    (old / "work" / "block0").mkdir(parents=True)
    (old / "work" / "block0" / "0123456789abcdef.pkl").write_bytes(b"\x80\x05N.")
    with pytest.raises(LedgerFormatError, match="pickled ledger, format 1"):
        Ledger(RunStore(str(old))).check_format()
    folder = tmp_path / "in"
    folder.mkdir()
    result = run_cli("run", "--input", str(folder), "--out", str(old), "--workflow", "ingest", "--executor", "local")
    assert result.returncode == 2 and "older lpm-curation" in result.stdout and "new --out" in result.stdout


def test_a_record_encoded_once_and_planted_under_another_id_reads_back_through_the_ledger(tmp_path: Path) -> None:
    # bench scale's replicas: one encoding per template, the ids edited in its bytes, stored by the
    # ledger itself (its paths, its format, arrays before the JSON that marks them written)
    ledger = Ledger(RunStore(str(tmp_path)))
    work = _record()
    text, npz = Ledger.encoded_record(work)
    assert npz is not None
    ledger.save_encoded_record("fedcba9876543210", 2, text.replace(b"0123456789abcdef", b"fedcba9876543210"), npz)
    planted = ledger.record("fedcba9876543210", 2)
    assert planted.video_id == "fedcba9876543210" and planted.video == work.video
    np.testing.assert_array_equal(planted.track_features["t0"].signals, work.track_features["t0"].signals)
    assert ledger.record("0123456789abcdef", 2) is None


def _ints_in_float_fields(document: Any, hint: Any, path: str) -> Iterator[str]:
    """Where a stored JSON int sits in a field declared float: decoding turns it into a float, so
    the value's type (and its JSON in a sample) would depend on whether the record was stored."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if document is not None and len(options) == 1:
            yield from _ints_in_float_fields(document, options[0], path)
    elif dataclasses.is_dataclass(hint) and isinstance(document, dict):
        hints = typing.get_type_hints(hint)
        for name, value in document.items():
            yield from _ints_in_float_fields(value, hints[name], f"{hint.__name__}.{name}")
    elif origin is list and isinstance(document, list):
        for value in document:
            yield from _ints_in_float_fields(value, typing.get_args(hint)[0], path)
    elif origin is dict and isinstance(document, dict) and len(typing.get_args(hint)) == 2:
        for value in document.values():
            yield from _ints_in_float_fields(value, typing.get_args(hint)[1], path)
    elif hint is float and isinstance(document, int) and not isinstance(document, bool):
        yield path


@pytest.mark.slow
def test_a_real_runs_records_hold_no_int_where_a_float_is_declared(talking_heads_run: Path) -> None:
    records = sorted((talking_heads_run / "work").glob("block*/*.json"))
    documents = [json.loads(p.read_text()) for p in records]
    documents = [d["data"] for d in documents if isinstance(d.get("data"), dict) and "uri" in d["data"]]
    assert documents, "the run stored video records"
    found = Counter(path for document in documents for path in _ints_in_float_fields(document, VideoWork, "VideoWork"))
    assert not found, f"ints stored in float fields: {dict(found)}"
