"""Animate a still portrait: jaw opening, blinks, gaze, head turn, nods and tilt, by image warping.

Every motion is a displacement field built from the landmarks measured once on the still: the
expression fields (jaw, lids, irises) are composed with the head-motion field and the portrait
(colour and cut-out mask together) is warped once with ``cv2.remap``: dest pixel ``p`` shows source
``p - D(p)``.
The opened mouth is painted as a dark cavity with an upper-teeth band between the fixed upper lip
and the lowered jaw, so a face model really measures an open mouth (``jawOpen``, inner-lip gap).
"""

import math
from dataclasses import dataclass

import cv2
import numpy as np

from apps.synth.portraits import Portrait
from apps.synth.still_landmarks import (
    CHIN,
    FACE_OVAL,
    INNER_LIP_LOWER,
    INNER_LIP_UPPER,
    JAW_AT_MOUTH,
    LEFT_EYE,
    LEFT_EYE_CONTOUR,
    MOUTH_CORNERS,
    NOSE_TIP,
    RIGHT_EYE,
    RIGHT_EYE_CONTOUR,
)

MAX_MOUTH_GAP = 0.12  # inner-lip gap at mouth_open=1, in face heights (a wide vowel)
CAVITY_BGR = (38, 30, 78)
TEETH_BGR = (196, 206, 214)


@dataclass(frozen=True)
class HeadPose:
    """One frame's expression and head motion; zeros are the still photo with its mouth closed."""

    mouth_open: float = 0.0  # 0 closed .. 1 widest
    blink: float = 0.0  # 0 open .. 1 closed
    gaze: float = 0.0  # iris shift, -1 image-left .. 1 image-right
    turn: float = 0.0  # face-interior shift (a small yaw), -1 .. 1
    nod: float = 0.0  # head drop, in face heights (+ down)
    tilt_deg: float = 0.0  # roll about the neck
    shift_x: float = 0.0  # whole-portrait sub-pixel offset (camera drift), pixels
    shift_y: float = 0.0


@dataclass(frozen=True)
class RenderedHead:
    image: np.ndarray  # (S, S, 3) uint8
    alpha: np.ndarray  # (S, S) uint8, 255 opaque
    outline: np.ndarray  # (36, 2) where the face-oval landmarks moved to


def smoothstep(x: np.ndarray, edge0: float | np.ndarray, edge1: float | np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / np.maximum(edge1 - edge0, 1e-6), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


class HeadRig:
    """Precomputed geometry of one portrait at one scale; ``render`` draws a pose."""

    def __init__(self, portrait: Portrait) -> None:
        self.portrait = portrait
        lm = portrait.face.landmarks
        self.face_height = h = portrait.face.height
        size = portrait.size
        self._bgra = np.dstack([portrait.image, np.round(portrait.alpha * 255).astype(np.uint8)])
        self._xs = np.arange(size, dtype=np.float32)
        self._grid_x, self._grid_y = np.meshgrid(self._xs, self._xs)
        self._nose = lm[NOSE_TIP]
        self._chin_y = float(lm[CHIN][1])
        self._outline = lm[list(FACE_OVAL)]
        upper = lm[list(INNER_LIP_UPPER)]
        lower = lm[list(INNER_LIP_LOWER)]
        order = np.argsort(upper[:, 0])
        self._lip_x = upper[order, 0]
        self._upper_y = upper[order, 1]
        self._lower_y = np.interp(self._lip_x, *_sorted_xy(lower))
        self._mouth_centre_x = float(lm[list(MOUTH_CORNERS)][:, 0].mean())
        self._mouth_half = float(abs(lm[MOUTH_CORNERS[1]][0] - lm[MOUTH_CORNERS[0]][0]) / 2)
        self._jaw_half = float(abs(lm[JAW_AT_MOUTH[1]][0] - lm[JAW_AT_MOUTH[0]][0]) / 2)
        self._split_y = np.interp(self._xs, self._lip_x, self._upper_y).astype(np.float32)
        self._eyes = [_eye_geometry(lm, corners, contour, size) for corners, contour in (
            (RIGHT_EYE, RIGHT_EYE_CONTOUR), (LEFT_EYE, LEFT_EYE_CONTOUR))]
        self._jaw_box = (
            max(0, math.floor(self._mouth_centre_x - 1.3 * self._jaw_half)),
            max(0, math.floor(float(self._upper_y.min()) - 0.3 * h)),
            min(size, math.ceil(self._mouth_centre_x + 1.3 * self._jaw_half)),
            min(size, math.ceil(self._chin_y + 0.5 * h)),
        )
        # Pose-independent profiles of the head motion (see _head_motion).
        ys = self._xs[:, None]
        self._head = (1.0 - smoothstep(ys, self._chin_y + 0.1 * h, self._chin_y + 0.7 * h)).astype(np.float32)
        sigma = 0.38 * h
        self._bump = (np.exp(-((ys - self._nose[1]) ** 2) / (2 * sigma**2))
                      * np.exp(-((self._xs[None, :] - self._nose[0]) ** 2) / (2 * sigma**2))).astype(np.float32)
        self._tilt_x = ((ys - (self._chin_y + 0.35 * h)) * self._head).astype(np.float32)
        self._tilt_y_row = (self._xs - self._nose[0])[None, :].astype(np.float32)

    def mouth_drop(self, mouth_open: float) -> float:
        """How far the lower lip moves (pixels) from where the still photo has it."""
        base_gap = float(self._lower_y[len(self._lower_y) // 2] - self._upper_y[len(self._upper_y) // 2])
        return mouth_open * MAX_MOUTH_GAP * self.face_height - base_gap

    def render(self, pose: HeadPose) -> RenderedHead:
        """Expression fields (jaw, lids, irises) are defined on the still face; head motion then
        moves that face. Composing the two (rather than adding them) keeps a closed mouth closed
        while the head nods. Expressions are local, so they are composed only in their box."""
        drop = self.mouth_drop(pose.mouth_open)
        expression = np.zeros((*self._grid_x.shape, 2), np.float32)
        boxes = []
        if abs(drop) >= 0.05:
            self._add_jaw_field(expression[..., 1], drop)
            boxes.append(self._jaw_box)
        for eye in self._eyes:
            if eye.add_blink(expression[..., 1], pose.blink) | eye.add_gaze(expression[..., 0], pose.gaze):
                boxes.append(eye.box)
        head_dx, head_dy = self._head_motion(pose)
        source_x = self._grid_x - head_dx
        source_y = self._grid_y - head_dy
        if boxes:
            reach = math.ceil(float(max(np.abs(head_dx).max(), np.abs(head_dy).max()))) + 2
            size = self.portrait.size
            x0 = max(0, min(b[0] for b in boxes) - reach)
            y0 = max(0, min(b[1] for b in boxes) - reach)
            x1 = min(size, max(b[2] for b in boxes) + reach)
            y1 = min(size, max(b[3] for b in boxes) + reach)
            face_x = np.ascontiguousarray(source_x[y0:y1, x0:x1])
            face_y = np.ascontiguousarray(source_y[y0:y1, x0:x1])
            moved_by = cv2.remap(expression, face_x, face_y, cv2.INTER_LINEAR)
            source_x[y0:y1, x0:x1] -= moved_by[..., 0]
            source_y[y0:y1, x0:x1] -= moved_by[..., 1]
        bgra = cv2.remap(self._bgra, source_x, source_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        image = cv2.cvtColor(bgra, cv2.COLOR_BGRA2BGR)
        outline = _forward_map(_forward_map(self._outline, expression[..., 0], expression[..., 1]), head_dx, head_dy)
        self._paint_mouth(image, drop, head_dx, head_dy)
        return RenderedHead(image, bgra[..., 3], outline)

    def _add_jaw_field(self, dy: np.ndarray, drop: float) -> None:
        """Vertical shift of everything under the upper lip, fading out at the jaw's sides and
        below the chin; sharp at the lips (the cavity covers it), a soft stretch on the cheeks."""
        h = self.face_height
        x0, y0, x1, y1 = self._jaw_box
        xs = self._xs[x0:x1]
        ys = self._xs[y0:y1, None]
        off_centre = np.abs(xs - self._mouth_centre_x)
        across = 1.0 - smoothstep(off_centre, 0.75 * self._jaw_half, 1.25 * self._jaw_half)
        softness = 1.5 + 0.22 * h * smoothstep(off_centre, 0.85 * self._mouth_half, 1.8 * self._mouth_half)
        split = self._split_y[x0:x1]
        below_lip = smoothstep(ys, split, split + 2 * softness)
        above_neck = 1.0 - smoothstep(ys, self._chin_y, self._chin_y + 0.45 * h)
        dy[y0:y1, x0:x1] += (drop * across) * below_lip * above_neck

    def _head_motion(self, pose: HeadPose) -> tuple[np.ndarray, np.ndarray]:
        """Nod, tilt and turn move the head; the torso stays (the weight fades down the neck);
        the camera shift moves everything. A nod drops the whole head and the nose a little more
        (the face pitches down); a turn slides the face's middle more than its outline."""
        h = self.face_height
        theta = math.radians(pose.tilt_deg)
        nod = pose.nod * h
        dx = self._bump * np.float32(pose.turn * 0.07 * h)
        dx += (pose.shift_x - theta * self._tilt_x).astype(np.float32)
        dy = self._bump * np.float32(0.5 * nod)
        dy += (pose.shift_y + nod * self._head).astype(np.float32)
        dy += (np.float32(theta) * self._head) * self._tilt_y_row
        return dx, dy

    def _paint_mouth(self, image: np.ndarray, drop: float, dx: np.ndarray, dy: np.ndarray) -> None:
        across = 1.0 - smoothstep(np.abs(self._lip_x - self._mouth_centre_x), 0.75 * self._jaw_half,
                                  1.25 * self._jaw_half)
        half_span = max(float(self._lip_x[-1] - self._lip_x[0]) / 2, 1.0)
        lens = np.sqrt(np.clip(1.0 - ((self._lip_x - self._lip_x.mean()) / half_span) ** 2, 0.0, 1.0))
        gap = np.maximum(self._lower_y + drop * across - self._upper_y, 0.0) * lens
        if gap.max() < 0.6:
            return
        upper = _forward_map(np.stack([self._lip_x, self._upper_y], axis=1), dx, dy)
        lower = upper + np.stack([np.zeros_like(gap), gap], axis=1)
        _fill(image, np.concatenate([upper, lower[::-1]]), CAVITY_BGR)
        teeth = upper + np.stack([np.zeros_like(gap), np.minimum(0.22 * gap, 0.03 * self.face_height)], axis=1)
        if gap.max() > 0.02 * self.face_height:
            _fill(image, np.concatenate([upper, teeth[::-1]]), TEETH_BGR)


@dataclass(frozen=True)
class _EyeGeometry:
    centre_x: float
    half_width: float
    upper_lid: float
    lower_lid: float
    aperture: np.ndarray  # feathered opening mask over ``box``, float32, for gaze shifts
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the region blinks and gaze touch

    def add_blink(self, dy: np.ndarray, blink: float) -> bool:
        """Lids close towards a line 70 % down the opening: a monotone 1-D warp per column, so skin
        above and below stretches over the eye without tearing."""
        if blink <= 0.01:
            return False
        x0, y0, x1, y1 = self.box
        opening = self.lower_lid - self.upper_lid
        close_at = self.upper_lid + 0.7 * opening
        top = self.upper_lid - 0.9 * opening
        bottom = self.lower_lid + 0.9 * opening
        new_upper = self.upper_lid + blink * (close_at - self.upper_lid)
        new_lower = self.lower_lid - blink * (self.lower_lid - close_at)
        rows = np.arange(y0, y1, dtype=np.float32)
        source_rows = np.interp(
            rows,
            [y0, top, new_upper, new_lower, bottom, y1],
            [y0, top, self.upper_lid, self.lower_lid, bottom, y1],
        )
        cols = np.arange(x0, x1, dtype=np.float32)
        across = 1.0 - smoothstep(np.abs(cols - self.centre_x), 0.85 * self.half_width, 1.35 * self.half_width)
        dy[y0:y1, x0:x1] += (rows - source_rows)[:, None] * across[None, :]
        return True

    def add_gaze(self, dx: np.ndarray, gaze: float) -> bool:
        if abs(gaze) <= 0.01:
            return False
        x0, y0, x1, y1 = self.box
        dx[y0:y1, x0:x1] += gaze * 0.2 * self.half_width * self.aperture
        return True


def _eye_geometry(lm: np.ndarray, corners: tuple[int, ...], contour: tuple[int, ...], size: int) -> _EyeGeometry:
    outer, inner, upper, lower = (lm[i] for i in corners)
    half_width = float(abs(outer[0] - inner[0]) / 2)
    centre_x = float((outer[0] + inner[0]) / 2)
    opening = max(float(lower[1] - upper[1]), 0.12 * half_width)
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(lm[list(contour)]).astype(np.int32)], 255)
    aperture = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), max(0.12 * opening, 0.6))
    box = (
        max(0, math.floor(centre_x - 1.5 * half_width)),
        max(0, math.floor(float(upper[1]) - 1.2 * opening)),
        min(size, math.ceil(centre_x + 1.5 * half_width)),
        min(size, math.ceil(float(upper[1]) + opening + 1.2 * opening)),
    )
    aperture = aperture[box[1] : box[3], box[0] : box[2]]
    return _EyeGeometry(centre_x, half_width, float(upper[1]), float(upper[1]) + opening, aperture, box)


def _sorted_xy(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(points[:, 0])
    return points[order, 0], points[order, 1]


def _forward_map(points: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Where source points land: solve p' = p + D(p') by fixed-point iteration (D is smooth)."""
    size = dx.shape[0]
    moved = points.astype(np.float32).copy()
    for _ in range(2):
        ix = np.clip(np.round(moved[:, 0]).astype(int), 0, size - 1)
        iy = np.clip(np.round(moved[:, 1]).astype(int), 0, size - 1)
        moved = points + np.stack([dx[iy, ix], dy[iy, ix]], axis=1)
    return moved.astype(np.float32)


def _fill(image: np.ndarray, polygon: np.ndarray, colour: tuple[int, int, int]) -> None:
    # 4 fractional bits: sub-pixel edges keep a small mouth from flickering between pixel rows.
    cv2.fillPoly(image, [np.round(polygon * 16).astype(np.int32)], colour, cv2.LINE_AA, shift=4)
