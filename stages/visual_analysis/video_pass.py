"""One video's pass through ``visual_analysis``: what the coarse and the fine pass measure, by frame.

The stage (``stages.visual_analysis``) decides, frame by frame, which pass a frame gets
(``annotators.face.landmark_gate``); a ``VideoPass`` holds what they measured until the stage
assembles shots and tracks from it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

import cv2
import numpy as np

from annotators.duplicates.perceptual_hash import phash64
from annotators.face.coarse_evidence import CoarseFace, CompetingRule, summarize
from annotators.face.face_crops import body_crop, face_crop, frame_thumbnail
from annotators.face.face_tracker import box_iou
from annotators.face.landmark_gate import LandmarkGate
from annotators.face.track_features import FrameFace
from annotators.models.face_detector import BlazeFaceDetector
from annotators.models.face_landmarker import FaceLandmarkerAnnotator, FaceObservation
from annotators.models.small_face_finder import SmallFaceFinder, merge_boxes
from annotators.models.text_box_detector import TextBoxDetector
from annotators.shots.frame_quality import FROZEN_MAX_DIFF, QUALITY_NAMES, FrameQualityMeter
from annotators.shots.spanned_shots import SpannedShots
from curation.media.frame_source import AnalysisGeometry
from curation.media.source_frames import LazyFrame
from curation.runtime.products import FaceCrop, KeyFrameHashes, crop_jpeg_name
from schemas.tables import ShotRow

THUMB_SHORT_SIDE = 128
SHARPNESS_SHORT_SIDE = 256


class PassSettings(Protocol):
    """The settings of ``VisualAnalysisStage`` a pass reads (the stage is passed as them): typed
    here, so that this module, which the stage imports, needs nothing of the stage's own."""

    analysis_fps: float
    small_face_every_s: float
    small_face_every_with_face_s: float
    crops_per_s: float
    hashes_per_s: float
    text_overlay_fps: float
    text_region: Literal["performers", "frame"]
    small_faces: bool
    max_small_faces: int
    small_faces_until_face_frac: float
    cascade_min_face_px: float
    frontal_max_yaw: float
    frontal_max_pitch: float


# The rows (top, bottom, fractions of the frame height) the text detector reads on a frame with
# these face boxes; None: none (``VisualAnalysisStage.text_rows``).
TextRows = Callable[[list[np.ndarray], AnalysisGeometry], tuple[float, float] | None]


@dataclass(frozen=True)
class CoarseLook:
    """What one frame told the coarse pass: whether it was a coarse frame, whether it shows a face
    a performer could have, and whether the shot detector found a cut at it."""

    coarse: bool = False
    candidate: bool = False
    cut: bool = False


@dataclass
class VideoPass:
    """One video's analysis so far: what the coarse and the fine pass have measured, by frame."""

    settings: PassSettings
    geometry: AnalysisGeometry
    coarse_geometry: AnalysisGeometry
    gate: LandmarkGate
    landmarker: FaceLandmarkerAnnotator
    face_detector: BlazeFaceDetector
    finder: SmallFaceFinder
    shots: SpannedShots
    text: TextBoxDetector | None  # None: no text detection
    text_rows: TextRows
    competing: CompetingRule = field(default_factory=CompetingRule)
    n_frames: int = 0
    quality_rows: dict[int, np.ndarray] = field(default_factory=dict)
    faces: dict[int, list[FrameFace]] = field(default_factory=dict)  # the landmarked frames
    coarse_faces: dict[int, list[CoarseFace]] = field(default_factory=dict)  # the coarse frames' confirmed faces
    crops: dict[tuple[int, int], tuple[FaceCrop, dict[str, bytes]]] = field(default_factory=dict)
    text_samples: dict[int, np.ndarray] = field(default_factory=dict)
    hashes: dict[int, tuple[float, int | None]] = field(default_factory=dict)  # by hash slot
    meter: FrameQualityMeter = field(default_factory=FrameQualityMeter)
    followed: list[np.ndarray] = field(default_factory=list)
    last_search: int = -(1 << 40)
    # the last coarse frame's grey thumbnail and confirmed faces: a frame showing the same picture
    # (a slideshow, a screen recording, a freeze) shows the same faces
    last_look: tuple[np.ndarray, list[CoarseFace]] | None = None

    def __post_init__(self) -> None:
        settings, fps = self.settings, self.settings.analysis_fps
        self.small_every = max(1, round(settings.small_face_every_s * fps))
        self.small_every_with_face = max(self.small_every, round(settings.small_face_every_with_face_s * fps))
        self.crop_every = max(1, round(fps / settings.crops_per_s)) if settings.crops_per_s else 0
        self.hash_every = max(1, round(fps / settings.hashes_per_s)) if settings.hashes_per_s else 0
        self.text_every = max(1, round(fps / settings.text_overlay_fps)) if self.text is not None else 0
        self.tiles = settings.small_faces and settings.max_small_faces > 0
        short_side = min(self.geometry.width, self.geometry.height)
        self.no_tiles_beside_px = settings.small_faces_until_face_frac * short_side
        # The coarse pass's tiles need only find faces of cascade_min_face_px: a tile about six
        # times that (small_face_finder), never smaller than the fine pass's.
        smallest = settings.cascade_min_face_px * self.geometry.scale
        self.coarse_tile = min(short_side, max(self.finder.tile, round(6.4 * smallest)))

    def start_span(self, first: int, at_cut: bool = False) -> None:
        """The pass changes rate at frame ``first`` (``at_cut``: where a detector found a cut):
        frame differences start again from there."""
        self.shots.start(first, at_cut)
        self.last_look = None
        self.meter = FrameQualityMeter()
        self.followed = []
        self.last_search = -(1 << 40)

    def fine(self, frame: LazyFrame, stop_at_cut: bool = False) -> bool:
        """Everything on this frame: shots and quality, landmarks, small faces, text, crops. With
        ``stop_at_cut``, a frame the shot detector finds a cut at is left alone (False): a new shot
        starts there, which the cascade judges on its own."""
        index = frame.index
        rgb = frame.rgb(self.geometry)
        half = self._half(frame, rgb)
        # The thumbnail comes from the 256-px image, not the full frame: an INTER_AREA resize
        # by a non-integer factor near 4 cost 3 ms a frame, halving the 256-px image 0.06 ms.
        thumb = resize_short(half, THUMB_SHORT_SIDE)
        if self.shots.feed(index, cv2.cvtColor(thumb, cv2.COLOR_RGB2BGR)) and stop_at_cut:
            return False
        self.quality_rows[index] = self.meter.measure(thumb, cv2.cvtColor(half, cv2.COLOR_RGB2GRAY))
        if self.hash_every and index % self.hash_every == 0:
            self.hashes[index // self.hash_every] = (frame.t, phash64(thumb))
        observations = [(o, False) for o in self.landmarker.detect(rgb, frame.t)]
        if any(o.box[3] - o.box[1] >= self.no_tiles_beside_px for o, _ in observations):
            self.followed = []  # none of them could compete with this face
        elif self.tiles:
            every = self.small_every_with_face if observations else self.small_every
            search = index - self.last_search >= every
            if search:
                self.last_search = index
            self.followed = self._small_faces(rgb, search, observations)
        self.faces[index] = [_frame_face(o, tile) for o, tile in observations]
        self.gate.saw(index, [(o.box[3] - o.box[1]) / self.geometry.scale for o, _ in observations])
        if self.text_every and index % self.text_every == 0:
            rows = self.text_rows([o.box for o, _ in observations], self.geometry)
            if rows is not None:
                self.text_samples[index] = self.text.boxes(rgb, rows)
        if self.crop_every and index % self.crop_every == 0:
            for det, (obs, _tile) in enumerate(observations):
                self.crops[(index, det)] = _crops(rgb, frame.t, obs, f"{index:06d}-{det}")
        return True

    def _half(self, frame: LazyFrame, rgb: np.ndarray) -> np.ndarray:
        """The 256-px image of a frame whose analysis-size picture is ``rgb``. Exactly half of it is
        a fast 2x2 average; otherwise the decoder scales its own planes, as for a coarse frame
        (``LazyFrame.small``: 0.3 ms a frame where an INTER_AREA resize by 1.8-1.9 took 1.1-2.1 ms,
        with sharpness, noise and colour within 1-2 % and brightness within 1.3 grey levels)."""
        short = min(rgb.shape[:2])
        if short <= SHARPNESS_SHORT_SIDE or short - short % 2 == 2 * SHARPNESS_SHORT_SIDE:
            return resize_short(rgb, SHARPNESS_SHORT_SIDE)
        return frame.small(self.coarse_geometry)

    def coarse(self, frame: LazyFrame, previous: LazyFrame | None) -> CoarseLook:
        """Shots, quality and faces on a coarse frame, from a small picture: whether it shows a face
        a performer could have, and whether a shot ends before it. Other frames only feed a shot
        detector that needs them all. Motion and frozen frames are measured from the ``previous``
        frame, as at full rate (a 2 fps slideshow repeats each picture 12 times at 25 fps: frozen
        on 11 of 12 frames, but on only about half of the frames 5 apart)."""
        index = frame.index
        is_coarse = self.gate.is_coarse_frame(index)
        if not is_coarse and not self.shots.every_frame:
            return CoarseLook()
        small = frame.small(self.coarse_geometry)
        thumb = resize_short(small, THUMB_SHORT_SIDE)
        cut = self.shots.feed(index, cv2.cvtColor(thumb, cv2.COLOR_RGB2BGR))
        if not is_coarse:
            return CoarseLook(cut=cut)
        if previous is not None and previous.index == index - 1:
            self.meter.follow(resize_short(previous.small(self.coarse_geometry), THUMB_SHORT_SIDE))
        self.quality_rows[index] = self.meter.measure(thumb, cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
        if self.hash_every and index // self.hash_every not in self.hashes:
            self.hashes[index // self.hash_every] = (frame.t, phash64(thumb))
        grey = cv2.cvtColor(thumb, cv2.COLOR_RGB2GRAY)
        if self.last_look is not None and _same_picture(grey, self.last_look[0]):
            faces = list(self.last_look[1])
            candidate = self.gate.saw(index, [self._box_px(f.box) for f in faces])
        else:
            faces, candidate = self._look_for_faces(frame, small, index)
        self.last_look = (grey, faces)
        self.coarse_faces[index] = faces
        if self.text_every and self.settings.text_region == "frame" and index % self.text_every == 0:
            self.text_samples[index] = self.text.boxes(frame.rgb(self.geometry), (0.0, 1.0))
        return CoarseLook(coarse=True, candidate=candidate, cut=cut)

    def _look_for_faces(self, frame: LazyFrame, small: np.ndarray, index: int) -> tuple[list[CoarseFace], bool]:
        """BlazeFace on the coarse picture and, every ``small_face_every_s``, the tiled search:
        the faces the landmarker confirms, and whether one is performer-sized."""
        to_analysis = self.geometry.scale / self.coarse_geometry.scale
        faces = self._confirmed(frame, [box * to_analysis for _, box in self.face_detector.detect(small)])
        candidate = self.gate.saw(index, [self._box_px(f.box) for f in faces])
        # The tiles only for faces the whole frame cannot show; not once a performer-sized face
        # is in view, which makes the shot pending (the fine pass searches its own first frame).
        if self.tiles and not candidate and index - self.last_search >= self.small_every:
            self.last_search = index
            found = self.finder.find(frame.rgb(self.geometry), self.coarse_tile)
            tiled = self._confirmed(frame, [b for b in found if _new(b, [f.box for f in faces])])
            faces += tiled
            candidate = self.gate.saw(index, [self._box_px(f.box) for f in tiled])
        return faces, candidate

    def refeed(self, frame: LazyFrame) -> None:
        """Feed a frame the coarse pass has seen to the shot detector of a span just started at it."""
        self.shots.feed(frame.index, self._shot_thumbnail(frame))

    def cut_at_full_rate(self, frames: list[LazyFrame]) -> bool:
        """Whether a shot detector fed every one of ``frames`` (consecutive) finds a cut after the
        first, on the thumbnails the fine pass's detector sees."""
        return self.shots.finds_cut([f.index for f in frames], [self._shot_thumbnail(f) for f in frames])

    def _shot_thumbnail(self, frame: LazyFrame) -> np.ndarray:
        """The BGR thumbnail a shot detector reads, from the frame's small picture."""
        return cv2.cvtColor(resize_short(frame.small(self.coarse_geometry), THUMB_SHORT_SIDE), cv2.COLOR_RGB2BGR)

    def _box_px(self, box: np.ndarray) -> float:
        """A box's height in source pixels (what the gate's size threshold is set in)."""
        return float(box[3] - box[1]) / self.geometry.scale

    def _confirmed(self, frame: LazyFrame, found: list[np.ndarray]) -> list[CoarseFace]:
        """The faces the landmarker confirms on their crops, as the fine pass's tracks need its
        landmarks: BlazeFace alone also fires where the landmarker sees no face, and each such
        frame would make a shot pending. Each keeps the confirmation's height and pose."""
        confirmed: list[CoarseFace] = []
        for box in merge_boxes([(-k, box) for k, box in enumerate(found)]):
            face = self.finder.confirm_on_crop(frame.rgb(self.geometry), box)
            if face is not None and _new(face.box, [c.box for c in confirmed]):
                confirmed.append(CoarseFace(face.box, face.height_px / self.geometry.scale, face.yaw, face.pitch))
        return confirmed

    def _small_faces(
        self, rgb: np.ndarray, search: bool, observations: list[tuple[FaceObservation, bool]]
    ) -> list[np.ndarray]:
        """Follow known small faces on crops; on search frames look for new ones on tiles."""
        finder, followed = self.finder, list(self.followed)
        known = [o.box for o, _ in observations]
        if search:
            for box in finder.find(rgb):
                if len(followed) < self.settings.max_small_faces and _new(box, known + followed):
                    followed.append(box)
        still = []
        for box in followed:
            if any(box_iou(box, k) >= 0.2 for k in known):
                continue  # the full-frame landmarker has it now
            obs = finder.landmarks_on_crop(rgb, box)
            if obs is not None:
                observations.append((obs, True))
                known.append(obs.box)
                still.append(obs.box)
        return still

    def quality_grid(self) -> np.ndarray:
        """(n_frames, quality) for every analysis frame: a frame the coarse pass skipped has the
        measures of the last frame measured before it."""
        grid = np.zeros((self.n_frames, len(QUALITY_NAMES)), dtype=np.float32)
        last = None
        for i in range(self.n_frames):
            last = self.quality_rows.get(i, last)
            if last is not None:
                grid[i] = last
        return grid

    def measured_quality(self, first: int, end: int, grid: np.ndarray) -> np.ndarray:
        """The quality rows measured on frames ``first`` to ``end`` - 1 (all of them where the fine
        pass ran, the coarse frames elsewhere): a shot's means weigh each measured frame once,
        not the first coarse frame of a span, whose motion is unknown, five times. A shot shorter
        than the coarse step may hold none: then the rows carried to it."""
        measured = [i for i in range(first, end) if i in self.quality_rows]
        return grid[measured] if measured else grid[first:end]

    def coarse_summary(self, first: int, end: int) -> dict[str, float | None]:
        """The coarse evidence (``annotators.face.coarse_evidence.summarize``) of the coarse frames
        among frames ``first`` to ``end`` - 1."""
        frames = [faces for i, faces in self.coarse_faces.items() if first <= i < end]
        max_yaw, max_pitch = self.settings.frontal_max_yaw, self.settings.frontal_max_pitch
        return summarize(frames, self.geometry.width, self.competing, max_yaw, max_pitch)

    def coarse_faces_max(self, first: int, end: int) -> int:
        return max((len(f) for i, f in self.coarse_faces.items() if first <= i < end), default=0)

    def evidence(self, first: int, end: int, ended: bool) -> tuple[ShotRow, int]:
        """(the fields the performer filter judges an unlandmarked shot by, the coarse frames they
        come from) over frames ``first`` to ``end`` - 1: the coarse summary, the quality means, and
        once the shot has ``ended`` its start and end."""
        measured = [row for i, row in self.quality_rows.items() if first <= i < end]
        evidence = ShotRow(**self.coarse_summary(first, end))
        if measured:
            means = np.mean(np.stack(measured), axis=0)
            for i, name in enumerate(QUALITY_NAMES):
                setattr(evidence, "frozen_frac" if name == "frozen" else name, float(means[i]))
        if ended:
            fps = self.settings.analysis_fps
            evidence.t_start, evidence.t_end = first / fps, end / fps
        return evidence, sum(1 for i in self.coarse_faces if first <= i < end)

    def key_frame_hashes(self) -> KeyFrameHashes:
        hashes = KeyFrameHashes()
        for slot in sorted(self.hashes):
            t, value = self.hashes[slot]
            hashes.times.append(t)
            hashes.hashes.append(value)
        return hashes


def resize_short(rgb: np.ndarray, short_side: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    scale = short_side / min(height, width)
    if scale >= 1:
        return rgb
    size = (max(2, round(width * scale)), max(2, round(height * scale)))
    if 2 * short_side == min(height, width) - min(height, width) % 2:
        # Exactly half: crop an odd last row/column so INTER_AREA takes its fast 2x2 path (at a
        # non-integer factor it is several times slower; bilinear would alias and raise the noise
        # and motion measures, whose thresholds were set on area-averaged images).
        size = (width // 2, height // 2)
        rgb = rgb[: size[1] * 2, : size[0] * 2]
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _same_picture(grey: np.ndarray, other: np.ndarray) -> bool:
    """Two grey thumbnails no further apart than a frozen frame from the one before it."""
    return grey.shape == other.shape and float(cv2.mean(cv2.absdiff(grey, other))[0]) < FROZEN_MAX_DIFF


def _new(box: np.ndarray, known: list[np.ndarray]) -> bool:
    return all(box_iou(box, k) < 0.2 for k in known)


def _frame_face(obs: FaceObservation, on_tile: bool) -> FrameFace:
    return FrameFace(obs.box, obs.signals.values, obs.blendshapes, obs.signals.kps5, on_tile)


def _crops(rgb: np.ndarray, t: float, obs: FaceObservation, name: str) -> tuple[FaceCrop, dict[str, bytes]]:
    face_jpg, local_landmarks = face_crop(rgb, obs.box, obs.landmarks)
    crop = FaceCrop(
        t=t,
        name=name,
        face_landmarks=local_landmarks,
        signals=obs.signals.values.astype(np.float16),
        blendshapes=obs.blendshapes.astype(np.float16),
    )
    jpegs = {
        crop_jpeg_name(name, "face"): face_jpg,
        crop_jpeg_name(name, "body"): body_crop(rgb, obs.box),
        crop_jpeg_name(name, "global"): frame_thumbnail(rgb),
    }
    return crop, jpegs
