import numpy as np

from curation.runtime.video_work import VideoWork
from schemas.tables import SegmentRow
from stages.dedup import DedupDecision, DedupSegmentSummary, DedupStage, DedupVerdict


def summary(
    video_id: str, hashes: list[int], verdict: str | None, sharpness: float, envelope: np.ndarray | None = None
) -> DedupSegmentSummary:
    return DedupSegmentSummary(f"{video_id}-s0000-t00-g000", video_id, hashes, None, verdict, sharpness, envelope)


def decide(*entries: DedupSegmentSummary) -> DedupDecision:
    stage = DedupStage(clip="off")
    stage.setup()
    return stage.decide({e.video_id: [e] for e in entries})


def dropped(decision: DedupDecision) -> dict[str, str | None]:
    return {s: d.kept_segment_id for s, d in decision.items() if d.kind == "duplicate"}


def speech_envelope(seed: int, n: int = 400) -> np.ndarray:
    """A loudness envelope (dB, 10 ms hops) that moves like speech: syllables of random loudness."""
    rng = np.random.default_rng(seed)
    syllables = np.repeat(rng.uniform(-45, -15, size=n // 20 + 1), 20)[:n]
    return (syllables + rng.normal(0, 2, size=n)).astype(np.float16)


def test_the_twin_whose_lips_follow_the_audio_is_kept():
    hashes = [int(h) for h in np.random.default_rng(0).integers(0, 2**63, size=10)]
    original = summary("bbbb", hashes, "in_sync", 40.0)
    dubbed = summary("aaaa", hashes, "uncertain", 60.0)  # first by id and sharper, but a worse verdict
    assert dropped(decide(original, dubbed)) == {dubbed.segment_id: original.segment_id}


def test_without_sync_verdicts_the_sharper_twin_is_kept():
    hashes = [int(h) for h in np.random.default_rng(1).integers(0, 2**63, size=10)]
    blurred = summary("aaaa", hashes, None, 20.0)
    sharp = summary("bbbb", hashes, None, 55.0)
    assert dropped(decide(blurred, sharp)) == {blurred.segment_id: sharp.segment_id}
    unrelated = summary("cccc", [int(h) for h in np.random.default_rng(2).integers(0, 2**63, size=10)], None, 50.0)
    assert unrelated.segment_id not in decide(blurred, sharp, unrelated)


def test_a_re_upload_with_the_same_audio_is_a_duplicate():
    hashes = [int(h) for h in np.random.default_rng(3).integers(0, 2**63, size=10)]
    voice = speech_envelope(0)
    original = summary("aaaa", hashes, "in_sync", 40.0, voice)
    louder = (voice.astype(np.float32) + 6).astype(np.float16)  # re-encoded 6 dB louder
    re_upload = summary("bbbb", hashes, "in_sync", 40.0, louder)
    assert dropped(decide(original, re_upload)) == {re_upload.segment_id: original.segment_id}


def test_same_pictures_with_other_audio_keep_both_and_flag_the_lower_verdict():
    hashes = [int(h) for h in np.random.default_rng(4).integers(0, 2**63, size=10)]
    original = summary("bbbb", hashes, "in_sync", 40.0, speech_envelope(1))
    dubbed = summary("aaaa", hashes, "uncertain", 60.0, speech_envelope(2))
    decision = decide(original, dubbed)
    assert not dropped(decision)
    similarity = decision[dubbed.segment_id].audio_similarity
    assert decision == {dubbed.segment_id: DedupVerdict("picture_twin", twin_segment_id=original.segment_id,
                                                        audio_similarity=similarity)}
    assert similarity is not None and similarity < 0.65


def test_a_dubbed_twin_with_an_equal_verdict_never_displaces_its_original():
    """Both copies called in_sync (the dubbed one scoring higher by chance would have won on the
    raw score): neither is dropped, both are flagged and become uncertain."""
    hashes = [int(h) for h in np.random.default_rng(5).integers(0, 2**63, size=10)]
    original = summary("bbbb", hashes, "in_sync", 40.0, speech_envelope(3))
    dubbed = summary("aaaa", hashes, "in_sync", 60.0, speech_envelope(4))
    decision = decide(original, dubbed)
    assert {s: d.twin_segment_id for s, d in decision.items() if d.kind == "picture_twin"} == {
        original.segment_id: dubbed.segment_id, dubbed.segment_id: original.segment_id}
    stage = DedupStage(clip="off")
    work = VideoWork(uri="x.mp4", video_id="bbbb", run_uri="unused")
    work.segments = [SegmentRow(segment_id=original.segment_id, sync_verdict="in_sync", t_start=0.0, t_end=4.0)]
    stage.apply(work, decision)
    assert work.segments == [SegmentRow(segment_id=original.segment_id, sync_verdict="uncertain", t_start=0.0,
                                        t_end=4.0, picture_twin_of=dubbed.segment_id)]
    assert not work.rejections
