"""The speech a trainer is given, as ``bench validity`` counts it: every segment the verdict keeps, or
only those it judges ``in_sync``."""

from annotators.speaking.sync_thresholds import SyncThresholds
from apps.bench.speech_kept import kept_frames, segments_kept
from apps.bench.validity_records import ClipRecord, SpeakingSegment

THRESHOLDS = SyncThresholds(1.0, 2.0)


def _record(*segments: SpeakingSegment) -> ClipRecord:
    return ClipRecord(clip="c", label="talking_head", source="S", person="p", voice_source="S", fps=25.0,
                      voiced=sum(s.weight for s in segments), speaking_frames=0, segments=list(segments), shots=[],
                      tracks=[])


def test_a_segment_counts_as_confirmed_only_when_judged_in_sync():
    record = _record(SpeakingSegment(2.5, 10, 0, 50),  # in_sync
                     SpeakingSegment(1.5, 20, 50, 100),  # uncertain: kept, not confirmed
                     SpeakingSegment(None, 40, 100, 150),  # no score: kept (uncertain), never confirmed
                     SpeakingSegment(0.5, 80, 150, 200))  # out_of_sync: neither
    assert kept_frames(record, THRESHOLDS) == 70
    assert kept_frames(record, THRESHOLDS, confirmed=True) == 10
    # The held-out score is read when asked for.
    held = _record(SpeakingSegment(2.5, 10, 0, 50, held_out_score=0.5))
    assert (kept_frames(held, THRESHOLDS), kept_frames(held, THRESHOLDS, held_out=True)) == (10, 0)


def test_dubbed_segments_are_counted_per_segment_and_unfitted_sources_named():
    records = [_record(SpeakingSegment(2.5, 10, 0, 50), SpeakingSegment(1.5, 99, 50, 100)),
               ClipRecord(clip="d", label="dubbed", source="T", person="q", voice_source="S", fps=25.0, voiced=0,
                          speaking_frames=0, segments=[SpeakingSegment(3.0, 5, 0, 50)], shots=[], tracks=[])]
    fold = {"S": THRESHOLDS, "T": None}
    kept = segments_kept(records, lambda r: fold[r.source])
    assert (kept["n"], kept["of"], kept["not_fitted"]) == (2, 2, ["T"])
    assert segments_kept(records, lambda r: fold[r.source], confirmed=True)["n"] == 1
