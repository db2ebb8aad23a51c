"""Tie each voice of a video to the face it belongs to, and find lips moving to someone else's voice.

Mouth motion plus voice activity calls any moving mouth under a voice "speaking", including a
listener whose lips move (talking to someone off-screen, chewing, a cutaway of the other party in
shot/reverse-shot editing) while the speaker's voice continues over their face. One short shot
cannot settle it: a 2-s span's mouth/audio synchrony separates own from foreign voices with an
AUC of about 0.81 (``av_sync.sync_in_context`` on the spans of ``lpm-curate bench speaking``).
A whole video usually can, because the same voice is heard over several shots: over its owner's
face it is in sync, over the listener's face it is not.

Inputs are voiced spans: a stretch of one face track where a voice is heard and the mouth moves,
with the face group (the person, within this video), the voice (diarized speaker or a
``voice_profile`` cluster) and the span's synchrony (``av_sync.sync_in_context``). Each voice is
matched to at most one face and each face to at most one voice (the Hungarian method on the
synchrony minus ``baseline``, summed per voice and face over their spans); a voice whose best
total is not positive stays unowned. Each span counts once, whatever its length: the synchrony is
already a standardised score (how far the peak near lag 0 stands out of the other lags), so
``sync - baseline`` is a log-likelihood ratio of own against foreign voice up to scale
(Gaussian own and foreign scores of similar spread), and the likelihood of an assignment is the
sum over its spans. Weighting by duration let one long coincidence outvote two shorter spans in
sync. A span whose voice is owned by another face is foreign:
the states stage labels it listening. Spans of unowned voices, and every span in a video with a
single face, are left as they were, so monologues never change.

Except a span whose lips follow its audio beyond what a foreign voice reaches
(``UNMISTAKABLE_SYNC``): then the voice grouping, not the lips, is wrong (two similar voices
grouped as one), and the span stays its face's own speech. Measured: over 1,600 windows of 1-3 s
of each shared talking head's lips under another person's voice, the highest synchrony was 3.96
(0.06 % at 3.0 or more; an unrelated voice scores 1.0 +- 0.5 on the spans of the speaking
benchmark), and no own window of those clips reached 4.0 either, so on real talking heads the
exception has not been seen to apply. It applies on the synthetic corpus, whose espeak voices
Resemblyzer groups less well than real ones: in ``small_face`` one speaker's whole turn
(synchrony 4.68) was grouped with the other speaker's voice and labelled listening (state
accuracy of that video 0.786; 0.941 with the exception).
"""

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

# Synchrony is counted relative to this level. On the 2-s spans of the speaking benchmark's 36
# conversations of seed 0 an unrelated voice scores 1.0 +- 0.5 and an own voice 1.8 +- 0.8 (a few
# weakly guided renders below 0), so the likelihood-ratio midpoint is about 1.4; but any baseline
# from -0.5 to -3 swapped no conversation there and 0 or above did: a negative baseline makes
# the matching give every face with moving lips a voice instead of leaving a voice unowned
# because its own face's sync reads low. -1 sits inside that range (the held-out seeds 1-5 are
# in docs/benchmarks.md).
SYNC_BASELINE = -1.0
# Synchrony no foreign voice reached on real talking heads (max 3.96 over 1,600 windows, see above).
UNMISTAKABLE_SYNC = 4.0


@dataclass(frozen=True)
class VoicedSpan:
    track_id: str
    face: Hashable  # the person in this video (tracks of one person share it)
    voice: Hashable | None  # None: the voice could not be described
    first: int  # frames of the track
    end: int
    sync: float  # av_sync.sync_in_context; NaN when unknown

    @property
    def n_frames(self) -> int:
        return self.end - self.first


def voice_owners(spans: Sequence[VoicedSpan], baseline: float = SYNC_BASELINE) -> dict[Hashable, Hashable]:
    """Voice -> the face that owns it (one-to-one), for the voices with positive evidence."""
    scored = [s for s in spans if s.voice is not None and np.isfinite(s.sync)]
    voices = sorted({s.voice for s in scored}, key=repr)
    faces = sorted({s.face for s in scored}, key=repr)
    if not voices or not faces:
        return {}
    evidence = np.zeros((len(voices), len(faces)))
    for s in scored:
        evidence[voices.index(s.voice), faces.index(s.face)] += s.sync - baseline
    rows, cols = linear_sum_assignment(-evidence)
    return {voices[r]: faces[c] for r, c in zip(rows, cols, strict=True) if evidence[r, c] > 0}


def foreign_spans(spans: Sequence[VoicedSpan], owners: dict[Hashable, Hashable]) -> list[VoicedSpan]:
    """The spans whose voice belongs to another face present in the video, unless their own lips
    follow that voice unmistakably (``UNMISTAKABLE_SYNC``: the voice grouping erred)."""
    if len({s.face for s in spans}) < 2:
        return []
    return [
        s for s in spans
        if s.voice in owners and owners[s.voice] != s.face and not s.sync >= UNMISTAKABLE_SYNC
    ]
