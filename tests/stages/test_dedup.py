import numpy as np

from stages.dedup import DedupStage


def summary(video_id: str, hashes: list[int], lip_sync: float | None, sharpness: float) -> dict:
    return {"segment_id": f"{video_id}-s0000-t00-g000", "video_id": video_id, "hashes": hashes, "embedding": None,
            "lip_sync_score": lip_sync, "sharpness": sharpness}


def decide(*entries: dict) -> dict[str, str]:
    stage = DedupStage(clip="off")
    stage.setup()
    decision = stage.decide({e["video_id"]: [e] for e in entries})
    return {segment: d["kept_segment_id"] for segment, d in decision.items()}


def test_the_twin_whose_lips_follow_the_audio_is_kept():
    hashes = [int(h) for h in np.random.default_rng(0).integers(0, 2**63, size=10)]
    original = summary("bbbb", hashes, 0.42, 40.0)
    dubbed = summary("aaaa", hashes, 0.21, 60.0)  # first by id and sharper, but worse sync
    assert decide(original, dubbed) == {dubbed["segment_id"]: original["segment_id"]}


def test_without_sync_scores_the_sharper_twin_is_kept():
    hashes = [int(h) for h in np.random.default_rng(1).integers(0, 2**63, size=10)]
    blurred = summary("aaaa", hashes, None, 20.0)
    sharp = summary("bbbb", hashes, None, 55.0)
    assert decide(blurred, sharp) == {blurred["segment_id"]: sharp["segment_id"]}
    unrelated = summary("cccc", [int(h) for h in np.random.default_rng(2).integers(0, 2**63, size=10)], 0.3, 50.0)
    assert unrelated["segment_id"] not in decide(blurred, sharp, unrelated)
