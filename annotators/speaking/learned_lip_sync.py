"""``learned_sync``: the lip-sync model trained here (``lpm-curate models train-sync``).

No SyncNet-class weights install offline, so this one is trained on this project's own footage
(the calibration corpus and the shared talking heads), self-supervised: a mouth's own audio at lag
0 against the same audio shifted and another clip's voice. It reads only what the pipeline
already computed for the segment (``MouthTrack``: mouth opening, ``jawOpen``, mouth darkness with
its track around the segment) and the audio (``annotators.models.learned_sync_network``), so it
costs no decoding. Its score is read like ``av_sync``'s: how far the mean mouth/sound similarity
within ``NEAR_LAG`` frames of lag 0 stands out of the other lags (``av_sync.standout``).

The weights ship in the package (``annotators/models/weights/learned_sync.npz``, SHA-256 in the
model catalogue): five networks trained alike from seeds 0-4 on every source the corpus and the shared
clips hold (29 with speaking segments), whose scores are averaged (one network's held-out figures swing with its seed).
Thresholds: the rule of ``annotators.speaking.sync_thresholds`` on the out-of-fold scores of
``apps.bench.learned_sync_folds`` (docs/sync_verdict.md).
"""

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from annotators.face.mouth_track import MouthTrack
from annotators.models.learned_sync_network import (
    MAX_LAG,
    audio_features,
    load_weights,
    similarity_curve,
    visual_features,
)
from annotators.models.model_wrapper import ModelWrapper
from annotators.models.torch_threads import one_torch_thread
from annotators.speaking.av_sync import SyncCurve, standout
from curation.models.model_store import resolve

MODEL = "learned_sync"
NEAR_LAG = 3
MIN_FRAMES = 8
# The rule of annotators.speaking.sync_thresholds on every out-of-fold score of ``lpm-curate bench
# learned-sync`` (29 sources with speaking segments, 156 genuine speaking segments, 936 dubbed, a cache
# extracted afresh; five members a fold): 0.685 / 1.679, rounded. (27 sources, 131 / 786, a cache partly
# extracted before the segment-state rule of states version 7: 0.804 / 1.700; 23 sources, 116 / 696: 0.676 /
# 1.768; 18, 99 / 594: 0.415 / 1.889; one network on the first round's 13 sources, 87 / 522: 0.503 / 2.017.)
THRESHOLD = 0.69
ACCEPT_THRESHOLD = 1.68


class LearnedLipSync(ModelWrapper):
    name: ClassVar[str] = "learned_sync"
    catalog_names = (MODEL,)

    def __init__(self, threshold: float = THRESHOLD, accept_threshold: float = ACCEPT_THRESHOLD,
                 path: str | Path | None = None, network: Any = None) -> None:
        self.threshold = threshold
        self.accept_threshold = accept_threshold
        self.path = path  # a weight file; None: the shipped one
        # the members (one network, or several whose scores are averaged)
        self._model = network if network is None or isinstance(network, list) else [network]

    @classmethod
    def load(cls, threshold: float = THRESHOLD, path: str | Path | None = None) -> "LearnedLipSync":
        model = cls(threshold, max(ACCEPT_THRESHOLD, threshold), path)
        model.setup()
        return model

    def load_model(self) -> Any:
        return load_weights(Path(self.path) if self.path else resolve(MODEL))

    def sync_score(self, mouth: MouthTrack, audio: np.ndarray) -> float:
        track = mouth.context or mouth
        signals = np.stack([track.mouth_open, track.jaw_open, track.mouth_dark], axis=1)
        return self.score_signals(signals, audio, track.first_frame, track.fps)

    def score_signals(self, signals: np.ndarray, audio: np.ndarray, first_frame: int, fps: float) -> float:
        """The score of mouth ``signals`` (n, 3) shown from video frame ``first_frame`` under ``audio``:
        the mean of the members' scores."""
        curves = self.curves(signals, audio, first_frame, fps)
        return float(np.mean([standout(c, NEAR_LAG) for c in curves])) if curves else float("nan")

    def curves(self, signals: np.ndarray, audio: np.ndarray, first_frame: int, fps: float) -> list[SyncCurve]:
        """Each member's mean mouth/sound similarity at lags -MAX_LAG..MAX_LAG (the inputs computed once);
        none when there is no evidence."""
        import torch

        n = len(signals)
        present = np.isfinite(signals).all(axis=1)
        if n < MIN_FRAMES or present.sum() < MIN_FRAMES or audio.size == 0:
            return []
        visual = visual_features(signals)
        if not np.any(visual):
            return []
        sound = audio_features(audio, first_frame - MAX_LAG, n + 2 * MAX_LAG, fps)
        self.setup()
        lags = np.arange(-MAX_LAG, MAX_LAG + 1)
        v_in, a_in = torch.from_numpy(visual)[None], torch.from_numpy(sound)[None]
        with torch.no_grad(), one_torch_thread():
            return [SyncCurve(lags, similarity_curve(m.embed_visual(v_in), m.embed_audio(a_in), MAX_LAG)[0]
                              .numpy().astype(np.float64)) for m in self._model]
