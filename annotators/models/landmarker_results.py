"""MediaPipe FaceLandmarker results read from its C result straight into arrays.

The Tasks API turns every result into Python objects first: a ``NormalizedLandmark`` dataclass
per landmark (478 per face) and a ``Category`` per blendshape, which the analysis then packs
back into arrays. On a landmarked frame that conversion cost 0.9 ms of the landmarker's 10 ms
(cProfile, the 8 talking heads): about a tenth of the fine pass, paid on every kept frame.
Here the same C call is made through the task's own dispatcher, and the landmarks, blendshape
scores and transformation matrices are copied from the C arrays with numpy before the result is
released: the same numbers, bit for bit (``tests/annotators/models/test_landmarker_results.py``).

This reads private attributes of the pinned MediaPipe (``constraints.txt``): the task's ``_lib``
and ``_handle``, and the result's ctypes layout. When they are not there (another release), the
public API is used and converted, with the same output.
"""

import ctypes
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np


@dataclass(frozen=True)
class RawFace:
    """One face as the landmarker returns it: normalised landmarks (x, y in [0, 1] of the image,
    z on x's scale), blendshape scores in the model's order, the 4x4 transformation matrix."""

    landmarks: np.ndarray  # (478, 3) float32
    blendshapes: np.ndarray  # (52,) float32; empty when the task does not output them
    matrix: np.ndarray  # (4, 4) float32; empty when the task does not output it


def detect_faces(landmarker: object, image: object, timestamp_ms: int | None) -> list[RawFace]:
    """The faces in ``image`` (an ``mp.Image``); ``timestamp_ms`` for a VIDEO-mode task, None for
    an IMAGE-mode one."""
    reader = c_reader()
    if reader is not None and hasattr(landmarker, "_handle") and hasattr(image, "_image_ptr"):
        return reader(landmarker, image, timestamp_ms)
    return _from_public(landmarker, image, timestamp_ms)


def _from_public(landmarker: object, image: object, timestamp_ms: int | None) -> list[RawFace]:
    result = landmarker.detect(image) if timestamp_ms is None else landmarker.detect_for_video(image, timestamp_ms)
    faces = []
    for i, points in enumerate(result.face_landmarks):
        landmarks = np.array([(p.x, p.y, p.z) for p in points], dtype=np.float32).reshape(-1, 3)
        scores = result.face_blendshapes[i] if i < len(result.face_blendshapes) else []
        blendshapes = np.array([c.score for c in scores], dtype=np.float32)
        matrices = result.facial_transformation_matrixes
        matrix = np.asarray(matrices[i], dtype=np.float32) if i < len(matrices) else np.empty((0,), np.float32)
        faces.append(RawFace(landmarks, blendshapes, matrix))
    return faces


@cache
def c_reader() -> Callable[[object, object, int | None], list[RawFace]] | None:
    """The reader of the C result, or None when this MediaPipe has no such layout. Built on first
    use: importing MediaPipe costs about 0.7 s (it imports matplotlib), which only a process that
    landmarks should pay."""
    try:
        from mediapipe.tasks.python.vision.face_landmarker import MpFaceLandmarkerResultC
    except ImportError:
        return None
    floats = ctypes.POINTER(ctypes.c_float)

    def column(array: object, count: int, first: int, width: int) -> np.ndarray:
        """``width`` float fields from ``first`` of each of ``count`` C structs, as a copy."""
        stride = ctypes.sizeof(array._type_) // 4  # the struct's size in floats (its fields are 4 bytes or padded)
        flat = np.ctypeslib.as_array(ctypes.cast(array, floats), shape=(count * stride,))
        return flat.reshape(count, stride)[:, first : first + width].copy()

    def read(landmarker: object, image: object, timestamp_ms: int | None) -> list[RawFace]:
        result = MpFaceLandmarkerResultC()
        lib = landmarker._lib
        if timestamp_ms is None:
            lib.MpFaceLandmarkerDetectImage(landmarker._handle, image._image_ptr, None, ctypes.byref(result))
        else:
            lib.MpFaceLandmarkerDetectForVideo(
                landmarker._handle, image._image_ptr, None, timestamp_ms, ctypes.byref(result)
            )
        try:
            faces = []
            for i in range(result.face_landmarks_count):
                points = result.face_landmarks[i]
                landmarks = column(points.landmarks, points.landmarks_count, 0, 3)  # x, y, z first
                blendshapes = np.empty((0,), np.float32)
                if i < result.face_blendshapes_count:
                    scores = result.face_blendshapes[i]
                    # MpCategoryC: int index, then float score
                    blendshapes = column(scores.categories, scores.categories_count, 1, 1).ravel()
                matrix = np.empty((0,), np.float32)
                if i < result.facial_transformation_matrixes_count:
                    matrix = result.facial_transformation_matrixes[i].to_numpy().astype(np.float32)
                faces.append(RawFace(landmarks, blendshapes, matrix))
            return faces
        finally:
            lib.MpFaceLandmarkerCloseResult(ctypes.byref(result))

    return read

