"""Whose voice is it, decided with the evidence of every video of a run.

One video often holds too little evidence: in a shot/reverse-shot conversation each pairing of a
voice and a face may be seen in a single 2-s span, and a span's synchrony separates own from
foreign voices with an AUC of only about 0.8 (``annotators.speaking.voice_face_association``). A
run of interviews, episodes or clips of one show hears the same people many times. So the spans
of all videos are labelled in run terms, the voice by its cluster across the run
(``run_voice_clusters``) and the face by its identity (``stages.identity``), and each span's
synchrony is pooled per (run voice, run face) (``pooled_owners``). Each video then matches the
voices it hears to the faces it shows, one to one as before, on the pooled evidence.

Matching stays per video on purpose: a voice or face seen in one video only scores exactly as the
video's own association did, and a run voice that wrongly holds two people's voices still goes to
only one face per video, the one its pooled spans favour.
"""

from collections.abc import Hashable, Mapping, Sequence

import numpy as np

from annotators.clustering.constrained_linkage import average_linkage_clusters
from annotators.speaking.voice_face_association import VoicedSpan, voice_owners

VideoVoice = tuple[str, Hashable]  # (video id, the video's own voice label)


def run_voice_clusters(
    vectors: Mapping[VideoVoice, np.ndarray], threshold: float, apart_within_video: bool = True
) -> dict[VideoVoice, int]:
    """A run voice number per video voice: average-linkage groups of unit vectors by cosine
    distance up to ``threshold``. With ``apart_within_video``, two voices of one video never
    join (the video told them apart); without, they may, which mends a voice the video split in
    two (its grouping is capped by its faces, and one person seen as two faces gets two voices)."""
    keys = sorted(vectors, key=repr)
    if not keys:
        return {}
    matrix = np.stack([np.asarray(vectors[k], dtype=np.float64) for k in keys])
    distances = 1.0 - np.clip(matrix @ matrix.T, -1.0, 1.0)
    videos = np.array([k[0] for k in keys])
    same_video = (videos[:, None] == videos[None, :]) & apart_within_video
    np.fill_diagonal(same_video, False)
    clusters = average_linkage_clusters(distances, same_video, threshold)
    return {keys[member]: number for number, members in enumerate(clusters) for member in members}


def pooled_owners(spans: Mapping[str, Sequence[VoicedSpan]], baseline: float) -> dict[str, dict[Hashable, Hashable]]:
    """Per video, each run voice it hears -> the run face (shown in that video) that owns it.

    ``spans`` are each video's voiced spans with ``voice`` and ``face`` already in run terms: a
    voice or face that is not linked across videos carries a label of its own video only."""
    evidence: dict[tuple[Hashable, Hashable], float] = {}
    for video_spans in spans.values():
        for s in video_spans:
            if s.voice is not None and np.isfinite(s.sync):
                evidence[(s.voice, s.face)] = evidence.get((s.voice, s.face), 0.0) + s.sync - baseline
    # The per-video matching, with each (voice, face) term replaced by the run's pooled sum: one
    # span per pair whose synchrony is that sum plus the baseline back.
    return {
        video_id: voice_owners(
            [
                VoicedSpan("pooled", face, voice, 0, 1, evidence[(voice, face)] + baseline)
                for voice, face in sorted({(s.voice, s.face) for s in video_spans if (s.voice, s.face) in evidence},
                                          key=repr)
            ]
            if len({s.face for s in video_spans}) >= 2
            else [],
            baseline,
        )
        for video_id, video_spans in spans.items()
    }
