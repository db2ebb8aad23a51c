"""Score the states stage's per-frame labels against per-frame truth, frames without a label included.

The prediction for a video frame is the ``state`` of the usable track whose face is present in
that frame (the largest face when there are several); a frame with no such track is ``none``. The
confusion matrix keeps ``none`` as a fourth column, so frames the pipeline dropped (a missed shot
split, a rejected shot, a lost face) show up as missing coverage instead of vanishing from the
accuracy.
"""

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from curation.runtime.video_work import VideoWork
from schemas.performer_states import STATE_NAMES

NO_LABEL = -1
PREDICTED_NAMES = (*STATE_NAMES, "none")
_TIMELINE_CHARS = {NO_LABEL: "-", 0: "i", 1: "S", 2: "L"}


def predicted_frame_states(work: VideoWork, n_frames: int) -> np.ndarray:
    """(n_frames,) int8: the state of the usable track shown in each frame, ``NO_LABEL`` where none is."""
    out = np.full(n_frames, NO_LABEL, dtype=np.int8)
    fps = work.analysis.fps if work.analysis is not None else 25.0
    shots = {s.shot_id: s for s in work.shots}
    labelled = {track_id: f.state for track_id, f in work.track_features.items() if f.state is not None}
    usable = [t for t in work.tracks if t.usable and t.track_id in labelled]
    # Smallest first, so where two usable faces share a frame the larger one's label is kept.
    for track in sorted(usable, key=lambda t: t.face_height_px):
        present = np.flatnonzero(work.track_features[track.track_id].present)
        first = int(round(shots[track.shot_id].t_start * fps))
        frames = first + present
        keep = frames < n_frames
        out[frames[keep]] = np.asarray(labelled[track.track_id])[present[keep]]
    return out


def timeline(codes: np.ndarray) -> str:
    """One character per frame (``i`` idle, ``S`` speaking, ``L`` listening, ``-`` no label), for reading by eye."""
    return "".join(_TIMELINE_CHARS[int(c)] for c in codes)


@dataclass
class FrameStateScore:
    """Truth (rows: idle, speaking, listening) x prediction (columns: the same, then none)."""

    confusion: np.ndarray = field(default_factory=lambda: np.zeros((3, 4), dtype=np.int64))

    def add(self, truth: np.ndarray, predicted: np.ndarray) -> None:
        columns = np.where(predicted == NO_LABEL, 3, predicted)
        np.add.at(self.confusion, (np.asarray(truth, dtype=np.int64), columns.astype(np.int64)), 1)

    @property
    def n_frames(self) -> int:
        return int(self.confusion.sum())

    @property
    def covered(self) -> np.ndarray:
        return self.confusion[:, :3]

    @property
    def coverage(self) -> float | None:
        return float(self.covered.sum() / self.n_frames) if self.n_frames else None

    @property
    def accuracy(self) -> float | None:
        """Right labels over the frames that have a label (see ``coverage`` for the rest)."""
        total = self.covered.sum()
        return float(np.trace(self.covered) / total) if total else None

    @property
    def accuracy_all_frames(self) -> float | None:
        """Right labels over every frame: a frame without a label counts as wrong."""
        return float(np.trace(self.covered) / self.n_frames) if self.n_frames else None

    def per_state(self) -> dict[str, dict[str, float | None]]:
        """Precision and recall over labelled frames, F1 from them, per state."""
        out = {}
        for code, name in enumerate(STATE_NAMES):
            tp = self.covered[code, code]
            predicted, actual = self.covered[:, code].sum(), self.covered[code, :].sum()
            precision = float(tp / predicted) if predicted else None
            recall = float(tp / actual) if actual else None
            f1 = None
            if precision is not None and recall is not None:
                f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            out[name] = {"precision": precision, "recall": recall, "f1": f1}
        return out

    def as_dict(self) -> dict[str, Any]:
        per_state = self.per_state()
        return {
            "n_frames": self.n_frames,
            "coverage": self.coverage,
            "state_accuracy": self.accuracy,
            "state_accuracy_all_frames": self.accuracy_all_frames,
            "state_precision": {s: v["precision"] for s, v in per_state.items()},
            "state_recall": {s: v["recall"] for s, v in per_state.items()},
            "state_f1": {s: v["f1"] for s, v in per_state.items()},
            "state_confusion": {
                "rows_truth": list(STATE_NAMES),
                "columns_predicted": list(PREDICTED_NAMES),
                "counts": self.confusion.tolist(),
            },
        }
