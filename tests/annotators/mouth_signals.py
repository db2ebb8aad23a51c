"""Per-frame mouth signals of the one face in a shared clip, for the speaking and sync tests.

Frames are decoded once with ffmpeg at 25 fps (short side 512) and run through MediaPipe's
FaceLandmarker in VIDEO mode, one landmarker per clip; ``mouth_open`` (inner-lip gap / face
height), ``jaw_open`` (blendshape) and ``mouth_dark`` (pixels of the mouth box) come from
``annotators.face.face_signals``. Extraction costs a few seconds per clip, so results are cached per
clip in pytest's cache folder.
"""

import csv
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from annotators.face.face_signals import SIGNAL_NAMES
from annotators.models.face_landmarker import FaceLandmarkerAnnotator
from annotators.speaking.av_sync import AVOffset, estimate_av_offset
from curation.media.audio_decoder import ANALYSIS_SAMPLE_RATE, decode_audio
from curation.media.frame_source import AnalysisGeometry, Frame, decode_frames
from curation.media.probe import probe_media

ANALYSIS_FPS = 25.0
SHORT_SIDE = 512
_MOUTH_OPEN, _JAW_OPEN = SIGNAL_NAMES.index("mouth_open"), SIGNAL_NAMES.index("jaw_open")
_MOUTH_DARK = SIGNAL_NAMES.index("mouth_dark")
CACHE_VERSION = 4  # bump when the extracted signals change, so stale caches are not read


@dataclass(frozen=True)
class ClipSignals:
    """One clip's largest face, frame by frame, with the clip's own 16 kHz audio."""

    mouth_open: np.ndarray  # (n_frames,) float32, NaN where no face
    jaw_open: np.ndarray  # (n_frames,) float32, NaN where no face
    mouth_dark: np.ndarray  # (n_frames,) float32, NaN where no face
    present: np.ndarray  # (n_frames,) bool
    audio: np.ndarray  # float32 16 kHz mono
    fps: float

    @property
    def n_frames(self) -> int:
        return len(self.present)


def extract_clip_signals(video: Path, freeze_frame: int | None = None) -> ClipSignals:
    """``freeze_frame``: show that one frame for the whole clip (a still face under the clip's
    audio), so the landmarker's own jitter on a motionless face is part of the signal."""
    info = probe_media(video)
    geometry = AnalysisGeometry.for_source(info.width, info.height, SHORT_SIDE)
    frames = decode_frames(str(video), geometry, ANALYSIS_FPS, timeout_s=300)
    if freeze_frame is not None:
        still = next(f.rgb.copy() for f in frames if f.index == freeze_frame)
        n_frames = int(round(info.duration_s * ANALYSIS_FPS))
        frames = (Frame(i, i / ANALYSIS_FPS, still) for i in range(n_frames))
    mouth, jaw, dark = [], [], []
    with FaceLandmarkerAnnotator(max_faces=1) as landmarker:
        for frame in frames:
            faces = landmarker.detect(frame.rgb, frame.t)
            face = max(faces, key=lambda f: f.height, default=None)
            mouth.append(np.nan if face is None else face.signals.values[_MOUTH_OPEN])
            jaw.append(np.nan if face is None else face.signals.values[_JAW_OPEN])
            dark.append(np.nan if face is None else face.signals.values[_MOUTH_DARK])
    mouth_open = np.asarray(mouth, dtype=np.float32)
    return ClipSignals(
        mouth_open=mouth_open,
        jaw_open=np.asarray(jaw, dtype=np.float32),
        mouth_dark=np.asarray(dark, dtype=np.float32),
        present=np.isfinite(mouth_open),
        audio=decode_audio(video),
        fps=ANALYSIS_FPS,
    )


def cached_clip_signals(video: Path, cache_dir: Path, freeze_frame: int | None = None) -> ClipSignals:
    """``extract_clip_signals`` once per clip; later test runs read the ``.npz`` back."""
    suffix = "" if freeze_frame is None else f".still{freeze_frame}"
    cached = cache_dir / f"{video.stem}{suffix}.v{CACHE_VERSION}.npz"
    if cached.is_file():
        with np.load(cached) as data:
            return ClipSignals(
                data["mouth_open"],
                data["jaw_open"],
                data["mouth_dark"],
                data["present"],
                data["audio"],
                float(data["fps"]),
            )
    signals = extract_clip_signals(video, freeze_frame)
    partial = cached.with_suffix(".partial.npz")
    np.savez(
        partial,
        mouth_open=signals.mouth_open,
        jaw_open=signals.jaw_open,
        mouth_dark=signals.mouth_dark,
        present=signals.present,
        audio=signals.audio,
        fps=signals.fps,
    )
    partial.replace(cached)
    return signals


def talking_head_clips(media: Path) -> list[str]:
    """File names of the ``talking_head`` clips in the shared media manifest."""
    with (media / "MANIFEST.csv").open(newline="", encoding="utf-8") as f:
        return [row["file"] for row in csv.DictReader(f) if row["label"] == "talking_head"]


def audio_lagging_video(signals: ClipSignals, frames: int) -> ClipSignals:
    """The clip re-cut so its audio lags its video by ``frames``.

    Both streams are cropped (no padding): for a positive lag the first video frames and the
    last audio are dropped, so what the mouth does at frame t is heard at frame t + lag.
    """
    hop = round(ANALYSIS_SAMPLE_RATE / signals.fps)
    n = signals.n_frames
    k = abs(frames)
    if frames >= 0:
        video, audio = slice(k, n), signals.audio[: (n - k) * hop]
    else:
        video, audio = slice(0, n - k), signals.audio[k * hop :]
    return replace(
        signals,
        mouth_open=signals.mouth_open[video],
        jaw_open=signals.jaw_open[video],
        mouth_dark=signals.mouth_dark[video],
        present=signals.present[video],
        audio=audio,
    )


def clip_offset(signals: ClipSignals, max_offset_frames: int = 15) -> AVOffset:
    """``estimate_av_offset`` on the clip's signals and its own audio."""
    return estimate_av_offset(
        signals.mouth_open,
        signals.audio,
        signals.fps,
        max_offset_frames,
        signals.jaw_open,
        mouth_dark=signals.mouth_dark,
    )


def same_recording(a: str, b: str) -> bool:
    """The four ``fantasy_*`` clips are one recording's audio under four generated videos."""
    return a == b or (a.startswith("fantasy_") and b.startswith("fantasy_"))


def foreign_audio(name: str, clips: dict[str, ClipSignals]) -> list[np.ndarray]:
    """Every other recording's audio, cut or looped to the length of clip ``name``'s audio."""
    length = len(clips[name].audio)
    return [
        np.resize(other.audio, length) for other_name, other in clips.items() if not same_recording(name, other_name)
    ]
