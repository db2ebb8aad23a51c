"""Whose voice is it, decided with the evidence of every video of a run.

One video often holds too little evidence: in a shot/reverse-shot conversation each pairing of a
voice and a face may be seen in a single 2-s span, and a span's synchrony separates own from
foreign voices with an AUC of only about 0.8 (``annotators.speaking.voice_face_association``). A
run of interviews, episodes or clips of one show hears the same people many times. So the spans
of all videos are labelled in run terms, the voice by its group across the run
(``run_voice_clusters``) and the face by its identity (``stages.identity``), and each span's
synchrony is pooled per (run voice, run face) (``pooled_owners``). Each video then matches the
voices it hears to the faces it shows, one to one as before, on the pooled evidence.

Matching stays per video, and a video's voices and faces keep their number in run terms (two
voices of one video never join, ``run_faces`` links a face to an identity only where the video's
faces and identities correspond one to one): so a voice or face seen in one video only scores
exactly as the video's own association did, and a video that shares nothing with the others
keeps its answer.
"""

from collections.abc import Hashable, Mapping, Sequence

import numpy as np

from annotators.clustering.cosine_linkage import neighbour_linkage
from annotators.clustering.vector_neighbours import NeighbourSearch
from annotators.speaking.voice_face_association import VoicedSpan, voice_owners

VideoVoice = tuple[str, Hashable]  # (video id, the video's own voice label)


def run_voice_clusters(
    vectors: Mapping[VideoVoice, np.ndarray],
    threshold: float,
    apart_within_video: bool = True,
    search: NeighbourSearch | None = None,
) -> dict[VideoVoice, int]:
    """A run voice number per video voice: average-linkage groups of unit vectors by cosine
    distance up to ``threshold``, over the sparse graph of near neighbours (no n x n matrix: a
    run of 10^4-10^5 videos has as many voices). With ``apart_within_video``, two voices of one
    video never join (the video told them apart); without, they may, which mends a voice the
    video split in two (its grouping is capped by its faces, so one person seen as two faces is
    heard as two voices) but can join two people."""
    keys = sorted(vectors, key=repr)
    if not keys:
        return {}
    matrix = np.stack([np.asarray(vectors[k], dtype=np.float64) for k in keys])
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    apart = _same_video_pairs(keys) if apart_within_video else (np.zeros(0, np.int64), np.zeros(0, np.int64))
    clusters = neighbour_linkage(matrix, threshold, apart, search or NeighbourSearch())
    return {keys[member]: number for number, members in enumerate(clusters) for member in members}


def run_faces(video_spans: Sequence[VoicedSpan], identity_of_track: Mapping[str, str | None]) -> dict[Hashable, str]:
    """The video's faces (its own face groups) that stand for an identity of the run: a face
    whose tracks all have one identity that no other face of the video has. A face the video's
    grouping and the run's identities disagree on (split or merged) stays the video's own."""
    identities: dict[Hashable, set[str | None]] = {}
    for s in video_spans:
        identities.setdefault(s.face, set()).add(identity_of_track.get(s.track_id))
    single = {face: next(iter(ids)) for face, ids in identities.items() if len(ids) == 1 and None not in ids}
    taken = list(single.values())
    return {face: identity for face, identity in single.items() if taken.count(identity) == 1}


def pooled_owners(spans: Mapping[str, Sequence[VoicedSpan]], baseline: float) -> dict[str, dict[Hashable, Hashable]]:
    """Per video, each run voice it hears -> the run face (shown in that video) that owns it.

    ``spans`` are each video's voiced spans with ``voice`` and ``face`` already in run terms: a
    voice or face that is not linked across videos carries a label of its own video only."""
    evidence: dict[tuple[Hashable, Hashable], float] = {}
    for video_spans in spans.values():
        for s in video_spans:
            if s.voice is not None and np.isfinite(s.sync):
                evidence[(s.voice, s.face)] = evidence.get((s.voice, s.face), 0.0) + s.sync - baseline
    owners: dict[str, dict[Hashable, Hashable]] = {}
    for video_id, video_spans in spans.items():
        if len({s.face for s in video_spans}) < 2:
            owners[video_id] = {}
            continue
        # The per-video matching, each (voice, face) pair standing for the run's pooled sum: one
        # span whose synchrony is that sum with the baseline added back.
        pairs = sorted({(s.voice, s.face) for s in video_spans if (s.voice, s.face) in evidence}, key=repr)
        pooled = [VoicedSpan("pooled", face, voice, 0, 1, evidence[(voice, face)] + baseline) for voice, face in pairs]
        owners[video_id] = voice_owners(pooled, baseline)
    return owners


def _same_video_pairs(keys: Sequence[VideoVoice]) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs of the voices that share a video (a handful per video)."""
    by_video: dict[str, list[int]] = {}
    for i, (video_id, _voice) in enumerate(keys):
        by_video.setdefault(video_id, []).append(i)
    pairs = [(a, b) for members in by_video.values() for a in members for b in members if a != b]
    if not pairs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rows, cols = zip(*pairs, strict=True)
    return np.asarray(rows, np.int64), np.asarray(cols, np.int64)
