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
(landmark opening where the pixels were not read): the best windowed mouth/audio correlation
within ``NEAR_LAG`` frames of zero minus its median over +-8 frames. On the 13 speaking segments
of the eight ``talking_head`` clips of shared/media against the same segments under each other
person's voice (79 dubbed cases, ``lpm-curate bench dubbing``), ``NEAR_LAG = 3`` ranked own above
dubbed with AUC 0.95 (0.93 with 2 frames, 0.66 on landmark opening alone). The own segments
scored 0.17-0.50 and the dubbed ones 0.19 at their 85th percentile, 0.26 at their 90th; the
threshold sits between the lowest own scores (so genuine talking heads keep >= 90% of their voiced
frames) and the bulk of the dubbed ones. It was fitted on those same clips: there is no held-out
set, and the two distributions overlap, so a dubbed segment that happens to correlate is kept.
"""

from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from annotators.speaking.av_sync import sync_in_context
from curation.models.model_choice import ModelChoice

NEAR_LAG = 3
AV_SYNC_THRESHOLD = 0.2


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
        return sync_in_context(
            mouth.mouth_open,
            mouth.jaw_open,
            audio,
            mouth.first_frame,
            mouth.fps,
            near=self.near_lag,
            mouth_dark=mouth.mouth_dark,
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
