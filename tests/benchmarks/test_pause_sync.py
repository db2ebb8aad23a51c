"""``benchmarks.pause_sync``: the pause term (mouth activity against the voice's loudness at lag 0) and its variants."""

from pathlib import Path

import numpy as np

from annotators.face.mouth_track import MouthTrack
from apps.bench.fold_rows import ScoredSegment
from apps.bench.learned_sync_folds import dubbing_pairs, pair_audio
from apps.bench.learned_sync_training import load_features
from benchmarks.pause_sync import SMOOTH, VARIANTS, hard_band, mouth_activity, pause_score, pause_scorer
from tests.annotators.speaking.test_head_motion_sync import FPS, audio_of, speech_like_loudness
from tests.apps.bench.tiny_sync_features import write_tiny_features


def mouth_following(level: np.ndarray, seed: int, lag: int = 0) -> MouthTrack:
    """A mouth that opens and closes on every burst of ``level`` (``lag`` frames later) and rests in
    its pauses, with a little landmark noise; darkness not read (NaN), as where pixels were not read."""
    rng = np.random.default_rng(seed)
    voiced = np.roll(level, lag) > 0.1
    opening = np.where(voiced, 0.5 + 0.5 * np.sin(np.arange(len(level)) * 2.1), 0.0) * 0.08
    opening = opening + rng.normal(0, 0.002, len(level))
    return MouthTrack(opening, opening * 0.9 + rng.normal(0, 0.002, len(level)), np.full(len(level), np.nan), 0, FPS)


def test_a_mouth_that_rests_in_its_voices_pauses_scores_high_and_under_another_voice_near_zero():
    n = 250
    own = speech_like_loudness(n, seed=1)
    mouth = mouth_following(own, seed=2)
    assert pause_score(mouth, audio_of(own, 3)) > 0.5
    for other in (7, 8, 9):
        assert abs(pause_score(mouth, audio_of(speech_like_loudness(n, seed=other), 3))) < 0.3, other
    # A second late, the rests no longer meet the pauses.
    assert pause_score(mouth_following(own, seed=2, lag=25), audio_of(own, 3)) < 0.3


def test_mouth_activity_reads_the_signals_there_are_and_is_nan_where_the_face_is_absent():
    mouth = mouth_following(speech_like_loudness(100, seed=1), seed=2)
    activity = mouth_activity(mouth)
    assert activity.shape == (100,) and np.isfinite(activity).all() and activity[0] == 0
    half = np.arange(100) < 50
    gone = MouthTrack(np.where(half, mouth.mouth_open, np.nan), np.where(half, mouth.jaw_open, np.nan),
                      mouth.mouth_dark, 0, FPS)  # fmt: skip
    assert np.isnan(mouth_activity(gone)[50:]).all() and np.isfinite(mouth_activity(gone)[:50]).all()
    assert np.isnan(mouth_activity(MouthTrack(np.zeros(100), np.zeros(100), np.full(100, np.nan), 0, FPS))).all()


def test_too_few_frames_with_a_face_give_no_score():
    level = speech_like_loudness(250, seed=1)
    mouth = mouth_following(level, seed=2)
    early = np.arange(250) < 15
    gone = MouthTrack(*(np.where(early, x, np.nan) for x in (mouth.mouth_open, mouth.jaw_open, mouth.mouth_dark)),
                      0, FPS)  # fmt: skip
    assert np.isnan(pause_score(gone, audio_of(level, 3)))


def test_the_bench_scores_each_pair_as_the_term_does_and_its_variants_differ(tmp_path: Path) -> None:
    """On a tiny cache whose audio follows its lips: the measured variant scores each pair as
    ``pause_score`` over the context, a segment's own audio above its dubs; the other smoothing differs,
    and the darkness-free variant scores too."""
    features = load_features(write_tiny_features(tmp_path / "features", clips=4, frames=200))
    pairs = dubbing_pairs(features, 2, 0)
    assert VARIANTS[0] == ("pauses", SMOOTH, True)
    measured = pause_scorer(SMOOTH, True)
    for segment, voice in pairs:
        s = segment.signals
        mouth = MouthTrack(s[:, 0], s[:, 1], s[:, 2], segment.ctx_first, segment.fps)
        assert measured(features, (segment, voice)) == pause_score(mouth, pair_audio(features, (segment, voice)))
    own = [measured(features, p) for p in pairs if p[1] is None]
    dubbed = [measured(features, p) for p in pairs if p[1] is not None]
    assert min(own) > max(dubbed)
    assert any(pause_scorer(8, True)(features, p) != measured(features, p) for p in pairs)
    assert all(np.isfinite(pause_scorer(SMOOTH, False)(features, p)) for p in pairs)


def test_the_hard_band_ranks_the_term_among_the_tracks_the_verdict_finds_hard() -> None:
    def row(genuine: bool, score: float | None) -> ScoredSegment:
        return ScoredSegment(picture="p", voice="p" if genuine else "q", picture_source="a", voice_source="b",
                             genuine=genuine, score=score, weight=10)  # fmt: skip

    shipped = [row(True, 1.5), row(False, 2.0), row(True, 3.0), row(False, 0.5), row(False, None)]
    term = [row(True, 0.2), row(False, 0.4), row(True, 0.9), row(False, 0.0), row(False, 0.0)]
    assert hard_band(shipped, term) == {"band": [1.4, 2.3], "genuine": 1, "dubbed": 1, "auc": 0.0}
