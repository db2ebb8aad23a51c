"""Held-out lip-sync scores for ``bench validity``: the learned networks trained again without each source.

The shipped networks of ``learned_sync`` (alone, or inside ``learned_av_sync``) were trained on every
source of the calibration corpus (``lpm-curate models train-sync``), so the scores they give its
clips are in sample. Given the feature cache they were trained from (``--sync-features``, the one
``bench learned-sync`` reads), ``bench validity`` trains the shipped recipe once per source S on
every other source (``learned_sync_folds.fold_networks``) and scores each speaking segment of S's
clips, genuine or dubbed, with S's networks in the shipped model's place: the very ``MouthTrack``
and audio the states stage handed the shipped model while the pipeline ran, kept by
``lip_sync_recorder.LipSyncRecorder``. A dubbed copy is judged by its picture's source's networks, which saw its
voice's source, as in ``bench learned-sync``. ``av_sync`` is not trained: its scores are its own.

``learned_av_face_voice`` also reads a face/voice map fitted on the corpus's people: each fold gets a
map fitted on the people of every other source (``face_voice_training.train_map``, from the same
cache's face vectors and its segments' own voices) beside its networks. Like the networks, the map of
a dubbed copy's picture's source has seen the people of its voice's source (``benchmarks.face_voice_match``
gives the figure with both left out).
"""

import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from annotators.models.face_voice_map import FaceVoiceMap
from annotators.speaking.face_voice_lip_sync import FaceVoiceLipSync
from annotators.speaking.head_motion_sync import HeadMotionLipSync
from annotators.speaking.learned_lip_sync import LearnedLipSync
from annotators.speaking.lip_sync import LipSyncModel
from annotators.speaking.mean_lip_sync import MeanLipSync
from apps.bench.face_voice_training import SegmentKey, own_voice_vectors, train_map
from apps.bench.learned_sync_folds import fold_networks
from apps.bench.learned_sync_training import FeatureSet, TrainSettings
from apps.bench.lip_sync_recorder import Call, latest_calls
from curation.runtime.video_work import VideoWork

TRAINED_MODELS = ("learned_sync", "learned_av_sync", "learned_av_face_voice", "learned_av_face_voice_head")


def reads_face_voice_map(model: LipSyncModel) -> bool:
    """Whether ``model`` has a face/voice map to fit per fold (itself or the model it adds to)."""
    return isinstance(model, FaceVoiceLipSync) or (isinstance(model, HeadMotionLipSync) and
                                                   reads_face_voice_map(model.sync))


def held_out_model(shipped: LipSyncModel, network: Any, mapping: FaceVoiceMap | None = None) -> LipSyncModel:
    """The shipped model with ``network`` (a fold's members) in place of its shipped networks, and
    ``mapping`` in place of its face/voice map (where it has one). The head-motion term has nothing
    fitted on clips to hold out."""
    if isinstance(shipped, HeadMotionLipSync):
        return replace(shipped, sync=held_out_model(shipped.sync, network, mapping))
    if isinstance(shipped, FaceVoiceLipSync):
        return replace(shipped, sync=held_out_model(shipped.sync, network), mapping=mapping or shipped.mapping)
    learned = LearnedLipSync(network=network)
    return replace(shipped, learned=learned) if isinstance(shipped, MeanLipSync) else learned


def fold_models(
    shipped: LipSyncModel, features: FeatureSet, settings: TrainSettings, sources: Sequence[str],
    faces: dict[SegmentKey, np.ndarray] | None = None,
) -> dict[str, LipSyncModel]:
    """Per source: the shipped model with networks trained on every other source of ``features`` (and,
    for a model with a face/voice map, a map fitted on their people: ``faces`` the cache's face vectors)."""
    models = {}
    started = time.perf_counter()
    voices = own_voice_vectors(features) if reads_face_voice_map(shipped) and faces is not None else None
    everyone = sorted(set(features.sources.values()))
    for held, network, _ in fold_networks(features, settings, sorted(sources)):
        mapping = None
        if voices is not None and faces is not None:
            mapping = train_map(features, faces, voices, [s for s in everyone if s != held])
        models[held] = held_out_model(shipped, network, mapping)
        print(f"held-out networks without {held}: {time.perf_counter() - started:.0f} s so far",
              file=sys.stderr, flush=True)  # fmt: skip
    return models


def segment_scores(work: VideoWork, calls: list[Call], model: LipSyncModel, fps: float) -> dict[int, float | None]:
    """Index in ``work.segments`` -> the held-out score of that speaking segment: ``model`` on the
    call whose mouth frames overlap the segment most (the last call, where a relabelled video asked
    again); None where the model gives no score."""
    latest = latest_calls(calls)
    out: dict[int, float | None] = {}
    for i, segment in enumerate(work.segments):
        if segment.state != "speaking" or not latest:
            continue
        first, end = int(round(segment.t_start * fps)), int(round(segment.t_end * fps))

        def overlap(frames: tuple[int, int], first: int = first, end: int = end) -> int:
            return min(end, frames[0] + frames[1]) - max(first, frames[0])

        frames = max(latest, key=overlap)
        if overlap(frames) <= 0:
            continue
        mouth, audio, _ = latest[frames]
        score = float(model.sync_score(mouth, audio))
        out[i] = score if np.isfinite(score) else None
    return out
