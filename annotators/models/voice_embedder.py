"""Whose voice is it? Resemblyzer's learned speaker embedding, installed with the package.

Resemblyzer (Apache-2.0) ships a GE2E speaker encoder (a 3-layer LSTM on 40 mel bands, trained to
put utterances of one speaker close together; Wan et al. 2018) inside its wheel, so it needs no
download step. A span's embedding is the L2-normed mean of the encoder's 1.6-s partial windows
(Resemblyzer's ``embed_utterance``); spans are grouped by average linkage on cosine distance.

Where this replaces the mean-MFCC voice profile (``annotators.audio.voice_profile``): the same speaker
across two source videos scored cosine 0.97 here, other speakers 0.48-0.66, while mean MFCCs of
2-s spans overlap between speakers (same-speaker 0.47 against different speakers 0.43 on the
speaking benchmark). The encoder's first call is slow (librosa's numba kernels compile), so a
worker loads it once.
"""

from typing import Any

import numpy as np

from annotators.clustering.constrained_linkage import average_linkage_clusters
from annotators.models.model_wrapper import ModelWrapper, optional_import
from annotators.models.torch_threads import one_torch_thread
from curation.media.analysis_rate import ANALYSIS_SAMPLE_RATE
from curation.models.model_store import resolve
from curation.runtime.thread_limits import threads_for

VOICE_ENCODER_MODEL_NAME = "voice_encoder"
VOICE_EMBEDDING_KIND = "resemblyzer_ge2e"
# Cosine distance at which two voiced spans stop being one speaker, when nothing caps the count
# (speaker turns). Measured on 2-s spans of the six talking heads with audio (16 spans, five
# voices): one speaker's spans up to 0.37 apart, two speakers' down to 0.22 (two women), so 2-s
# spans have no clean cut; 0.3 groups the 2.5-s spans of five speakers exactly (the tests).
VOICE_EMBEDDING_DISTANCE_THRESHOLD = 0.3
# When the number of faces with moving lips caps the voices (the voice-face association), the cap
# does the grouping and the cut only merges spans that are nearly the same. Synthetic espeak
# voices sit much closer than real ones (different voices of the synthetic corpus down to 0.089
# apart): 0.08 is below every pair of different speakers measured, real or synthetic. With the
# true count as the cap, Resemblyzer and the MFCC profile group the corpus's speakers alike
# (6 of 7 two-speaker videos); a cut of 0.3 merged different espeak voices (state accuracy 0.891).
CAPPED_VOICE_DISTANCE_THRESHOLD = 0.08
MIN_VOICE_SECONDS = 0.5  # shorter spans carry too few 1.6-s partial windows to describe a voice
_RMS_FLOOR = 1e-4  # quieter spans are silence, not a voice


class VoiceEmbedder(ModelWrapper):
    """Unit-length 256-d speaker embeddings of 16 kHz mono spans (CPU)."""

    kind = VOICE_EMBEDDING_KIND

    catalog_names = (VOICE_ENCODER_MODEL_NAME,)

    def __init__(self, device: str = "cpu") -> None:
        self.device = device

    def load_model(self) -> Any:
        resemblyzer = optional_import(
            "resemblyzer", "voice embeddings need resemblyzer: pip install resemblyzer librosa webrtcvad-wheels"
        )
        return resemblyzer.VoiceEncoder(self.device, verbose=False, weights_fpath=resolve(VOICE_ENCODER_MODEL_NAME))

    def embed(self, audio: np.ndarray) -> np.ndarray | None:
        """The span's unit vector (float32), or None when it is too short or silent to describe."""
        samples = np.asarray(audio, dtype=np.float32)
        if samples.size < MIN_VOICE_SECONDS * ANALYSIS_SAMPLE_RATE:
            return None
        rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
        if rms < _RMS_FLOOR:
            return None
        # Resemblyzer's own preprocessing normalises the level to -30 dBFS before the mel spectrogram.
        scaled = samples * (10 ** (-30 / 20) / rms)
        self.setup()
        # One BLAS thread as well as one torch thread: the mel spectrogram's product (librosa, OpenBLAS)
        # rounds differently on one thread and on two, so the vector, and every score read from it,
        # would otherwise depend on the CPUs the calling stage declared (``states`` labels on 0.5,
        # ``voice_identities`` relabelled on another count and gave segments other lip-sync scores in
        # the 8th digit on a 2-core EPYC).
        with threads_for(1), one_torch_thread():  # half the CPU of two threads
            vector = np.asarray(self._model.embed_utterance(scaled), dtype=np.float32)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def cluster(
        self, spans: list[np.ndarray], threshold: float = VOICE_EMBEDDING_DISTANCE_THRESHOLD,
        max_voices: int | None = None,
    ) -> list[int | None]:
        """A voice number per span (same speaker, same number); None for spans too short to
        describe. ``max_voices`` caps the count (closest voices merge past ``threshold``)."""
        return cluster_embeddings([self.embed(span) for span in spans], threshold, max_voices)


def cluster_embeddings(
    vectors: list[np.ndarray | None], threshold: float, max_voices: int | None = None
) -> list[int | None]:
    """Average-linkage groups of unit vectors by cosine distance; None stays None."""
    described = [i for i, v in enumerate(vectors) if v is not None]
    labels: list[int | None] = [None] * len(vectors)
    if not described:
        return labels
    matrix = np.stack([vectors[i] for i in described]).astype(np.float64)
    distances = 1.0 - np.clip(matrix @ matrix.T, -1.0, 1.0)
    no_constraint = np.zeros(distances.shape, dtype=bool)
    for number, members in enumerate(average_linkage_clusters(distances, no_constraint, threshold, max_voices)):
        for member in members:
            labels[described[member]] = number
    return labels
