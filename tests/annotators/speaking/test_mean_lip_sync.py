"""``learned_av_sync``, the mean of the learned network's score and ``av_sync``'s, on real talking heads."""

import math

import numpy as np
import pytest

from annotators.speaking.learned_lip_sync import MODEL as LEARNED
from annotators.speaking.learned_lip_sync import LearnedLipSync
from annotators.speaking.lip_sync import SignalLipSync, lip_sync_choice, lip_sync_model
from annotators.speaking.mean_lip_sync import MeanLipSync, mean_score
from tests.annotators.mouth_signals import foreign_audio
from tests.annotators.speaking.test_learned_lip_sync import LONG_CLIPS, SHIFT_FRAMES, shifted
from tests.annotators.speaking.test_lip_sync import two_second_segments


def test_the_mean_needs_both_scores():
    assert mean_score(1.0, 2.0) == 1.5
    assert mean_score(-1.0, 0.5) == -0.25
    for one_missing in ((math.nan, 2.0), (2.0, math.nan), (math.inf, 1.0), (math.nan, math.nan)):
        assert math.isnan(mean_score(*one_missing))


def test_it_is_the_mean_of_the_two_models_on_the_same_segment(talking_head_signals):
    """Each of the long shared talking heads' 2-s segments (with its track around it, as the states
    stage reads it) under its own audio, under every other person's voice and 0.4 s late: the score is
    the two models' mean. These clips were in the network's training set (held-out figures:
    docs/sync_verdict.md); this checks the combination behaves."""
    mean, learned, signal = lip_sync_model("learned_av_sync"), LearnedLipSync.load(), SignalLipSync()
    own, late, foreign = [], [], []
    for name in LONG_CLIPS:
        signals = talking_head_signals[name]
        for _, segment in two_second_segments(signals):
            for audio, into in ((signals.audio, own), (shifted(signals.audio, SHIFT_FRAMES), late)):
                score = mean.sync_score(segment, audio)
                expected = 0.5 * (learned.sync_score(segment, audio) + signal.sync_score(segment, audio))
                assert score == pytest.approx(expected)
                into.append(score)
            foreign += [mean.sync_score(segment, other) for other in foreign_audio(name, talking_head_signals)]
    rejected = np.mean(np.array(late) < mean.threshold)
    print(f"own {min(own):.2f}..{max(own):.2f}, late <= {max(late):.2f} ({rejected:.2f} rejected), "
          f"foreign p95 {np.percentile(foreign, 95):.2f}")
    # measured: own 2.07..4.70, late <= 0.68 (1.00 rejected), foreign p95 1.22
    assert len(own) == 16 and len(foreign) == 112
    assert min(own) > mean.accept_threshold  # every genuine segment of these clips in sync
    assert max(late) < mean.accept_threshold and rejected >= 0.85  # no late copy in sync, most rejected
    assert np.mean([o > f for o in own for f in foreign]) >= 0.99


def test_selectable_by_name_and_recorded_with_its_network():
    model = lip_sync_model("learned_av_sync")
    assert isinstance(model, MeanLipSync) and model.name == "learned_av_sync"
    assert model.threshold < model.accept_threshold
    assert lip_sync_model("learned_av_sync", threshold=0.7, accept_threshold=0.1).accept_threshold == 0.7
    assert lip_sync_choice("states", "learned_av_sync").record().model == LEARNED
