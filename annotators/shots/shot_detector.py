"""Shot detectors fed frame by frame from the single analysis decode, chosen by name.

PySceneDetect's detectors (``content``, the default, ``adaptive``, ``threshold``, ``histogram``,
``hash``) and TransNetV2 (``transnetv2``, ``annotators.shots.transnet_shots``) all get a small BGR
thumbnail (PySceneDetect's scores are averages over pixels, so a thumbnail changes them little and
costs a fraction of the full frame; TransNetV2 looks at 48x27 pixels) and give ``ShotSpan``s.
"""

from typing import TYPE_CHECKING

import numpy as np

from annotators.shots.shot_span import ShotSpan, shots_from_cuts

if TYPE_CHECKING:  # the learned detector (and its network) load only when it is chosen
    from annotators.models.transnet_network import TransNetV2Network
    from annotators.shots.transnet_shots import TransNetShotDetector

DETECTORS = ("content", "adaptive", "threshold", "histogram", "hash", "transnetv2")


class StreamingShotDetector:
    def __init__(self, detector: str, threshold: float, min_shot_frames: int, fps: float) -> None:
        from scenedetect import FrameTimecode
        from scenedetect.detectors import (
            AdaptiveDetector,
            ContentDetector,
            HashDetector,
            HistogramDetector,
            ThresholdDetector,
        )

        self._timecode = FrameTimecode
        self.fps = fps
        if detector == "content":
            self._detector = ContentDetector(threshold=threshold, min_scene_len=min_shot_frames)
        elif detector == "adaptive":
            self._detector = AdaptiveDetector(adaptive_threshold=threshold, min_scene_len=min_shot_frames)
        elif detector == "threshold":
            self._detector = ThresholdDetector(threshold=threshold, min_scene_len=min_shot_frames)
        elif detector == "histogram":
            self._detector = HistogramDetector(threshold=threshold, min_scene_len=min_shot_frames)
        elif detector == "hash":
            self._detector = HashDetector(threshold=threshold, min_scene_len=min_shot_frames)
        else:
            raise ValueError(f"unknown shot detector {detector!r}; choose one of {DETECTORS}")
        self._cuts: list[int] = []
        self._last = -1

    def feed(self, index: int, thumbnail_bgr: np.ndarray) -> list[int]:
        """The cuts the detector reports on this frame (a streaming caller may act on them)."""
        cuts = [c.frame_num for c in self._detector.process_frame(self._timecode(index, self.fps), thumbnail_bgr)]
        self._cuts.extend(cuts)
        self._last = index
        return cuts

    def cuts(self) -> list[int]:
        """The frames that start a new shot, in order (frame 0 never does)."""
        if self._last < 0:
            return []
        post = getattr(self._detector, "post_process", None)
        if post is not None:
            self._cuts.extend(c.frame_num for c in post(self._timecode(self._last, self.fps)) or [])
        return sorted({c for c in self._cuts if 0 < c <= self._last})

    def shots(self) -> list[ShotSpan]:
        """Shots covering every frame fed, in order."""
        return shots_from_cuts(self.cuts(), self._last + 1)


def make_shot_detector(
    name: str, threshold: float, min_shot_frames: int, fps: float, transnet: "TransNetV2Network | None" = None
) -> "StreamingShotDetector | TransNetShotDetector":
    """A fresh detector for one video. ``threshold`` is the PySceneDetect detector's; for
    ``transnetv2`` it is the transition probability and ``transnet`` the network loaded once per
    worker (``annotators.models.transnet_network``)."""
    if name == "transnetv2":
        from annotators.models.transnet_network import TransNetV2Network
        from annotators.shots.transnet_shots import TransNetShotDetector

        return TransNetShotDetector(transnet or TransNetV2Network(), threshold, min_shot_frames)
    return StreamingShotDetector(name, threshold, min_shot_frames, fps)
