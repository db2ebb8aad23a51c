"""Learning ``face_voice_map`` from the feature cache: each person's mean face and mean own voice.

The faces are the cache's (``sync_corpus_features`` stores each speaking segment's dlib vector of its
track); the voices are Resemblyzer's vectors of each segment's own audio over its span, as the
``learned_av_face_voice`` verdict embeds a segment. People, not segments, are the rows: a person with
18 segments would otherwise weigh 18 times one with one. ``lpm-curate models train-face-voice`` fits the
shipped map on every person; ``benchmarks.face_voice_match`` fits one per fold.
"""

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from annotators.models.face_voice_map import VOICE_DIMENSION, FaceVoiceMap, fit_map
from annotators.models.voice_embedder import VoiceEmbedder
from apps.bench.learned_sync_training import FeatureSet, Segment
from curation.media.analysis_rate import ANALYSIS_SAMPLE_RATE

SegmentKey = tuple[str, int, int]  # clip, first frame, frames


def segment_key(segment: Segment) -> SegmentKey:
    return segment.clip, segment.seg_first, segment.seg_len


def face_vectors(folder: Path, features: FeatureSet) -> dict[SegmentKey, np.ndarray]:
    """Each segment's face vector, as the cache stored it beside its signals."""
    vectors: dict[SegmentKey, np.ndarray] = {}
    for clip in sorted({s.clip for s in features.segments}):
        with np.load(folder / clip, allow_pickle=False) as data:
            if "face" not in data.files:
                raise ValueError(f"{folder / clip}: cached without face vectors; extract it again")
            for i, face in enumerate(data["face"]):
                vectors[(clip, int(data["seg_first"][i]), int(data["seg_len"][i]))] = face
    return vectors


def span_voice(embedder: VoiceEmbedder, audio: np.ndarray, segment: Segment) -> np.ndarray:
    """The voice vector of ``audio`` over the segment's frames (NaN when too short or silent)."""
    first = int(segment.seg_first / segment.fps * ANALYSIS_SAMPLE_RATE)
    end = int((segment.seg_first + segment.seg_len) / segment.fps * ANALYSIS_SAMPLE_RATE)
    vector = embedder.embed(audio[first:end])
    return vector if vector is not None else np.full(VOICE_DIMENSION, np.nan, np.float32)


def own_voice_vectors(features: FeatureSet, embedder: VoiceEmbedder | None = None) -> dict[SegmentKey, np.ndarray]:
    embedder = embedder or VoiceEmbedder()
    return {segment_key(s): span_voice(embedder, features.audio[s.clip], s) for s in features.segments}


def people_means(
    segments: Iterable[Segment], faces: dict[SegmentKey, np.ndarray], voices: dict[SegmentKey, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per person (sorted): the mean face and the mean own voice over their segments with both."""
    by_person: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for segment in segments:
        face, voice = faces[segment_key(segment)], voices[segment_key(segment)]
        if np.isfinite(face).all() and np.isfinite(voice).all():
            by_person.setdefault(segment.person, []).append((face, voice))
    people = sorted(by_person)
    f = np.stack([np.mean([x[0] for x in by_person[p]], axis=0) for p in people])
    v = np.stack([np.mean([x[1] for x in by_person[p]], axis=0) for p in people])
    return f, v, people


def train_map(
    features: FeatureSet, faces: dict[SegmentKey, np.ndarray], voices: dict[SegmentKey, np.ndarray],
    sources: Sequence[str] | None = None,
) -> FaceVoiceMap:
    """The map fitted on the people of ``sources`` (default: every source)."""
    keep = set(features.sources.values()) if sources is None else set(sources)
    f, v, _ = people_means((s for s in features.segments if s.source in keep), faces, voices)
    return fit_map(f, v)
