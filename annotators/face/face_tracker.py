"""Link per-frame face detections of one shot into tracks.

Greedy matching on box IoU, highest overlap first, against tracks seen within the last
``max_gap`` frames (a blink of missed detections does not split a track). When boxes barely
overlap, landmark continuity decides: the centre must move less than ``max_center_shift`` face
heights. Tracks are built per shot, so a track never crosses a shot boundary.
"""

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Track:
    index: int
    frames: list[int] = field(default_factory=list)  # frame indices (shot-relative order)
    detections: list[int] = field(default_factory=list)  # detection index within that frame
    last_box: np.ndarray | None = None

    @property
    def last_frame(self) -> int:
        return self.frames[-1]


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def _center_shift(a: np.ndarray, b: np.ndarray) -> float:
    ca = np.array([(a[0] + a[2]) / 2, (a[1] + a[3]) / 2])
    cb = np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2])
    return float(np.linalg.norm(ca - cb) / max(a[3] - a[1], 1e-6))


def track_faces(
    boxes_per_frame: list[tuple[int, list[np.ndarray]]],
    min_iou: float = 0.3,
    max_gap: int = 12,
    max_center_shift: float = 0.5,
) -> list[Track]:
    """``boxes_per_frame``: (frame index, boxes in that frame), frame indices increasing."""
    tracks: list[Track] = []
    for frame, boxes in boxes_per_frame:
        live = [t for t in tracks if frame - t.last_frame <= max_gap + 1]
        candidates = []
        for ti, track in enumerate(live):
            for di, box in enumerate(boxes):
                iou = box_iou(track.last_box, box)
                shift = _center_shift(track.last_box, box)
                if iou >= min_iou or shift <= max_center_shift:
                    candidates.append((iou - shift, ti, di))
        used_tracks: set[int] = set()
        used_boxes: set[int] = set()
        for _score, ti, di in sorted(candidates, reverse=True):
            if ti in used_tracks or di in used_boxes:
                continue
            used_tracks.add(ti)
            used_boxes.add(di)
            live[ti].frames.append(frame)
            live[ti].detections.append(di)
            live[ti].last_box = boxes[di]
        for di, box in enumerate(boxes):
            if di not in used_boxes:
                tracks.append(Track(len(tracks), [frame], [di], box))
    return tracks
