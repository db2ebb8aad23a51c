from dataclasses import replace

import numpy as np
import pytest

from annotators.face.mouth_track import MouthTrack
from annotators.speaking.lip_sync import (
    LIP_SYNC_CONTEXT_S,
    LipSyncModel,
    LipSyncVerdict,
    SignalLipSync,
    judge,
    lip_sync_model,
)
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


def two_second_segments(signals: ClipSignals) -> list[tuple[MouthTrack, MouthTrack]]:
    """Each 2-s segment of a clip, alone and with up to ``LIP_SYNC_CONTEXT_S`` of the clip around it."""
    pad, out = round(LIP_SYNC_CONTEXT_S * FPS), []
    for first in range(0, signals.n_frames - 50, 50):
        seg, ctx = slice(first, first + 50), slice(max(0, first - pad), first + 50 + pad)
        alone = MouthTrack(signals.mouth_open[seg], signals.jaw_open[seg], signals.mouth_dark[seg], first, FPS)
        around = MouthTrack(signals.mouth_open[ctx], signals.jaw_open[ctx], signals.mouth_dark[ctx], ctx.start, FPS)
        out.append((alone, replace(alone, context=around)))
    return out


def test_two_second_segments_are_judged_with_their_track_around_them(talking_head_signals):
    """The two long talking heads (15 and 20 s) cut into 2-s segments, under their own audio and
    every other recording's (16 genuine, 112 dubbed cases). Alone, a segment's few syllables often
    get the in-sync call wrong; read with the track around it (as the states stage does), every
    genuine segment is in sync (>= 1.92) and no dubbed one (<= 1.41), as measured."""
    model = SignalLipSync()
    alone_errors, own, dubbed = 0, [], []
    for name in ("infinitetalk_ref_video.mp4", "latentsync_demo3_video.mp4"):
        signals = talking_head_signals[name]
        for alone, with_context in two_second_segments(signals):
            own.append(model.sync_score(with_context, signals.audio))
            alone_errors += model.sync_score(alone, signals.audio) < model.accept_threshold
            for other in foreign_audio(name, talking_head_signals):
                dubbed.append(model.sync_score(with_context, other))
                alone_errors += model.sync_score(alone, other) >= model.accept_threshold
    print(f"{len(own)} own >= {min(own):.2f}, {len(dubbed)} dubbed <= {max(dubbed):.2f}, {alone_errors} errors alone")
    assert len(own) == 16 and len(dubbed) == 112
    assert min(own) >= model.accept_threshold > max(dubbed)
    assert alone_errors >= 5  # what the context buys: the segment alone is often wrong


def test_verdict_needs_evidence_to_reject():
    assert LipSyncVerdict("av_sync", 0.9, 1.7).out_of_sync
    assert not LipSyncVerdict("av_sync", 2.5, 1.7).out_of_sync
    assert not LipSyncVerdict("av_sync", float("nan"), 1.7).out_of_sync


def test_verdict_is_uncertain_between_the_two_thresholds_and_without_a_score():
    verdicts = [LipSyncVerdict("av_sync", score, 0.95, 1.53).verdict for score in (0.5, 0.95, 1.2, 1.53, 3.0)]
    assert verdicts == ["out_of_sync", "uncertain", "uncertain", "in_sync", "in_sync"]
    assert LipSyncVerdict("av_sync", float("nan"), 0.95, 1.53).verdict == "uncertain"
    assert LipSyncVerdict("syncnet", 2.0, 3.0).verdict == "out_of_sync"  # no accept threshold: no band
    assert LipSyncVerdict("syncnet", 3.0, 3.0).verdict == "in_sync"


def test_flat_mouth_gives_no_score():
    still = np.full(100, 0.05, dtype=np.float32)
    audio = np.random.default_rng(0).standard_normal(64000).astype(np.float32)
    verdict = judge(SignalLipSync(), MouthTrack(still, still, still, 0, FPS), audio)
    assert np.isnan(verdict.score)
    assert not verdict.out_of_sync


def test_models_by_name():
    assert isinstance(lip_sync_model("av_sync"), LipSyncModel)
    assert lip_sync_model("av_sync", threshold=0.3).threshold == 0.3
    model = lip_sync_model("av_sync", threshold=0.5, accept_threshold=2.0)
    assert (model.threshold, model.accept_threshold) == (0.5, 2.0)
    # An accept threshold below the reject threshold is raised to it: no negative uncertain band.
    assert lip_sync_model("av_sync", threshold=2.5).accept_threshold == 2.5
    with pytest.raises(ValueError, match="unknown lip-sync model"):
        lip_sync_model("wav2lip")
