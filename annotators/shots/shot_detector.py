"""PySceneDetect detectors fed frame by frame from the single analysis decode.

The detectors get a small BGR thumbnail (their scores are averages over pixels, so a thumbnail
changes them little and costs a fraction of the full frame).
"""

import itertools
from dataclasses import dataclass

import numpy as np

DETECTORS = ("content", "adaptive", "threshold", "histogram", "hash")


@dataclass(frozen=True)
class ShotSpan:
    index: int
    first_frame: int
    end_frame: int  # exclusive


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

    def feed(self, index: int, thumbnail_bgr: np.ndarray) -> None:
        cuts = self._detector.process_frame(self._timecode(index, self.fps), thumbnail_bgr)
        self._cuts.extend(c.frame_num for c in cuts)
        self._last = index

    def shots(self) -> list[ShotSpan]:
        """Shots covering every frame fed, in order."""
        if self._last < 0:
            return []
        post = getattr(self._detector, "post_process", None)
        if post is not None:
            self._cuts.extend(c.frame_num for c in post(self._timecode(self._last, self.fps)) or [])
        n_frames = self._last + 1
        cuts = sorted({c for c in self._cuts if 0 < c < n_frames})
        bounds = [0, *cuts, n_frames]
        return [ShotSpan(i, a, b) for i, (a, b) in enumerate(itertools.pairwise(bounds))]
