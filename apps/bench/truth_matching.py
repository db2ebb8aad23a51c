"""Match a run's predictions to synthetic ground truth (``lpm-synth-truth/1``) and score them.

Predicted tracks are matched to truth tracks of the same video that overlap them in time and whose
face centre is within ``center_tol`` of the frame width; every metric is computed from those
matches, frame by frame where it can be.
"""

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apps.synth.truth import TrackTruth, VideoTruth
from schemas.performer_states import PerformerState
from schemas.tables import TrackRow


def expand_runs(runs: list[list[Any]], n: int, fill: Any = None) -> list[Any]:
    out = [fill] * n
    for value, first, length in runs:
        out[first : first + length] = [value] * length
    return out


def truth_boundaries(truth: VideoTruth) -> list[float]:
    return [s.t_start for s in truth.shots[1:]]


def boundary_tolerances(truth: VideoTruth, tolerance: float) -> list[float]:
    """Per truth boundary: ``tolerance``, widened by half the length of a gradual transition (a
    dissolve's cut may be placed anywhere inside it)."""
    return [tolerance + s.transition_frames / 2 / truth.fps for s in truth.shots[1:]]


def boundary_matches(predicted: list[float], truth: list[float], tolerance: float | list[float]) -> int:
    """Greedy one-to-one matches within ``tolerance`` seconds (one value, or one per truth boundary)."""
    used: set[int] = set()
    hits = 0
    limits = tolerance if isinstance(tolerance, list) else [tolerance] * len(truth)
    for p in sorted(predicted):
        best = (
            min((abs(p - t), i) for i, t in enumerate(truth) if i not in used and abs(p - t) <= limits[i])
            if truth
            else None
        )
        if best:
            used.add(best[1])
            hits += 1
    return hits


def performer_tracks(truth: VideoTruth, min_frames: int) -> list[TrackTruth]:
    """Truth tracks a pipeline should keep: not flagged, not in a noisy or subtitled shot, long enough."""
    flagged_shots = {s.shot_index for s in truth.shots if s.flags}  # every shot flag (noisy, subtitled) rejects
    return [
        t
        for t in truth.tracks
        if not t.flags and t.shot_index not in flagged_shots and t.last_frame - t.first_frame + 1 >= min_frames
    ]


def truth_center_x(track: TrackTruth, width: int) -> float:
    return float(np.median((track.boxes[:, 0] + track.boxes[:, 2]) / 2) / width)


@dataclass
class TrackMatch:
    predicted: TrackRow
    truth: TrackTruth
    overlap_frames: int


def match_tracks(
    predicted: list[TrackRow], truth: VideoTruth, fps: float, center_tol: float = 0.15
) -> list[TrackMatch]:
    matches = []
    for track in predicted:
        p0, p1 = int(round(track.t_start * fps)), int(round(track.t_end * fps))
        best = None
        for t in truth.tracks:
            overlap = min(p1, t.last_frame + 1) - max(p0, t.first_frame)
            if overlap <= 0 or abs(track.x_center - truth_center_x(t, truth.width)) > center_tol:
                continue
            if best is None or overlap > best.overlap_frames:
                best = TrackMatch(track, t, overlap)
        if best is not None:
            matches.append(best)
    return matches


@dataclass
class StateTally:
    confusion: np.ndarray = field(default_factory=lambda: np.zeros((3, 3), dtype=np.int64))  # truth x predicted

    def add(self, truth: np.ndarray, predicted: np.ndarray) -> None:
        np.add.at(self.confusion, (truth, predicted), 1)

    @property
    def accuracy(self) -> float | None:
        total = self.confusion.sum()
        return float(np.trace(self.confusion) / total) if total else None

    def f1(self) -> dict[str, float | None]:
        out = {}
        for s in PerformerState:
            tp = self.confusion[s, s]
            precision = tp / self.confusion[:, s].sum() if self.confusion[:, s].sum() else None
            recall = tp / self.confusion[s, :].sum() if self.confusion[s, :].sum() else None
            out[s.name.lower()] = float(2 * precision * recall / (precision + recall)) if precision and recall else None
        return out


def pairwise_precision_recall(labels_pred: list[str], labels_true: list[str]) -> tuple[float | None, float | None]:
    """Pairwise clustering precision/recall: over all pairs of items, same cluster vs same truth."""
    tp = fp = fn = 0
    for i in range(len(labels_pred)):
        for j in range(i + 1, len(labels_pred)):
            same_pred = labels_pred[i] == labels_pred[j]
            same_true = labels_true[i] == labels_true[j]
            tp += same_pred and same_true
            fp += same_pred and not same_true
            fn += same_true and not same_pred
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    return precision, recall
