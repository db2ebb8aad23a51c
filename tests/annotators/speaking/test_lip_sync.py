import numpy as np
import pytest

from annotators.speaking.lip_sync import LipSyncModel, LipSyncVerdict, MouthTrack, SignalLipSync, judge, lip_sync_model
from tests.annotators.mouth_signals import ClipSignals, foreign_audio

FPS = 25.0


def whole_clip(signals: ClipSignals) -> MouthTrack:
    return MouthTrack(signals.mouth_open, signals.jaw_open, signals.mouth_dark, 0, signals.fps)


def test_own_voice_scores_above_other_peoples_voices_on_real_talking_heads(talking_head_signals):
    """Each clip's lips under its own audio against the same lips under every other recording's
    audio: the own score ranks above most foreign ones (the bench's figure is the AUC of this)."""
    model = SignalLipSync()
    above, pairs, own_scores = 0, 0, []
    for name, signals in talking_head_signals.items():
        own = model.sync_score(whole_clip(signals), signals.audio)
        own_scores.append(own)
        for other in foreign_audio(name, talking_head_signals):
            pairs += 1
            above += own > model.sync_score(whole_clip(signals), other)
    assert pairs >= 40
    assert above / pairs >= 0.85
    assert np.median(own_scores) > model.threshold


def test_verdict_needs_evidence_to_reject():
    assert LipSyncVerdict("av_sync", 0.05, 0.2).out_of_sync
    assert not LipSyncVerdict("av_sync", 0.35, 0.2).out_of_sync
    assert not LipSyncVerdict("av_sync", float("nan"), 0.2).out_of_sync


def test_flat_mouth_gives_no_score():
    still = np.full(100, 0.05, dtype=np.float32)
    audio = np.random.default_rng(0).standard_normal(64000).astype(np.float32)
    verdict = judge(SignalLipSync(), MouthTrack(still, still, still, 0, FPS), audio)
    assert np.isnan(verdict.score)
    assert not verdict.out_of_sync


def test_models_by_name():
    assert isinstance(lip_sync_model("av_sync"), LipSyncModel)
    assert lip_sync_model("av_sync", threshold=0.3).threshold == 0.3
    with pytest.raises(ValueError, match="unknown lip-sync model"):
        lip_sync_model("wav2lip")
