"""A sample's ``json`` member reads back into its record whatever schema version wrote it, and
the documented top-level fields are the record's."""

import json
from dataclasses import asdict

import pytest

from schemas.sample_layout import SAMPLE_JSON_FIELDS
from schemas.sample_record import SampleChannels, SampleProvenance, SampleRecord, SampleReference, SampleScores


def _record() -> SampleRecord:
    return SampleRecord(
        schema_version="1.6", key="v1_s0", segment_id="v1-seg0", state="speaking", t_start=1.5, t_end=4.0, fps=25,
        n_frames=62, state_timeline=[["speaking", 0, 40], ["idle", 40, 22]], state_codes={"idle": 0, "speaking": 1},
        scores=SampleScores(vad_frac=0.8, sync_offset_frames=-1.0), caption={"short": "A woman speaks."},
        references=[SampleReference(member="ref_00.jpg", reference_id="r1", kind="face", t=9.5, score=0.7)],
        channels=SampleChannels("turns", None, 0, 40, 0, 0), provenance=SampleProvenance("/media/a.mp4", 1.5, 4.0),
    )


def test_a_record_reads_back_whole():
    record = _record()
    data = json.dumps(asdict(record), sort_keys=True).encode()
    assert SampleRecord.from_json(data) == record
    assert sorted(json.loads(data)) == sorted(SAMPLE_JSON_FIELDS)
    assert record.short_caption() == "A woman speaks." and SampleRecord(caption={"short": None}).short_caption() == ""


def test_an_older_record_reads_with_what_it_lacks_as_none_and_a_newer_one_with_what_it_adds_left():
    document = asdict(_record())
    for added_later in ("sync_verdict", "picture_twin_of", "channels", "state_codes"):
        del document[added_later]
    document["scores"] = {"vad_frac": 0.8, "future_score": 1.0}
    document["future_field"] = {"x": 1}
    record = SampleRecord.from_document(document)
    assert record.channels is None and record.sync_verdict is None and record.state_codes is None
    assert record.scores == SampleScores(vad_frac=0.8)
    assert record.references[0].member == "ref_00.jpg" and record.provenance.uri == "/media/a.mp4"
    assert SampleRecord.from_document({}) == SampleRecord()


def test_a_member_that_is_not_a_json_object_is_refused():
    with pytest.raises(ValueError, match="JSON object"):
        SampleRecord.from_json(b"[1, 2]")
