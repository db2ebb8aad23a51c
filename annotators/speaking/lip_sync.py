"""Do the lips of a speaking segment follow its audio? A lip-sync score and verdict per segment.

Mouth motion plus voice activity calls a face "speaking" whenever its mouth moves while a voice
is heard, so a dubbed clip, a voice-over or a mismatched mux (someone else's voice under a
talking face) would be kept as speaking training data. The states stage asks a ``LipSyncModel``
for a score per speaking segment and gives it a verdict (``SYNC_VERDICTS``) from two thresholds:
below the model's ``threshold`` (the reject threshold) it is ``out_of_sync`` and rejected
(``Reason.OUT_OF_SYNC``); at or above its ``accept_threshold`` it is ``in_sync``; between the
two, or without a score, it is ``uncertain``: kept, flagged in the manifests (``sync_verdict``)
and selectable by ``lpm-curate export --where``. Only confident out-of-sync speech is dropped.

Models are picked by name (the states stage's ``lip_sync_model``): ``av_sync``, the offline
estimator that needs no weights; ``learned_sync`` (``annotators.speaking.learned_lip_sync``), a
small network trained here on mouth signals and log-mel audio, its weights in the package;
``learned_av_sync`` (``annotators.speaking.mean_lip_sync``), the mean of those two scores;
``learned_av_face_voice`` (``annotators.speaking.face_voice_lip_sync``), that mean plus whether the
voice could be the face's at all (a face/voice map learned here); ``learned_av_face_voice_head``
(``annotators.speaking.head_motion_sync``), that plus whether the head moves with the voice; and ``syncnet``
(``annotators.models.syncnet``), when its weights were fetched. ``auto`` takes SyncNet when present,
else ``AUTO_WITHOUT_SYNCNET`` (the one best held out by source).

``av_sync`` scores a segment with ``annotators.speaking.av_sync.sync_in_context`` on the mouth darkness
(landmark opening where the pixels were not read), read over the segment and up to
``LIP_SYNC_CONTEXT_S`` of the same track on each side within its shot (``MouthTrack.context``):
how far the best mouth/audio correlation within ``NEAR_LAG`` frames of zero stands out of the
other lags up to +-15, in units of their spread. A 2-4 s segment alone holds a few syllables;
the track around it is the same face under the same audio, and a dub or a voice-over rarely
stops at a segment's edge. ``NEAR_LAG = 3``: one genuine talking head (``infinitetalk``) reads
-3 frames by every signal.

Measured with ``lpm-curate bench dubbing`` (the 8 ``talking_head`` clips of shared/media from 4
source repositories, each muxed with every other person's voice: 13 genuine speaking segments, 64
dubbed): genuine segments score 0.97 (``fantasy_end0.1``, the weakly guided render whose lips
read 12 frames behind its audio) and 1.78-4.23, dubbed ones -0.37 to 1.58. A single threshold at 1.7
(the one used before the three-way verdict) was fitted on those clips and, held out one person at
a time, kept only 0.800 of genuine voiced frames; on footage nobody tuned on, genuine speech
scored 0.74-1.68 and most of it was rejected (issue 40).

The two thresholds (``AV_SYNC_THRESHOLD`` = 0.95, reject below; ``AV_SYNC_ACCEPT_THRESHOLD`` =
1.53, in sync from) are the rule of ``annotators.speaking.sync_thresholds`` fitted on all four
sources: the highest reject threshold that keeps >= 0.98 of the genuine speech, the lowest accept
threshold above which <= 0.02 of the dubbed speech scores. Fitted on three sources and scored on
the fourth (``lpm-curate bench dubbing --json``, ``leave_one_source_out``; per-fold figures in
``docs/sync_verdict.md``), genuine speech keeps 0.936 of its frames pooled (1.000 in three folds,
0.733 in the fantasy fold: ``fantasy_end0.1`` falls below the others' cut), dubbed speech is
rejected for 0.742 of its frames, uncertain for 0.236 and called in sync for 0.021.
"""

from dataclasses import dataclass, replace
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from annotators.face.mouth_track import MouthTrack
from annotators.speaking.av_sync import sync_in_context
from curation.models.model_choice import ModelChoice

NEAR_LAG = 3
AV_SYNC_THRESHOLD = 0.95
AV_SYNC_ACCEPT_THRESHOLD = 1.53
SYNC_VERDICTS = ("in_sync", "out_of_sync", "uncertain")
# Seconds of the segment's own track read on each side of it (within its shot) by ``av_sync``.
LIP_SYNC_CONTEXT_S = 5.0
# What ``auto`` runs where SyncNet is not fetched: the model best held out by source. Leave-one-source-out
# over 29 sources (``lpm-curate bench learned-sync``, ``benchmarks.face_voice_match``,
# ``benchmarks.head_motion_sync``; docs/sync_verdict.md), each rule refitted per fold.
AUTO_WITHOUT_SYNCNET = "learned_av_face_voice_head"
FACE_VOICE_MODELS = ("learned_av_face_voice", "learned_av_face_voice_head")  # they read the face/voice map
LIP_SYNC_MODELS = ("av_sync", "learned_sync", "learned_av_sync", *FACE_VOICE_MODELS, "syncnet")


@runtime_checkable
class LipSyncModel(Protocol):
    name: ClassVar[str]
    threshold: float  # below: out_of_sync (rejected)
    accept_threshold: float  # at or above: in_sync; between the two: uncertain

    def sync_score(self, mouth: MouthTrack, audio: np.ndarray) -> float:
        """Higher when the lips follow ``audio`` (the whole video's 16 kHz mono float32); NaN
        when the segment gives no evidence (too short, mouth signal flat)."""
        ...


@dataclass(frozen=True)
class LipSyncVerdict:
    model: str
    score: float  # NaN: no evidence
    threshold: float  # the reject threshold
    accept_threshold: float | None = None  # None: the reject threshold (no uncertain band)

    @property
    def out_of_sync(self) -> bool:
        """True only on evidence: a segment without a score is not called out of sync."""
        return bool(np.isfinite(self.score) and self.score < self.threshold)

    @property
    def verdict(self) -> str:
        """``out_of_sync`` below the reject threshold, ``in_sync`` at or above the accept
        threshold, ``uncertain`` between them and when there is no score (no evidence either way)."""
        if self.out_of_sync:
            return "out_of_sync"
        accept = self.threshold if self.accept_threshold is None else self.accept_threshold
        if np.isfinite(self.score) and self.score >= accept:
            return "in_sync"
        return "uncertain"


@dataclass(frozen=True)
class SignalLipSync:
    """The offline estimator (``annotators.speaking.av_sync``): no weights, see the module docstring."""

    name: ClassVar[str] = "av_sync"
    threshold: float = AV_SYNC_THRESHOLD
    accept_threshold: float = AV_SYNC_ACCEPT_THRESHOLD
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
    return LipSyncVerdict(model.name, float(model.sync_score(mouth, audio)), model.threshold, model.accept_threshold)


def lip_sync_model(
    name: str = "auto", threshold: float | None = None, accept_threshold: float | None = None
) -> LipSyncModel:
    """``av_sync``, ``learned_sync`` (the network trained here, weights in the package),
    ``learned_av_sync`` (the mean of the two), ``learned_av_face_voice`` (that mean plus the face/voice
    match), ``learned_av_face_voice_head`` (that plus the head's motion with the voice), ``syncnet``
    (a clear error when its weights are missing) or ``auto`` (SyncNet when fetched, else
    ``AUTO_WITHOUT_SYNCNET``); ``threshold`` (reject below) and ``accept_threshold`` (in sync at
    or above) override the model's own. An accept threshold below the reject threshold is raised
    to it: the uncertain band is never negative."""
    from annotators.models.syncnet import SyncNetLipSync, syncnet_available
    from annotators.speaking.learned_lip_sync import LearnedLipSync
    from annotators.speaking.mean_lip_sync import ACCEPT_THRESHOLD, THRESHOLD, MeanLipSync

    if name == "auto":
        name = "syncnet" if syncnet_available() else AUTO_WITHOUT_SYNCNET
    model: LipSyncModel
    if name == "av_sync":
        model = SignalLipSync() if threshold is None else SignalLipSync(threshold=threshold)
    elif name == "learned_sync":
        model = LearnedLipSync.load() if threshold is None else LearnedLipSync.load(threshold=threshold)
    elif name == "learned_av_sync":
        reject = THRESHOLD if threshold is None else threshold
        model = MeanLipSync(LearnedLipSync.load(), SignalLipSync(), reject, max(ACCEPT_THRESHOLD, reject))
    elif name == "learned_av_face_voice":
        model = face_voice_lip_sync(threshold)
    elif name == "learned_av_face_voice_head":
        model = head_motion_lip_sync(threshold)
    elif name == "syncnet":
        model = SyncNetLipSync.load() if threshold is None else SyncNetLipSync.load(threshold=threshold)
    else:
        raise ValueError(f"unknown lip-sync model {name!r}; known: auto, {', '.join(LIP_SYNC_MODELS)}")
    accept = model.accept_threshold if accept_threshold is None else accept_threshold
    accept = max(accept, model.threshold)
    if accept != model.accept_threshold:
        if isinstance(model, SignalLipSync):
            model = replace(model, accept_threshold=accept)
        else:
            model.accept_threshold = accept
    return model


def lip_sync_maps(stage: str, name: str = "auto") -> list[ModelChoice]:
    """The models the verdict reads besides its lip-sync network: the face/voice map and the two
    descriptors it maps, for ``learned_av_face_voice`` and ``learned_av_face_voice_head``."""
    from annotators.models.dlib_face_embedder import DLIB_MODEL_NAME
    from annotators.models.face_voice_map import MODEL as MAP
    from annotators.models.syncnet import syncnet_available
    from annotators.models.voice_embedder import VOICE_ENCODER_MODEL_NAME

    if name == "auto":
        name = "syncnet" if syncnet_available() else AUTO_WITHOUT_SYNCNET
    if name not in FACE_VOICE_MODELS:
        return []
    return [ModelChoice.using("face/voice match", stage, model)
            for model in (MAP, DLIB_MODEL_NAME, VOICE_ENCODER_MODEL_NAME)]


def face_voice_lip_sync(threshold: float | None = None) -> LipSyncModel:
    """``learned_av_face_voice`` with the shipped networks, map and thresholds (``threshold``: its reject
    threshold instead)."""
    from annotators.models.face_voice_map import MODEL as MAP
    from annotators.models.face_voice_map import load_map
    from annotators.models.voice_embedder import VoiceEmbedder
    from annotators.speaking.face_voice_lip_sync import ACCEPT_THRESHOLD, THRESHOLD, FaceVoiceLipSync
    from annotators.speaking.learned_lip_sync import LearnedLipSync
    from annotators.speaking.mean_lip_sync import MeanLipSync
    from curation.models.model_store import resolve

    reject = THRESHOLD if threshold is None else threshold
    return FaceVoiceLipSync(MeanLipSync(LearnedLipSync.load(), SignalLipSync()), load_map(resolve(MAP)),
                            VoiceEmbedder(), threshold=reject, accept_threshold=max(ACCEPT_THRESHOLD, reject))


def head_motion_lip_sync(threshold: float | None = None) -> LipSyncModel:
    """``learned_av_face_voice_head``: the shipped ``learned_av_face_voice`` plus the head's motion with
    the voice, with its own thresholds (``threshold``: its reject threshold instead)."""
    from annotators.speaking.head_motion_sync import ACCEPT_THRESHOLD, THRESHOLD, HeadMotionLipSync

    reject = THRESHOLD if threshold is None else threshold
    return HeadMotionLipSync(face_voice_lip_sync(), threshold=reject, accept_threshold=max(ACCEPT_THRESHOLD, reject))


def lip_sync_choice(stage: str, name: str = "auto") -> ModelChoice:
    """What the lip-sync verdict runs on, for the run's model line and fingerprint."""
    from annotators.models.syncnet import MODEL, syncnet_available
    from annotators.speaking.learned_lip_sync import MODEL as LEARNED

    if name == "syncnet" or (name == "auto" and syncnet_available()):
        return ModelChoice.using("lip-sync verdict", stage, MODEL)
    if name == "auto":
        name = AUTO_WITHOUT_SYNCNET
    # learned_av_sync: its network beside av_sync; learned_av_face_voice(_head): with the face/voice map
    # (``lip_sync_maps``), read by dlib's face vector and Resemblyzer's voice vector
    if name in ("learned_sync", "learned_av_sync", *FACE_VOICE_MODELS):
        return ModelChoice.using("lip-sync verdict", stage, LEARNED)
    return ModelChoice.instead("lip-sync verdict", stage, "the offline av_sync estimator", MODEL,
                               "dubbed speech is judged from mouth motion against the audio envelope")
