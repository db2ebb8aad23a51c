"""Shots over a video whose frames reach the shot detector in spans of different rates.

The analysis cascade (``stages.visual_analysis``) feeds a few frames a second while it only looks
for a performer, and every frame while it landmarks one. A PySceneDetect detector compares each
frame with the one fed before it, so its threshold holds for one rate only: each span gets its own
detector, and keeps the cuts that fall inside it (a span's own first frame is never a cut: a
detector cannot compare it with anything). A new detector waits ``min_gap`` frames from the first
frame it is fed before it reports a cut, as at the start of a video; so a span after the first is
primed with that many copies of its first frame (no difference between them, so no cut), and the
gap between cuts of neighbouring spans is kept here. TransNetV2 scores windows of consecutive
frames, so it is one detector fed every frame, once (``every_frame``).

``feed`` says when a streaming detector finds a cut, so the cascade can judge a shot as soon as it
ends. A span may start at a cut the previous span's detector found (``start(..., at_cut=True)``):
the new span cannot report its own first frame, so the cut is kept here, unless a cut found within
``min_gap`` before it by a faster span already marks the same change of shot.
"""

from collections.abc import Callable
from typing import Protocol

import numpy as np

from annotators.shots.shot_span import ShotSpan, shots_from_cuts


class CutDetector(Protocol):
    def feed(self, index: int, thumbnail_bgr: np.ndarray) -> list[int] | None: ...
    def cuts(self) -> list[int]: ...


class SpannedShots:
    def __init__(self, make_detector: Callable[[], CutDetector], every_frame: bool = False, min_gap: int = 0) -> None:
        self._make = make_detector
        self.every_frame = every_frame
        self.min_gap = min_gap
        self._spans: list[tuple[int, CutDetector]] = []
        self._span_cuts: set[int] = set()  # spans that start at a cut found by the span before
        self._last = -1  # the last frame fed to the current detector
        self._primed = True  # the current detector has been fed
        self._overruled: set[int] = set()  # cuts a detector found that a check at full rate did not

    def start(self, first: int, at_cut: bool = False) -> None:
        """A new span from frame ``first`` (frames already fed from there on are forgotten);
        ``at_cut``: a detector found that ``first`` starts a new shot."""
        if self.every_frame and self._spans:
            return
        if self._spans and self._spans[-1][0] >= first:
            # a span that never reached its successor's first frame (a cut it started at stays one)
            popped = self._spans.pop()[0]
            at_cut = at_cut or (popped == first and popped in self._span_cuts)
            self._span_cuts.discard(popped)
        if at_cut and first > 0:
            self._span_cuts.add(first)
        self._spans.append((first, self._make()))
        self._last = first - 1
        self._primed = first == 0  # a video's first frame starts its detector as it always did

    def feed(self, index: int, thumbnail_bgr: np.ndarray) -> bool:
        """Feed the current span's detector; True if it finds a cut at this frame."""
        if index <= self._last:
            return False  # the single every-frame detector has had this frame already
        if not self._spans:
            self.start(0)
        first, detector = self._spans[-1]
        if not self._primed:
            for virtual in range(max(0, index - self.min_gap), index):
                detector.feed(virtual, thumbnail_bgr)
            self._primed = True
        found = detector.feed(index, thumbnail_bgr) or []
        self._last = index
        return any(first < cut <= index for cut in found)

    def finds_cut(self, indices: list[int], thumbnails_bgr: list[np.ndarray]) -> bool:
        """Whether a fresh detector, primed as a span is and fed these consecutive frames, finds a
        cut after the first of them: the check at full rate of a cut found a few frames apart."""
        detector = self._make()
        first = indices[0]
        for virtual in range(max(0, first - self.min_gap), first):
            detector.feed(virtual, thumbnails_bgr[0])
        for index, thumbnail in zip(indices, thumbnails_bgr, strict=True):
            detector.feed(index, thumbnail)
        return any(first < cut <= indices[-1] for cut in detector.cuts())

    def overrule(self, cut: int) -> None:
        """The cut found at frame ``cut`` is none (``finds_cut`` did not find it): no shot starts there."""
        self._overruled.add(cut)

    def shots(self, n_frames: int) -> list[ShotSpan]:
        """Shots covering frames 0 to ``n_frames`` - 1."""
        cuts: list[int] = []
        for k, (first, detector) in enumerate(self._spans):
            end = self._spans[k + 1][0] if k + 1 < len(self._spans) else n_frames
            found = [first] if first in self._span_cuts else []
            for cut in found + [c for c in detector.cuts() if first < c < end and c not in self._overruled]:
                if cut < n_frames and (not cuts or cut - cuts[-1] >= self.min_gap):
                    cuts.append(cut)
        return shots_from_cuts(cuts, n_frames)
