"""Per-frame conversational state of a visible performer, from voice activity and speaking odds.

A frame is ``speaking`` when a voice is heard and the visible person is the one speaking,
``listening`` when a voice is heard but it is someone else's, ``idle`` when no voice is heard.
Runs shorter than ``min_run_frames`` are absorbed by their neighbours (longest neighbour wins), so
a single mis-scored frame does not split a segment.
"""

import numpy as np

from schemas.performer_states import PerformerState


def frame_states(
    vad_prob: np.ndarray, speaking_prob: np.ndarray, vad_threshold: float = 0.5, speaking_threshold: float = 0.5
) -> np.ndarray:
    voice = np.nan_to_num(vad_prob.astype(np.float32)) >= vad_threshold
    own = np.nan_to_num(speaking_prob.astype(np.float32)) >= speaking_threshold
    states = np.full(len(voice), PerformerState.IDLE, dtype=np.int8)
    states[voice & own] = PerformerState.SPEAKING
    states[voice & ~own] = PerformerState.LISTENING
    return states


def runs(codes: np.ndarray) -> list[tuple[int, int, int]]:
    """(code, first index, length) of each run of equal values."""
    if len(codes) == 0:
        return []
    change = np.flatnonzero(np.diff(codes)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(codes)]])
    return [(int(codes[a]), int(a), int(b - a)) for a, b in zip(starts, ends, strict=True)]


def smooth_states(states: np.ndarray, min_run_frames: int) -> np.ndarray:
    """Absorb runs shorter than ``min_run_frames`` into their longer neighbour, shortest first."""
    out = states.copy()
    if min_run_frames <= 1:
        return out
    while True:
        current = runs(out)
        short = [(length, i) for i, (_c, _a, length) in enumerate(current) if length < min_run_frames]
        if not short or len(current) == 1:
            return out
        _length, i = min(short)
        _code, start, length = current[i]
        left = current[i - 1] if i > 0 else None
        right = current[i + 1] if i + 1 < len(current) else None
        neighbour = max((n for n in (left, right) if n is not None), key=lambda n: n[2])
        out[start : start + length] = neighbour[0]


def segment_state(codes: np.ndarray, min_run_frames: int) -> PerformerState:
    """The state a segment of frame ``codes`` is given: the most frequent, except that a segment
    where a voice is heard for at least ``min_run_frames`` is never ``idle`` ("nobody is speaking"),
    but the more frequent of ``speaking`` and ``listening``. A clip whose only speech is shorter than
    a segment (a 1.2-s sentence in a 3-s clip) is then one speaking segment with its pauses, not an
    idle one with speech in it."""
    counts = np.bincount(codes, minlength=len(PerformerState))
    dominant = PerformerState(int(np.argmax(counts)))
    voiced = counts[PerformerState.SPEAKING] + counts[PerformerState.LISTENING]
    if dominant != PerformerState.IDLE or voiced < max(1, min_run_frames):
        return dominant
    speaking = counts[PerformerState.SPEAKING] >= counts[PerformerState.LISTENING]
    return PerformerState.SPEAKING if speaking else PerformerState.LISTENING
