"""``face_voice_map``: does this voice belong to this face? A map learned here between two descriptors.

dlib's ResNet face vector (128-d, ``dlib_face_embedder``) and Resemblyzer's voice vector (256-d,
``voice_embedder``) were each trained for identity within their own kind; neither says which voices
a face could have. Some traits show in both (sex most of all, age), so the first canonical pair of
faces and voices over many people finds them: each kind is reduced to its leading principal
components over the people, standardised, and the pair of directions along which a person's face
and their own voice vary together most (canonical correlation) is kept. The match of a face and a
voice is the product of their two canonical variates: positive where they agree (a face and a voice
of the same sex), negative where they disagree, near 0 where either is ambiguous.

The map is affine in each input, so it ships as two axes and two offsets (``u = face . face_axis -
face_offset``, likewise the voice). Learned by ``lpm-curate models train-face-voice`` from the
calibration corpus's people (``apps.bench.face_voice_training``); weights in the package, SHA-256
in the model catalogue. Held out by source (``benchmarks.face_voice_match``; docs/sync_verdict.md):
alone it ranks a face's own voice above a foreign one at AUC 0.754, which a voice of the same sex
and age defeats; beside the lip-sync score it is the ``learned_av_face_voice`` verdict.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from annotators.models.stable_npz import write_stable_npz

MODEL = "face_voice_map"
FACE_DIMENSION = 128
VOICE_DIMENSION = 256


class FaceVoiceMapError(ValueError):
    """A map file that is not one ``save_map`` wrote."""


@dataclass(frozen=True)
class FaceVoiceMap:
    face_axis: np.ndarray  # (FACE_DIMENSION,)
    face_offset: float
    voice_axis: np.ndarray  # (VOICE_DIMENSION,)
    voice_offset: float

    def face_variate(self, face: np.ndarray) -> float:
        return float(np.asarray(face, dtype=np.float64) @ self.face_axis - self.face_offset)

    def voice_variate(self, voice: np.ndarray) -> float:
        return float(np.asarray(voice, dtype=np.float64) @ self.voice_axis - self.voice_offset)

    def match(self, face: np.ndarray | None, voice: np.ndarray | None) -> float:
        """The product of the two variates; NaN when either vector is missing or not finite."""
        if face is None or voice is None or not (np.isfinite(face).all() and np.isfinite(voice).all()):
            return float("nan")
        return self.face_variate(face) * self.voice_variate(voice)


def fit_map(faces: np.ndarray, voices: np.ndarray, dims: int = 20) -> FaceVoiceMap:
    """The first canonical pair of ``faces`` (n, 128) and ``voices`` (n, 256), row i one person's
    mean face and mean own voice, after ``dims`` principal components of each (fewer with fewer
    people). Deterministic: SVDs of the given rows, signs fixed by the face axis's largest entry."""
    faces, voices = np.asarray(faces, dtype=np.float64), np.asarray(voices, dtype=np.float64)
    if len(faces) != len(voices) or len(faces) < 3:
        raise ValueError(f"need at least 3 people with a face and a voice each, got {len(faces)} / {len(voices)}")
    k = min(dims, len(faces) - 1)
    face_basis, face_scale, face_mean = _whitening(faces, k)
    voice_basis, voice_scale, voice_mean = _whitening(voices, k)
    fw = (faces - face_mean) @ face_basis / face_scale
    vw = (voices - voice_mean) @ voice_basis / voice_scale
    # Whitened principal components are uncorrelated with unit variance, so the canonical pair is the
    # leading singular pair of the cross-covariance.
    left, _, right_t = np.linalg.svd(fw.T @ vw / (len(faces) - 1))
    face_axis = face_basis @ (left[:, 0] / face_scale)
    voice_axis = voice_basis @ (right_t[0] / voice_scale)
    if face_axis[np.argmax(np.abs(face_axis))] < 0:
        face_axis, voice_axis = -face_axis, -voice_axis
    return FaceVoiceMap(face_axis, float(face_mean @ face_axis), voice_axis, float(voice_mean @ voice_axis))


def _whitening(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The leading ``k`` principal axes of ``x`` (d, k), the spread along each, and the mean."""
    mean = x.mean(axis=0)
    _, singular, vt = np.linalg.svd(x - mean, full_matrices=False)
    scale = singular[:k] / np.sqrt(len(x) - 1)
    return vt[:k].T, np.maximum(scale, 1e-12), mean


def save_map(mapping: FaceVoiceMap, path: Path) -> None:
    """An ``.npz`` whose bytes depend only on the map (no timestamps: one map, one SHA-256)."""
    write_stable_npz({"face_axis": mapping.face_axis.astype(np.float64), "face_offset": np.float64(mapping.face_offset),
                      "voice_axis": mapping.voice_axis.astype(np.float64),
                      "voice_offset": np.float64(mapping.voice_offset)}, path)


def load_map(path: Path) -> FaceVoiceMap:
    try:
        with np.load(Path(path), allow_pickle=False) as data:
            face_axis, voice_axis = data["face_axis"], data["voice_axis"]
            mapping = FaceVoiceMap(face_axis.astype(np.float64), float(data["face_offset"]),
                                   voice_axis.astype(np.float64), float(data["voice_offset"]))
    except (OSError, KeyError, ValueError) as err:
        raise FaceVoiceMapError(f"{path}: not a face/voice map ({err})") from err
    if mapping.face_axis.shape != (FACE_DIMENSION,) or mapping.voice_axis.shape != (VOICE_DIMENSION,):
        raise FaceVoiceMapError(f"{path}: not a face/voice map (axes {mapping.face_axis.shape}, "
                                f"{mapping.voice_axis.shape})")
    return mapping
