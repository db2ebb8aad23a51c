"""Lip sync and identity of finished video clips, by the curation toolkit's own measures.

This is the scoring step behind ``lpm-train score``: the trainer runs it as a separate process
(``python -m apps.audit.clip_scores DIR --json``) on the mp4s it wrote, so the trainer
imports nothing of the toolkit and the clips are measured exactly as curated clips are.

For every ``*.mp4`` in DIR that has an audio stream: frames decoded at 25 fps and scaled so the
short side is ``ANALYSIS_SHORT_SIDE`` (generated clips are small; MediaPipe needs a face of about
100 px), the largest face's mouth signals from the FaceLandmarker, and

- ``sync``: ``annotators.speaking.av_sync.sync_in_context`` over the whole clip with its own audio
  (how far the best mouth/audio correlation within 3 frames of zero lag stands out of the other
  lags up to +-8, in units of their spread: a SyncNet-style confidence as a z-score, about 0-1
  for a voice that is not this mouth's). On ten 3-10 s square 256 px cuts of the shared talking
  heads it ranked each clip's own audio above another recording's (own 1.50-3.22, mean 2.46;
  another's -0.01-2.02, mean 0.92; ``tests/lpm_train/test_lpm_sample_score.py``); on 2-s clips
  it is weaker (``annotators/speaking/av_sync.py``);
- ``offset_frames``: the lag of the correlation peak (``estimate_av_offset``, +-8 frames) when
  the clip is long enough (NaN otherwise);
- ``identity``: cosine similarity between the clip's faces (every ``IDENTITY_EVERY``-th frame,
  averaged) and the face in ``<stem>.ref.jpg`` when that file exists: ArcFace when its model has
  been fetched (``identity_kind`` arcface), else the weight-free descriptor (landmark_texture_v1,
  weak: it separates few, distinct people);
- ``face_fraction``: frames where a face was found (a metric is NaN without faces).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ANALYSIS_SHORT_SIDE = 256
ANALYSIS_FPS = 25.0
MAX_LAG = 8
IDENTITY_EVERY = 5


@dataclass
class ClipScore:
    file: str
    frames: int
    face_fraction: float
    sync: float
    offset_frames: float
    identity: float
    identity_kind: str


def _embedder() -> object:
    from annotators.identity.face_descriptor import FaceDescriptor
    from curation.models.model_store import is_available

    if is_available("arcface"):
        from annotators.models.arcface_embedder import ArcFaceEmbedder

        return ArcFaceEmbedder()
    return FaceDescriptor()


def _reference_embedding(path: Path, embedder: object) -> np.ndarray | None:
    import cv2

    from annotators.face.landmarked_face import LandmarkedFace
    from annotators.models.face_landmarker import FaceLandmarkerAnnotator

    bgr = cv2.imread(str(path))
    if bgr is None:
        return None
    scale = ANALYSIS_SHORT_SIDE / min(bgr.shape[:2])
    rgb = cv2.cvtColor(cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC), cv2.COLOR_BGR2RGB)
    with FaceLandmarkerAnnotator(max_faces=1, video_mode=False) as landmarker:
        faces = landmarker.detect(rgb)
    if not faces:
        return None
    face = max(faces, key=lambda f: f.height)
    return embedder.embed([LandmarkedFace(rgb, face.landmarks)])[0]


def score_clip(path: Path, embedder: object) -> ClipScore:
    from annotators.face.face_signals import Signal
    from annotators.face.landmarked_face import LandmarkedFace
    from annotators.models.face_landmarker import FaceLandmarkerAnnotator
    from annotators.speaking.av_sync import estimate_av_offset, sync_in_context
    from curation.media.audio_decoder import decode_audio
    from curation.media.frame_source import AnalysisGeometry, decode_frames
    from curation.media.probe import probe_media

    info = probe_media(path)
    geometry = AnalysisGeometry.for_source(info.width, info.height, ANALYSIS_SHORT_SIDE)
    index = (Signal.MOUTH_OPEN, Signal.JAW_OPEN, Signal.MOUTH_DARK)
    signals: list[list[float]] = []
    identity_faces = []
    with FaceLandmarkerAnnotator(max_faces=1) as landmarker:
        for frame in decode_frames(str(path), geometry, ANALYSIS_FPS, timeout_s=300):
            face = max(landmarker.detect(frame.rgb, frame.t), key=lambda f: f.height, default=None)
            signals.append([math.nan] * 3 if face is None else [float(face.signals.values[i]) for i in index])
            if face is not None and frame.index % IDENTITY_EVERY == 0:
                identity_faces.append(LandmarkedFace(frame.rgb, face.landmarks, frame.index))
    values = np.asarray(signals, dtype=np.float64).reshape(-1, 3)
    mouth_open, jaw_open, mouth_dark = values.T
    audio = decode_audio(path)
    found = np.isfinite(mouth_open)
    sync = offset = math.nan
    if found.sum() >= 2 and audio.size:
        sync = sync_in_context(mouth_open, jaw_open, audio, 0, ANALYSIS_FPS, MAX_LAG, mouth_dark=mouth_dark)
        estimate = estimate_av_offset(mouth_open, audio, ANALYSIS_FPS, MAX_LAG, jaw_open, mouth_dark=mouth_dark)
        offset = float(estimate.offset_frames) if estimate.confidence > 0 else math.nan
    identity = math.nan
    reference = path.with_name(f"{path.stem}.ref.jpg")
    if identity_faces and reference.is_file():
        ref = _reference_embedding(reference, embedder)
        if ref is not None:
            clip = embedder.embed(identity_faces).mean(axis=0)
            identity = float(clip @ ref / max(np.linalg.norm(clip) * np.linalg.norm(ref), 1e-12))
    return ClipScore(
        path.name,
        len(values),
        float(found.mean()) if len(values) else 0.0,
        float(sync),
        offset,
        identity,
        getattr(embedder, "kind", type(embedder).__name__),
    )


def _mean(values: list[float]) -> float | None:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else None


def score_directory(directory: Path) -> dict:
    from curation.media.probe import probe_media

    embedder = _embedder()
    clips = [
        score_clip(path, embedder) for path in sorted(Path(directory).glob("*.mp4")) if probe_media(path).has_audio
    ]
    summary = {
        "clips": len(clips),
        "sync_mean": _mean([c.sync for c in clips]),
        "identity_mean": _mean([c.identity for c in clips]),
        "face_fraction_mean": _mean([c.face_fraction for c in clips]),
    }
    # NaN is not JSON: unmeasurable values are written as null.
    rows = [
        {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(c).items()} for c in clips
    ]
    return {"summary": summary, "clips": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.audit.clip_scores", description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="folder of mp4 files with audio (and optional <stem>.ref.jpg)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if not args.directory.is_dir():
        print(f"not a directory: {args.directory}", file=sys.stderr)
        return 2
    result = score_directory(args.directory)
    if args.json:
        print(json.dumps(result))
    else:
        for row in result["clips"]:
            print(" ".join(f"{k}={v}" for k, v in row.items()))
        print(" ".join(f"{k}={v}" for k, v in result["summary"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
