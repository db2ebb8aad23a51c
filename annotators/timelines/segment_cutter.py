"""Cut a track's frames into training segments of bounded length, preferring state changes.

Segments start and end on frames (so they align with every per-frame array), stay inside the
span they are given (a shot's frames where the performer is present), and are between
``min_frames`` and ``max_frames`` long. Among the partitions that satisfy that, a dynamic
program picks the one with the fewest state changes inside segments, then the fewest segments:
most segments hold one state, and a short state run stays inside a segment as a turn change.
"""

from dataclasses import dataclass

import numpy as np

from annotators.timelines.state_timeline import runs

_CHANGE_COST = 1.0  # a state change inside a segment
_SEGMENT_COST = 0.2  # each segment (favours long segments over many short ones)


@dataclass(frozen=True)
class FrameSpan:
    first: int
    end: int  # exclusive

    @property
    def length(self) -> int:
        return self.end - self.first


def present_spans(present: np.ndarray, max_gap: int) -> list[FrameSpan]:
    """Spans where the face is present, bridging gaps of up to ``max_gap`` frames."""
    filled = present.astype(bool).copy()
    for code, start, length in runs(filled.astype(np.int8)):
        if code == 0 and start > 0 and start + length < len(filled) and length <= max_gap:
            filled[start : start + length] = True
    return [FrameSpan(a, a + n) for code, a, n in runs(filled.astype(np.int8)) if code == 1]


def cut_segments(
    states: np.ndarray, span: FrameSpan, min_frames: int, max_frames: int, grid: int = 5
) -> tuple[list[FrameSpan], list[FrameSpan]]:
    """(segments, leftover spans too short to use) covering ``span``."""
    if span.length < min_frames:
        return [], [span]
    local = states[span.first : span.end]
    changes = np.concatenate([[0], np.cumsum(np.diff(local) != 0)])  # state changes before frame i
    boundaries = {a for _c, a, _n in runs(local)}
    candidates = sorted(boundaries | set(range(0, span.length, grid)) | {span.length})
    best: dict[int, tuple[float, int]] = {0: (0.0, -1)}
    for end in candidates[1:]:
        options = []
        for start in candidates:
            if start >= end:
                break
            if start in best and min_frames <= end - start <= max_frames:
                inside = changes[end - 1] - changes[start]
                options.append((best[start][0] + inside * _CHANGE_COST + _SEGMENT_COST, start))
        if options:
            best[end] = min(options)
    if span.length not in best:
        # No exact partition (the span is just over max_frames but under 2 x min_frames): keep
        # the longest valid segment from the start and report the rest as leftover.
        cut = min(max_frames, span.length)
        return [FrameSpan(span.first, span.first + cut)], [FrameSpan(span.first + cut, span.end)]
    segments = []
    end = span.length
    while end > 0:
        start = best[end][1]
        segments.append(FrameSpan(span.first + start, span.first + end))
        end = start
    return segments[::-1], []
