"""When the analysis runs the FaceLandmarker: the cascade's decision rule (issue 17).

Most raw footage shows no performer, and the landmarker with a face in view is most of the
analysis's cost. So the analysis starts coarse: on every ``coarse_every``-th frame only the face
detector runs (BlazeFace, the tiled small-face search, each face confirmed by the landmarker on its
crop). A face of at least ``min_face_px`` source pixels there makes the shot *pending*: its frames
are held, unconverted (from ``lookback`` frames before that one, so a face that came into view
between two coarse frames is landmarked from where it appeared), while the coarse frames gather
evidence on the shot (``annotators.face.coarse_evidence``). Then, per shot:

- as soon as ``evidence_frames`` coarse frames of the shot pass the performer filter's own
  thresholds (``ShotJudge.coarse_verdict``), the pass turns *fine*: every held frame and every
  frame after it is landmarked;
- when the shot ends (a cut, or the video's end) or the held frames reach their memory bound
  (``PendingShot``), the shot is skipped if its evidence fails the filter's thresholds by
  ``margin``, and landmarked otherwise. A skipped shot is judged by the filter on that evidence.

The fine pass closes once ``hold`` frames have gone by without a face of ``min_face_px``, seen by
the landmarker itself while it runs. ``min_face_px`` sits below the performer filter's
``min_face_px``: the detector's box is not the landmarks' box, and a face the filter would reject
as too small costs a few coarse frames, while a performer never landmarked is lost. Without a
judge (a workflow with no performer filter) a pending shot turns fine at once.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from annotators.face.coarse_evidence import ShotJudge
from schemas.tables import ShotRow

_NEVER = -(1 << 40)
Decision = Literal["fine", "skip", "wait"]


@dataclass
class LandmarkGate:
    coarse_every: int  # analysis frames between coarse frames
    lookback: int  # frames landmarked before the coarse frame that opens the fine pass
    hold: int  # frames without a candidate face before the fine pass closes
    min_face_px: float  # source pixels
    always_fine: bool = False  # the cascade off: every frame landmarked
    evidence_frames: int = 3  # coarse frames of a shot before it may turn fine ahead of its end
    margin: float = 0.15  # how far a shot's evidence must fail the filter's thresholds to be skipped
    judge: ShotJudge | None = None
    fine: bool = False
    last_seen: int = _NEVER  # the last frame a candidate face was seen on
    skipping: bool = False  # the rest of this shot was judged on its coarse evidence

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

    def decide(self, evidence: ShotRow, coarse_frames: int, ended: bool) -> Decision:
        """What to do with a pending shot whose coarse ``evidence`` (a shot row with its coarse and
        quality fields; ``t_start``/``t_end`` once ``ended``) covers ``coarse_frames`` coarse frames."""
        if self.judge is None:
            return "fine"
        if ended:
            return "skip" if self.judge.coarse_verdict(evidence, self.margin) else "fine"
        if coarse_frames >= self.evidence_frames and self.judge.coarse_verdict(evidence) is None:
            return "fine"
        return "wait"

    def open(self, index: int) -> None:
        self.fine = True
        self.skipping = False
        self.last_seen = max(self.last_seen, index)

    def close(self) -> None:
        """The fine pass ends where its shot does: the next shot is coarse until decided."""
        self.fine = self.always_fine

    def skip_shot(self) -> None:
        """The rest of the shot is judged on its coarse evidence: no more pending until a cut."""
        self.skipping = True

    def new_shot(self) -> None:
        self.skipping = False

    def closes_after(self, index: int) -> bool:
        """Whether the fine pass ends with frame ``index`` (then the gate is coarse again)."""
        if self.always_fine or not self.fine or index - self.last_seen < self.hold:
            return False
        self.fine = False
        return True


@dataclass
class PendingShot:
    """The frames held while a shot is pending, bounded in memory: the shot must be decided once
    they hold ``max_bytes`` of decoded pictures (a 2-minute 1080p shot would otherwise be held
    whole)."""

    max_bytes: int
    first: int | None = None  # the first frame held for the shot; None while no shot is pending
    evidence_from: int = 0  # the first frame of the shot's evidence (its cut, or where a fine pass closed)

    @property
    def active(self) -> bool:
        return self.first is not None

    def begin(self, first: int) -> None:
        self.first = first

    def end(self) -> None:
        self.first = None

    def full(self, held_bytes: int) -> bool:
        return held_bytes >= self.max_bytes
