"""Do the lips of a speaking segment follow its audio? A lip-sync score and verdict per segment.

Mouth motion plus voice activity calls a face "speaking" whenever its mouth moves while a voice
is heard, so a dubbed clip, a voice-over or a mismatched mux (someone else's voice under a
talking face) would be kept as speaking training data. The states stage asks a ``LipSyncModel``
for a score per speaking segment and rejects the segment (``Reason.OUT_OF_SYNC``) when the score
is below the model's threshold.

Models are picked by name (the states stage's ``lip_sync_model``): ``av_sync``, the offline
estimator that needs no weights, and ``syncnet`` (``annotators.models.syncnet``), the learned
audio-visual model, when its weights were fetched; ``auto`` takes SyncNet when present.

``av_sync`` scores a segment with ``annotators.speaking.av_sync.sync_in_context`` on the mouth darkness
(landmark opening where the pixels were not read), read over the segment and up to
``LIP_SYNC_CONTEXT_S`` of the same track on each side within its shot (``MouthTrack.context``):
how far the best mouth/audio correlation within ``NEAR_LAG`` frames of zero stands out of the
other lags up to +-15, in units of their spread. A 2-4 s segment alone holds a few syllables;
the track around it is the same face under the same audio, and a dub or a voice-over rarely
stops at a segment's edge. ``NEAR_LAG = 3``: one genuine talking head (``infinitetalk``) reads
-3 frames by every signal.

Measured with ``lpm-curate bench dubbing`` (the 8 ``talking_head`` clips of shared/media, each
muxed with every other person's voice: 13 genuine speaking segments, 64 dubbed): AUC own vs
dubbed 0.98; genuine segments score 0.97 (``fantasy_end0.1``, the weakly guided render) and
1.78-4.20, dubbed ones at most 1.59. ``AV_SYNC_THRESHOLD`` = 1.7 lies in that gap. It was fitted
on those same clips (the figures in docs/benchmarks.md say so); left out one person at a time (the
threshold fitted on the clips neither showing nor voiced by that person, the middle of the
interval keeping fewest dubbed segments with >= 90% of genuine voiced frames), no dubbed
segment is kept and genuine talking heads keep 0.800 of their voiced frames: when the four
``fantasy`` renders are left out, the others put the threshold at 1.83, above three of them.
"""

from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from annotators.speaking.av_sync import sync_in_context
from curation.models.model_choice import ModelChoice

NEAR_LAG = 3
AV_SYNC_THRESHOLD = 1.7
# Seconds of the segment's own track read on each side of it (within its shot) by ``av_sync``.
LIP_SYNC_CONTEXT_S = 5.0


@dataclass(frozen=True)
class MouthTrack:
    """What a lip-sync model sees of one segment: per-frame mouth signals of the face track
    (NaN where the face is absent) and where the segment starts in the video."""

    mouth_open: np.ndarray
    jaw_open: np.ndarray
    mouth_dark: np.ndarray
    first_frame: int  # in the video's analysis frames
    fps: float
    video_uri: str = ""  # the source, for models that read the mouth pixels themselves
    face_boxes: np.ndarray | None = None  # (n, 4) x0, y0, x1, y1 as fractions of the frame, NaN where absent
    # The same face track around the segment, within its shot (``LIP_SYNC_CONTEXT_S`` each side): a
    # model that pools evidence beyond the segment reads this instead; None: the segment alone.
    context: "MouthTrack | None" = None


@runtime_checkable
class LipSyncModel(Protocol):
    name: ClassVar[str]
    threshold: float

    def sync_score(self, mouth: MouthTrack, audio: np.ndarray) -> float:
        """Higher when the lips follow ``audio`` (the whole video's 16 kHz mono float32); NaN
        when the segment gives no evidence (too short, mouth signal flat)."""
        ...


@dataclass(frozen=True)
class LipSyncVerdict:
    model: str
    score: float  # NaN: no evidence
    threshold: float

    @property
    def out_of_sync(self) -> bool:
        """True only on evidence: a segment without a score is not called out of sync."""
        return bool(np.isfinite(self.score) and self.score < self.threshold)


@dataclass(frozen=True)
class SignalLipSync:
    """The offline estimator (``annotators.speaking.av_sync``): no weights, see the module docstring."""

    name: ClassVar[str] = "av_sync"
    threshold: float = AV_SYNC_THRESHOLD
    near_lag: int = NEAR_LAG

    def sync_score(self, mouth: MouthTrack, audio: np.ndarray) -> float:
        track = mouth.context or mouth
        return sync_in_context(
            track.mouth_open,
            track.jaw_open,
            audio,
            track.first_frame,
            track.fps,
            near=self.near_lag,
            mouth_dark=track.mouth_dark,
        )


def judge(model: LipSyncModel, mouth: MouthTrack, audio: np.ndarray) -> LipSyncVerdict:
    return LipSyncVerdict(model.name, float(model.sync_score(mouth, audio)), model.threshold)


def lip_sync_model(name: str = "auto", threshold: float | None = None) -> LipSyncModel:
    """``av_sync``, ``syncnet`` (a clear error when its weights are missing) or ``auto`` (SyncNet
    when fetched, else ``av_sync``); ``threshold`` overrides the model's own."""
    from annotators.models.syncnet import SyncNetLipSync, syncnet_available

    if name == "auto":
        name = "syncnet" if syncnet_available() else "av_sync"
    if name == "av_sync":
        return SignalLipSync() if threshold is None else SignalLipSync(threshold=threshold)
    if name == "syncnet":
        return SyncNetLipSync.load() if threshold is None else SyncNetLipSync.load(threshold=threshold)
    raise ValueError(f"unknown lip-sync model {name!r}; known: auto, av_sync, syncnet")


def lip_sync_choice(stage: str, name: str = "auto") -> ModelChoice:
    """What the lip-sync verdict runs on, for the run's model line and fingerprint."""
    from annotators.models.syncnet import MODEL, syncnet_available

    if name == "syncnet" or (name == "auto" and syncnet_available()):
        return ModelChoice.using("lip-sync verdict", stage, MODEL)
    return ModelChoice.instead("lip-sync verdict", stage, "the offline av_sync estimator", MODEL,
                               "dubbed speech is judged from mouth motion against the audio envelope")
