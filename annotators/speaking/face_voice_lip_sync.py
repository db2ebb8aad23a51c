"""``learned_av_face_voice``: the lip-sync score plus whether the voice could be this face's at all.

``learned_av_sync`` judges how a mouth moves with a sound, and held out by source it still keeps 0.37
of dubbed speech at the cut that keeps 0.98 of genuine speech: the mouth signals of a 2-10 s
segment do not tell every foreign voice from the face's own. Many of those dubs give themselves away
otherwise: the voice is not one this face could have. ``face_voice_map`` (learned here from the
calibration corpus's people) reads a trait the face vector and the voice vector share, sex most of
all; its match is positive where the two agree. The score is ``learned_av_sync + WEIGHT x match``,
the face being the segment's track's dlib vector (``MouthTrack.face_vector``, set by the labeller)
and the voice Resemblyzer's vector of the segment's audio.

Held out by source (``benchmarks.face_voice_match``: 29 sources, 156 genuine speaking segments, 936
dubbed; each pair's map trained without its picture's and its voice's sources): at the same genuine
retention (0.980 against 0.979) dubbed speech kept falls from 0.372 to 0.157. ``WEIGHT`` was chosen
among 0.25-1 on those folds (any of 0.5-1 keeps 0.16-0.21). A voice of the face's sex and age is
judged by the lips alone, as before.

A segment without a face vector or a voice vector (no crops of its track, under 0.5 s of audio) is
judged by ``learned_av_sync`` alone, moved onto this scale so that its reject cut is that model's
own: ``score + (threshold - sync.threshold)``.

Thresholds: the rule of ``annotators.speaking.sync_thresholds`` on every out-of-fold combined score,
each the mean of its track's speaking segments' as the states stage reads it (``track_sync``;
docs/sync_verdict.md).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np

from annotators.face.mouth_track import MouthTrack
from annotators.models.face_voice_map import FaceVoiceMap
from annotators.speaking.mean_lip_sync import SegmentScorer
from curation.media.analysis_rate import ANALYSIS_SAMPLE_RATE

MODEL = "learned_av_face_voice"
WEIGHT = 0.75
# The rule on every out-of-fold score of `python -m benchmarks.face_voice_match --features FEATURES
# --sync-rows LS.json --pool-tracks` at WEIGHT (29 sources, 156 genuine speaking segments, 936 dubbed),
# each segment scored by its track's mean as the states stage judges it (annotators/speaking/track_sync):
# 1.423 / 2.205. (Each segment by its own score, before states version 9: 1.357 / 2.218.)
THRESHOLD = 1.42
ACCEPT_THRESHOLD = 2.20


class VoiceDescriber(Protocol):
    def embed(self, audio: np.ndarray) -> np.ndarray | None: ...


class ThresholdedScorer(SegmentScorer, Protocol):
    threshold: float


@dataclass
class FaceVoiceLipSync:
    """``sync`` (``learned_av_sync``) plus ``weight`` x the face/voice match of ``mapping``; the
    voices are described by ``voices`` (Resemblyzer)."""

    name: ClassVar[str] = MODEL
    # The labeller sets MouthTrack.face_vector (the track's dlib vector) for a model that reads it.
    needs_face_vector: ClassVar[bool] = True
    sync: ThresholdedScorer
    mapping: FaceVoiceMap
    voices: VoiceDescriber
    weight: float = WEIGHT
    threshold: float = THRESHOLD
    accept_threshold: float = ACCEPT_THRESHOLD

    def match(self, mouth: MouthTrack, audio: np.ndarray) -> float:
        """The map's match of the segment's face and its audio's voice over the segment (NaN without either)."""
        if mouth.face_vector is None:
            return float("nan")
        first = int(mouth.first_frame / mouth.fps * ANALYSIS_SAMPLE_RATE)
        end = int((mouth.first_frame + len(mouth.mouth_open)) / mouth.fps * ANALYSIS_SAMPLE_RATE)
        return self.mapping.match(mouth.face_vector, self.voices.embed(np.asarray(audio)[max(0, first) : end]))

    def sync_score(self, mouth: MouthTrack, audio: np.ndarray) -> float:
        return plus_term(self, self.sync.sync_score(mouth, audio), lambda: self.match(mouth, audio))


class TermModel(Protocol):
    sync: ThresholdedScorer
    weight: float
    threshold: float


def plus_term(model: TermModel, sync: float, term: Callable[[], float]) -> float:
    """``sync`` (the inner model's score) plus ``model.weight`` x ``term()``; without the term, ``sync``
    moved onto the model's scale so the reject cut is the inner model's own; NaN without ``sync``."""
    if not np.isfinite(sync):
        return float("nan")
    value = term()
    if np.isfinite(value):
        return float(sync) + model.weight * value
    return float(sync) + (model.threshold - model.sync.threshold)
