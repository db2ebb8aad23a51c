"""Turn one shot's per-frame face observations into tracks with aligned per-frame arrays.

Each track gets arrays over every analysis frame of its shot (absent frames are NaN / False), in
float16, which is what speaking detection, captions and references read later.
"""

from dataclasses import dataclass

import numpy as np

from annotators.face.face_signals import SIGNAL_NAMES, Signal
from annotators.face.face_tracker import track_faces
from curation.runtime.products import TrackFeatures


@dataclass(frozen=True)
class FrameFace:
    """What the single decode pass keeps of one face in one frame."""

    box: np.ndarray  # (4,) analysis pixels
    signals: np.ndarray  # (len(SIGNAL_NAMES),) float32
    blendshapes: np.ndarray  # (52,) float32
    kps5: np.ndarray  # (5, 2) analysis pixels
    on_tile: bool  # found by the small-face tiling pass


def assemble_tracks(
    faces_per_frame: list[list[FrameFace]],
    first_frame: int,
    end_frame: int,
    frame_size: tuple[int, int],
    max_gap: int,
) -> list[tuple[TrackFeatures, list[tuple[int, int]]]]:
    """For each track of the shot: (feature arrays, [(frame index, detection index), ...])."""
    width, height = frame_size
    boxes = [(f, [face.box for face in faces_per_frame[f]]) for f in range(first_frame, end_frame)]
    n = end_frame - first_frame
    scale = np.array([width, height, width, height], dtype=np.float32)
    tracks = []
    for track in track_faces(boxes, max_gap=max_gap):
        present = np.zeros(n, dtype=bool)
        box = np.full((n, 4), np.nan, dtype=np.float16)
        signals = np.full((n, len(SIGNAL_NAMES)), np.nan, dtype=np.float16)
        blend = np.full((n, 52), np.nan, dtype=np.float16)
        kps = np.full((n, 5, 2), np.nan, dtype=np.float32)
        on_tile = np.zeros(n, dtype=bool)
        members = []
        for frame, det in zip(track.frames, track.detections, strict=True):
            face = faces_per_frame[frame][det]
            i = frame - first_frame
            present[i] = True
            box[i] = face.box / scale
            signals[i] = face.signals
            blend[i] = face.blendshapes
            kps[i] = face.kps5
            on_tile[i] = face.on_tile
            members.append((frame, det))
        features = TrackFeatures(present=present, face_box=box, signals=signals, blendshapes=blend, kps5=kps,
                                 on_tile=on_tile)
        tracks.append((features, members))
    return tracks


def track_summary(features: TrackFeatures, scale: float, max_yaw: float, max_pitch: float) -> dict[str, float]:
    """Per-track numbers for the tracks manifest (face size in source pixels)."""
    present = features.present
    signals = features.signals[present].astype(np.float32)
    yaw, pitch = signals[:, Signal.YAW], signals[:, Signal.PITCH]
    frontal = (np.abs(yaw) <= max_yaw) & (np.abs(pitch) <= max_pitch)
    return {
        "n_frames": int(present.sum()),
        "coverage": float(present.mean()) if len(present) else 0.0,
        "face_height_px": float(np.median(signals[:, Signal.FACE_HEIGHT]) / scale) if len(signals) else 0.0,
        "frontal_frac": float(frontal.mean()) if len(signals) else 0.0,
        "yaw_median": float(np.median(yaw)) if len(signals) else 0.0,
        "pitch_median": float(np.median(pitch)) if len(signals) else 0.0,
        "x_center": float(np.median((features.face_box[present, 0] + features.face_box[present, 2]) / 2))
        if len(signals)
        else 0.5,
        "detected_on_tile": bool(features.on_tile[present].all()) if len(signals) else False,
    }
