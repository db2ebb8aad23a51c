"""When the analysis runs the FaceLandmarker: the cascade's decision rule (issue 17).

Most raw footage shows no performer, and the landmarker with a face in view is most of the
analysis's cost. So the analysis starts coarse: on every ``coarse_every``-th frame only the face
detector runs (BlazeFace, and at times the tiled small-face search). A face of at least
``min_face_px`` source pixels there opens the fine pass, which landmarks every frame from
``lookback`` frames before that one (frames the decoder kept unconverted meanwhile: a face that
came into view between two coarse frames is landmarked from where it appeared). The fine pass
closes once ``hold`` frames have gone by without a face that size, seen by the landmarker itself
while it runs. ``min_face_px`` sits below the performer filter's ``min_face_px``: the detector's
box is not the landmarks' box, and a face the filter would reject as too small costs a few
landmarked frames, while a performer never landmarked is lost.
"""

from collections.abc import Iterable
from dataclasses import dataclass

_NEVER = -(1 << 40)


@dataclass
class LandmarkGate:
    coarse_every: int  # analysis frames between coarse frames
    lookback: int  # frames landmarked before the coarse frame that opens the fine pass
    hold: int  # frames without a candidate face before the fine pass closes
    min_face_px: float  # source pixels
    always_fine: bool = False  # the cascade off: every frame landmarked
    fine: bool = False
    last_seen: int = _NEVER  # the last frame a candidate face was seen on

    def __post_init__(self) -> None:
        self.fine = self.always_fine

    def is_coarse_frame(self, index: int) -> bool:
        return index % self.coarse_every == 0

    def saw(self, index: int, face_heights_px: Iterable[float]) -> bool:
        """Note the faces (heights in source pixels) seen on frame ``index``; True if one of them
        is big enough to be a performer."""
        if any(h >= self.min_face_px for h in face_heights_px):
            self.last_seen = max(self.last_seen, index)
            return True
        return False

    def open(self, index: int) -> None:
        self.fine = True
        self.last_seen = max(self.last_seen, index)

    def closes_after(self, index: int) -> bool:
        """Whether the fine pass ends with frame ``index`` (then the gate is coarse again)."""
        if self.always_fine or not self.fine or index - self.last_seen < self.hold:
            return False
        self.fine = False
        return True
