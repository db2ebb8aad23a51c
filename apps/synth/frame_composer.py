"""Draw the frames of one video from its shot plan, and record where every face was drawn.

Per frame: the shot's backdrop seen through the drifting camera, then passers-by, then the framed
people (so a passer walks behind them), the split-screen divider, the bad-shot degradation,
burned-in subtitles, and sensor noise. Each drawn face yields a ``FaceSighting`` for the ground truth.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from apps.synth.backdrops import (
    NOISY_SHOT_SIGMA,
    SENSOR_NOISE_SIGMA,
    NoiseBank,
    backdrop_view,
    degrade,
    drift_offsets,
    make_backdrop,
)
from apps.synth.camera_setups import SPLIT_DIVIDER_PX, Passage, Placement, PlannedShot
from apps.synth.head_rig import HeadRig
from apps.synth.performance import Performance
from apps.synth.portraits import Portrait
from apps.synth.still_landmarks import CHIN, FOREHEAD_TOP
from apps.synth.subtitles import burn_subtitles, subtitle_lines

MIN_INSIDE = 0.6  # share of the face box inside its drawing region for the face to count as visible
MAX_HIDDEN = 0.3  # share of the face box covered by someone drawn in front


@dataclass(frozen=True)
class FaceSighting:
    frame: int
    shot_index: int
    person_id: str
    role: str
    box: tuple[float, float, float, float]  # clipped to the drawing region
    visible: bool


@dataclass
class _Layer:
    placement: Placement
    image: np.ndarray
    alpha: np.ndarray
    origin: tuple[int, int]  # top-left of the portrait in the frame
    box: tuple[float, float, float, float]  # unclipped landmark box in the frame


class FrameComposer:
    def __init__(
        self,
        rng: np.random.Generator,
        width: int,
        height: int,
        fps: int,
        portraits: dict[str, Portrait],
        performances: dict[str, Performance],
    ) -> None:
        self.rng = rng
        self.width = width
        self.height = height
        self.fps = fps
        self.portraits = portraits
        self.performances = performances
        self.sightings: list[FaceSighting] = []
        self._rigs: dict[tuple[str, int], HeadRig] = {}
        self._base_hue = float(rng.random())
        self._sensor_noise = NoiseBank(rng, width, height, SENSOR_NOISE_SIGMA)
        self._bad_noise = NoiseBank(rng, width, height, NOISY_SHOT_SIGMA)

    def frames(self, shots: list[PlannedShot]) -> Iterator[np.ndarray]:
        backdrops: dict[int, np.ndarray] = {}
        for shot_index, shot in enumerate(shots):
            index = shot.setup.backdrop
            if index not in backdrops:
                backdrops[index] = make_backdrop(self.rng, index, self._base_hue, self.width, self.height)
            n = shot.last_frame - shot.first_frame + 1
            drift = drift_offsets(self.rng, n, self.fps)
            subtitles = subtitle_lines(self.rng) if "subtitled" in shot.flags else ()
            for i in range(n):
                frame_index = shot.first_frame + i
                frame = backdrop_view(backdrops[index], drift[i], self.width, self.height)
                layers = [self._passer_layer(p, frame_index, drift[i]) for p in shot.passages
                          if p.first_frame <= frame_index <= p.last_frame]
                layers += [self._layer(p, frame_index, p.centre, drift[i]) for p in shot.setup.placements]
                for layer in layers:
                    _paste(frame, layer)
                self._record(frame_index, shot_index, layers)
                if shot.setup.name == "split":
                    half = self.width // 2
                    frame[:, half - SPLIT_DIVIDER_PX // 2 : half + SPLIT_DIVIDER_PX // 2] = 16
                if "noisy" in shot.flags:
                    frame = degrade(frame, self._bad_noise)
                if subtitles:
                    frame = burn_subtitles(frame, subtitles)
                yield self._sensor_noise.apply(frame)

    def _rig(self, person_id: str, face_height: float) -> HeadRig:
        key = (person_id, round(face_height))
        if key not in self._rigs:
            self._rigs[key] = HeadRig(self.portraits[person_id].scaled_to(face_height))
        return self._rigs[key]

    def _layer(
        self, placement: Placement, frame: int, centre: tuple[float, float], drift: np.ndarray
    ) -> _Layer:
        rig = self._rig(placement.person_id, placement.face_height)
        landmarks = rig.portrait.face.landmarks
        face_centre = (landmarks[FOREHEAD_TOP] + landmarks[CHIN]) / 2
        # The camera drift moves people with the backdrop (whole pixels there, see backdrop_view).
        target = np.array(centre, np.float32) - np.round(drift) - face_centre
        origin = np.floor(target)
        fraction = target - origin
        pose = self.performances[placement.person_id].pose(frame, float(fraction[0]), float(fraction[1]))
        drawn = rig.render(pose)
        moved = drawn.outline + origin
        box = (float(moved[:, 0].min()), float(moved[:, 1].min()), float(moved[:, 0].max()), float(moved[:, 1].max()))
        return _Layer(placement, drawn.image, drawn.alpha, (int(origin[0]), int(origin[1])), box)

    def _passer_layer(self, passage: Passage, frame: int, drift: np.ndarray) -> _Layer:
        progress = (frame - passage.first_frame) / max(passage.last_frame - passage.first_frame, 1)
        centre = tuple(float(a + (b - a) * progress) for a, b in zip(passage.start, passage.end, strict=True))
        placement = Placement(passage.person_id, passage.face_height, centre, (0, 0, self.width, self.height),
                              role="passer_by")
        return self._layer(placement, frame, centre, drift)

    def _record(self, frame: int, shot_index: int, layers: list[_Layer]) -> None:
        for depth, layer in enumerate(layers):
            clip = layer.placement.clip
            x0, y0, x1, y1 = layer.box
            area = max((x1 - x0) * (y1 - y0), 1e-6)
            clipped = (max(x0, clip[0]), max(y0, clip[1]), min(x1, clip[2]), min(y1, clip[3]))
            inside = max(clipped[2] - clipped[0], 0) * max(clipped[3] - clipped[1], 0) / area
            hidden = sum(_coverage(front, clipped) for front in layers[depth + 1 :])
            visible = inside >= MIN_INSIDE and hidden <= MAX_HIDDEN
            self.sightings.append(
                FaceSighting(frame, shot_index, layer.placement.person_id, layer.placement.role, clipped, visible)
            )


def _region(layer: _Layer) -> tuple[int, int, int, int, int, int]:
    """Overlap of a layer's portrait with its drawing region: frame x0, y0, x1, y1 and the
    portrait offset of that corner."""
    size = layer.image.shape[0]
    ox, oy = layer.origin
    cx0, cy0, cx1, cy1 = layer.placement.clip
    x0, y0 = max(ox, cx0), max(oy, cy0)
    x1, y1 = min(ox + size, cx1), min(oy + size, cy1)
    return x0, y0, x1, y1, x0 - ox, y0 - oy


def _paste(frame: np.ndarray, layer: _Layer) -> None:
    x0, y0, x1, y1, px, py = _region(layer)
    if x1 <= x0 or y1 <= y0:
        return
    weight = layer.alpha[py : py + y1 - y0, px : px + x1 - x0].astype(np.float32) * np.float32(1 / 255)
    image = np.ascontiguousarray(layer.image[py : py + y1 - y0, px : px + x1 - x0])
    under = np.ascontiguousarray(frame[y0:y1, x0:x1])
    frame[y0:y1, x0:x1] = cv2.blendLinear(image, under, weight, 1.0 - weight)


def _coverage(front: _Layer, box: tuple[float, float, float, float]) -> float:
    """Share of ``box`` hidden by the opaque part of a layer drawn in front of it."""
    x0, y0, x1, y1, px, py = _region(front)
    bx0, by0, bx1, by1 = (round(v) for v in box)
    ix0, iy0, ix1, iy1 = max(x0, bx0), max(y0, by0), min(x1, bx1), min(y1, by1)
    area = max((bx1 - bx0) * (by1 - by0), 1)
    if ix1 <= ix0 or iy1 <= iy0:
        return 0.0
    alpha = front.alpha[py + iy0 - y0 : py + iy1 - y0, px + ix0 - x0 : px + ix1 - x0]
    return float((alpha > 127).sum()) / area
