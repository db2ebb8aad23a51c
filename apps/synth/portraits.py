"""Face photos -> aligned head-and-shoulders cut-outs (``Portrait``), one per identity.

Each face is rotated so its eyes are level, scaled to a canonical face height, cut out with a soft
mask (head, neck, shoulders) that leaves out every other face of a group photo, and its 478
landmarks are measured again on the result: the animation rig works from those.
"""

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np

from apps.synth.face_sources import FacePhoto
from apps.synth.still_landmarks import (
    CHIN,
    FOREHEAD_TOP,
    LEFT_EYE,
    NOSE_TIP,
    RIGHT_EYE,
    FaceObservation,
    StillFaceLandmarker,
)

CANONICAL_FACE_HEIGHT = 170.0  # forehead-to-chin pixels in a stored portrait
PORTRAIT_SIZE_IN_FACES = 2.8  # square side, in face heights: hair above, shoulders below
MIN_SOURCE_FACE_HEIGHT = 80.0  # smaller source faces upscale into mush
MAX_FRONTAL_OFFSET = 0.22  # |nose - face centre| / face width; more is a profile
MAX_EYES_CLOSED = 0.8  # blendshape score; closed eyes cannot blink or shift gaze


@dataclass(frozen=True)
class Portrait:
    """A head-and-shoulders cut-out; every coordinate is in the portrait's own pixels."""

    person_id: str
    source: str
    image: np.ndarray  # (S, S, 3) uint8 BGR
    alpha: np.ndarray  # (S, S) float32 in 0..1
    face: FaceObservation

    @property
    def size(self) -> int:
        return self.image.shape[0]

    def scaled_to(self, face_height: float) -> "Portrait":
        """The same portrait with a face ``face_height`` pixels tall."""
        factor = face_height / self.face.height
        size = max(8, round(self.size * factor))
        exact = size / self.size
        interpolation = cv2.INTER_AREA if exact < 1 else cv2.INTER_LINEAR
        image = cv2.resize(self.image, (size, size), interpolation=interpolation)
        alpha = cv2.resize(self.alpha, (size, size), interpolation=interpolation)
        face = FaceObservation(self.face.landmarks * np.float32(exact), self.face.blendshapes)
        return replace(self, image=image, alpha=alpha, face=face)


def eye_centres(face: FaceObservation) -> tuple[np.ndarray, np.ndarray]:
    """(image-left eye, image-right eye) centres: the subject's right eye is on the image left."""
    lm = face.landmarks
    return lm[[RIGHT_EYE[0], RIGHT_EYE[1]]].mean(axis=0), lm[[LEFT_EYE[0], LEFT_EYE[1]]].mean(axis=0)


def is_usable_face(face: FaceObservation) -> bool:
    x0, _, x1, _ = face.box
    width = max(x1 - x0, 1e-6)
    frontal = abs(face.landmarks[NOSE_TIP][0] - (x0 + x1) / 2) / width <= MAX_FRONTAL_OFFSET
    eyes_open = max(face.blendshapes.get("eyeBlinkLeft", 0), face.blendshapes.get("eyeBlinkRight", 0))
    return face.height >= MIN_SOURCE_FACE_HEIGHT and frontal and eyes_open <= MAX_EYES_CLOSED


def alignment_matrix(face: FaceObservation) -> np.ndarray:
    """2x3 affine: source photo -> canonical portrait (eyes level, face centred, fixed scale)."""
    left, right = eye_centres(face)
    roll = math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))
    scale = CANONICAL_FACE_HEIGHT / face.height
    centre = (face.landmarks[FOREHEAD_TOP] + face.landmarks[CHIN]) / 2
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), roll, scale)
    half = CANONICAL_FACE_HEIGHT * PORTRAIT_SIZE_IN_FACES / 2
    matrix[:, 2] += np.array([half, half]) - centre
    return matrix


def transform_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return (points @ matrix[:, :2].T + matrix[:, 2]).astype(np.float32)


def cutout_mask(size: int, face: FaceObservation, others: list[np.ndarray]) -> np.ndarray:
    """Soft mask: head ellipse (with hair), the face itself, neck, widening shoulders; other faces
    cut away."""
    lm = face.landmarks
    height = face.height
    x0, _, x1, _ = face.box
    width = x1 - x0
    centre_x = float(lm[NOSE_TIP][0])
    top, chin = float(lm[FOREHEAD_TOP][1]), float(lm[CHIN][1])
    mask = np.zeros((size, size), np.uint8)
    head_centre = (round(centre_x), round((top - 0.4 * height + chin + 0.05 * height) / 2))
    head_axes = (round(0.5 * width + 0.16 * height), round((chin - top + 0.45 * height) / 2))
    cv2.ellipse(mask, head_centre, head_axes, 0, 0, 360, 255, -1)
    # The whole face is always kept, jaw corners included, whatever the head ellipse misses.
    face_centre = lm.mean(axis=0)
    hull = cv2.convexHull(np.round(face_centre + 1.08 * (lm - face_centre)).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 255)
    neck_half = 0.28 * width
    cv2.rectangle(
        mask,
        (round(centre_x - neck_half), round(chin - 0.3 * height)),
        (round(centre_x + neck_half), round(chin + 0.5 * height)),
        255,
        -1,
    )
    shoulders_top = chin + 0.35 * height
    shoulders = np.array(
        [
            [centre_x - 0.5 * width, shoulders_top],
            [centre_x + 0.5 * width, shoulders_top],
            [centre_x + 1.3 * width, size],
            [centre_x - 1.3 * width, size],
        ],
        np.int32,
    )
    cv2.fillPoly(mask, [shoulders], 255)
    for other in others:
        ox0, oy0 = other.min(axis=0)
        ox1, oy1 = other.max(axis=0)
        centre = (round((ox0 + ox1) / 2), round((oy0 + oy1) / 2))
        axes = (round(0.75 * (ox1 - ox0)), round(0.8 * (oy1 - oy0)))
        cv2.ellipse(mask, centre, axes, 0, 0, 360, 0, -1)
    feather = 0.035 * height
    soft = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), feather)
    # The torso fades out towards the crop's lower edge instead of ending in a straight cut.
    fade = 1.0 - np.clip((np.arange(size, dtype=np.float32) - 0.85 * size) / (0.15 * size), 0.0, 1.0)
    return soft * fade[:, None]


def build_portraits(photos: list[FacePhoto], landmarker: StillFaceLandmarker) -> list[Portrait]:
    """One portrait per usable face, in photo order then left to right: a stable identity order."""
    portraits = []
    for photo in photos:
        image = cv2.imread(str(photo.path), cv2.IMREAD_COLOR)
        if image is None:
            continue
        faces = sorted(landmarker.detect_tiled(image), key=lambda f: f.box[0])
        usable = [f for f in faces if is_usable_face(f)]
        for index, face in enumerate(usable):
            portrait = _portrait(image, face, [f for f in faces if f is not face], landmarker)
            if portrait is not None:
                person_id = f"{photo.label}-{index}" if len(usable) > 1 else photo.label
                portraits.append(replace(portrait, person_id=person_id, source=f"{photo.source}#{index}"))
    return portraits


def _portrait(
    image: np.ndarray, face: FaceObservation, others: list[FaceObservation], landmarker: StillFaceLandmarker
) -> Portrait | None:
    matrix = alignment_matrix(face)
    size = round(CANONICAL_FACE_HEIGHT * PORTRAIT_SIZE_IN_FACES)
    aligned = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    found = landmarker.detect(aligned)
    expected = transform_points(matrix, face.landmarks)
    # The re-measured face must be the one we aligned, not a neighbour that entered the crop.
    match = min(found, key=lambda f: float(np.abs(f.landmarks - expected).mean()), default=None)
    if match is None or float(np.abs(match.landmarks - expected).mean()) > 0.08 * CANONICAL_FACE_HEIGHT:
        return None
    alpha = cutout_mask(size, match, [transform_points(matrix, o.landmarks) for o in others])
    return Portrait(person_id="", source="", image=aligned, alpha=alpha, face=match)
