"""Does ``annotators.speaking.av_sync`` find a known audio shift on a real talking head?

For one analysed clip: the usable track with the most face frames gives the mouth signals
(``mouth_dark``, or ``mouth_open`` and ``jaw_open`` where it is missing, from the visual
stage); the decoded 16 kHz audio is shifted by ``k`` frames (``k * 640`` samples, zeros filling
the gap) and the offset is estimated over the track's shot. Shifting by ``k > 0`` delays the
audio, which av_sync calls an offset of ``+k`` (audio lags video), so a case is recovered when
``|estimate - k| <= tolerance``. The clip's own estimate at ``k = 0`` is kept too: a clip
rendered slightly out of sync shifts every case by the same amount, which ``relative``
(``|estimate - base - k| <= tolerance``) factors out.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from annotators.face.face_signals import Signal
from annotators.speaking.av_sync import estimate_av_offset
from curation.media.audio_decoder import ANALYSIS_SAMPLE_RATE
from curation.runtime.video_work import VideoWork
from curation.store.stored_audio import audio_samples

SHIFTS: tuple[int, ...] = (-8, -6, -4, -2, -1, 0, 1, 2, 4, 6, 8)
TOLERANCE_FRAMES = 1


@dataclass(frozen=True)
class OffsetCase:
    clip: str
    shift: int
    estimate: int
    confidence: float
    recovered: bool  # |estimate - shift| <= tolerance
    recovered_relative: bool  # |estimate - base - shift| <= tolerance, base = the estimate at shift 0


def shift_audio(audio: np.ndarray, frames: int, fps: float) -> np.ndarray:
    """``audio`` delayed by ``frames`` video frames (advanced when negative), same length, zero-filled."""
    samples = int(round(abs(frames) * ANALYSIS_SAMPLE_RATE / fps))
    out = np.zeros_like(audio)
    if samples >= len(audio):
        return out
    if frames >= 0:
        out[samples:] = audio[: len(audio) - samples]
    else:
        out[: len(audio) - samples] = audio[samples:]
    return out


def offset_cases(
    work: VideoWork, clip: str, max_offset_frames: int, shifts: tuple[int, ...] = SHIFTS
) -> list[OffsetCase]:
    """One case per shift; no cases when the clip has no usable track (the report says so)."""
    usable = [t for t in work.tracks if t.usable]
    if not usable:
        return []
    track = max(usable, key=lambda t: t.n_frames)
    signals = work.track_features[track.track_id].signals.astype(np.float32)
    shot = next(s for s in work.shots if s.shot_id == track.shot_id)
    fps = work.analysis.fps
    first = int(round(shot.t_start * ANALYSIS_SAMPLE_RATE))
    length = int(round(len(signals) / fps * ANALYSIS_SAMPLE_RATE))
    audio = audio_samples(work)

    def estimate(shift: int) -> tuple[int, float]:
        shifted = shift_audio(audio, shift, fps)[first : first + length]
        return estimate_av_offset(
            signals[:, Signal.MOUTH_OPEN],
            shifted,
            fps,
            max_offset_frames,
            signals[:, Signal.JAW_OPEN],
            mouth_dark=signals[:, Signal.MOUTH_DARK],
        )

    base, _ = estimate(0)
    cases = []
    for shift in shifts:
        offset, confidence = estimate(shift)
        cases.append(
            OffsetCase(
                clip=clip,
                shift=shift,
                estimate=offset,
                confidence=round(confidence, 4),
                recovered=abs(offset - shift) <= TOLERANCE_FRAMES,
                recovered_relative=abs(offset - base - shift) <= TOLERANCE_FRAMES,
            )
        )
    return cases


def offset_summary(cases: list[OffsetCase], clips: list[str]) -> dict[str, Any]:
    """Overall and per-clip recovery rates; a clip without cases is listed with rate None."""
    per_clip = []
    for clip in clips:
        mine = [c for c in cases if c.clip == clip]
        base = next((c.estimate for c in mine if c.shift == 0), None)
        per_clip.append(
            {
                "clip": clip,
                "estimate_at_zero": base,
                "recovered": sum(c.recovered for c in mine),
                "cases": len(mine),
                "rate": sum(c.recovered for c in mine) / len(mine) if mine else None,
                "rate_relative": sum(c.recovered_relative for c in mine) / len(mine) if mine else None,
                "estimates": {c.shift: c.estimate for c in mine},
            }
        )
    return {
        "offset_recovery_rate": sum(c.recovered for c in cases) / len(cases) if cases else None,
        "offset_recovery_rate_relative": sum(c.recovered_relative for c in cases) / len(cases) if cases else None,
        "offset_cases": len(cases),
        "offset_by_clip": per_clip,
    }
