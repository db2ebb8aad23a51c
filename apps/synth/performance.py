"""How one person moves through a whole video: lips from their own voice, blinks, gaze shifts,
listener nods, and slow head sway. Arrays hold one value per video frame.
"""

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from apps.synth.head_rig import HeadPose
from apps.synth.speech import frame_envelope

MOUTH_DYNAMIC_RANGE_DB = 26.0  # envelope levels this far below the voice's peak give a closed mouth
BLINK_PROFILE = (0.45, 0.95, 1.0, 0.6, 0.25)
MEAN_BLINK_INTERVAL_S = 3.2
LISTENER_NOD_RATE_HZ = 0.35
NOD_DURATION_S = 0.9


@dataclass
class Performance:
    mouth_open: np.ndarray
    blink: np.ndarray
    gaze: np.ndarray
    turn: np.ndarray
    nod: np.ndarray
    tilt_deg: np.ndarray

    def pose(self, frame: int, shift_x: float = 0.0, shift_y: float = 0.0) -> HeadPose:
        return HeadPose(
            mouth_open=float(self.mouth_open[frame]),
            blink=float(self.blink[frame]),
            gaze=float(self.gaze[frame]),
            turn=float(self.turn[frame]),
            nod=float(self.nod[frame]),
            tilt_deg=float(self.tilt_deg[frame]),
            shift_x=shift_x,
            shift_y=shift_y,
        )


def mouth_from_voice(own_voice: np.ndarray, fps: int, n_frames: int) -> np.ndarray:
    """Lip opening per frame from the person's own voice: louder syllables open the jaw wider,
    silence closes it (log loudness over a fixed range below the voice's peak)."""
    envelope = frame_envelope(own_voice, fps, n_frames)
    peak = float(envelope.max(initial=0.0))
    if peak <= 0:
        return np.zeros(n_frames, np.float32)
    level_db = 20 * np.log10(np.maximum(envelope, 1e-7) / peak)
    opening = np.clip((level_db + MOUTH_DYNAMIC_RANGE_DB) / MOUTH_DYNAMIC_RANGE_DB, 0.0, 1.0) ** 1.3
    smoothed = np.convolve(opening, [0.25, 0.5, 0.25], mode="same")
    return (0.9 * smoothed).astype(np.float32)


def perform(
    rng: np.random.Generator,
    person_id: str,
    speakers: list[str | None],
    own_voice: np.ndarray | None,
    fps: int,
) -> Performance:
    n = len(speakers)
    mouth = mouth_from_voice(own_voice, fps, n) if own_voice is not None else np.zeros(n, np.float32)
    listening = np.array([s is not None and s != person_id for s in speakers])
    speaking = np.array([s == person_id for s in speakers])
    nod = _listener_nods(rng, listening, fps)
    # Speakers move their head with their own emphasis: a slow follow of the jaw.
    nod += 0.014 * gaussian_filter1d(mouth, 4.0) * speaking
    return Performance(
        mouth_open=mouth,
        blink=_blinks(rng, n, fps),
        gaze=_piecewise_smooth(rng, n, fps, (1.2, 4.0), spread=0.9, at_rest=0.5, sigma_frames=1.5),
        turn=_piecewise_smooth(rng, n, fps, (2.0, 5.0), spread=0.6, at_rest=0.3, sigma_frames=6.0),
        nod=nod.astype(np.float32),
        tilt_deg=_sway(rng, n, fps, amplitude_deg=1.8),
    )


def passer_performance(rng: np.random.Generator, n_frames: int, fps: int, direction: float) -> Performance:
    """Someone walking through: a stepping bob, eyes on where they are going, silent."""
    t = np.arange(n_frames) / fps
    bob = 0.02 * np.abs(np.sin(np.pi * 1.9 * t + rng.uniform(0, np.pi)))
    return Performance(
        mouth_open=np.zeros(n_frames, np.float32),
        blink=_blinks(rng, n_frames, fps),
        gaze=np.full(n_frames, 0.7 * direction, np.float32),
        turn=np.full(n_frames, 0.5 * direction, np.float32),
        nod=bob.astype(np.float32),
        tilt_deg=_sway(rng, n_frames, fps, amplitude_deg=2.5),
    )


def _blinks(rng: np.random.Generator, n: int, fps: int) -> np.ndarray:
    blink = np.zeros(n, np.float32)
    frame = int(rng.uniform(0.3, 2.5) * fps)
    while frame < n:
        for offset, value in enumerate(BLINK_PROFILE):
            if frame + offset < n:
                blink[frame + offset] = value
        frame += int(max(1.0, rng.exponential(MEAN_BLINK_INTERVAL_S)) * fps)
    return blink


def _listener_nods(rng: np.random.Generator, listening: np.ndarray, fps: int) -> np.ndarray:
    """Back-channel nods (two dips of the head) scattered over the frames where someone else talks."""
    n = listening.size
    nod = np.zeros(n, np.float64)
    length = int(NOD_DURATION_S * fps)
    shape = 0.5 * (1 - np.cos(2 * np.pi * 2 * np.arange(length) / length))
    frame = int(rng.uniform(0.2, 1.0) * fps)
    while frame < n - length:
        if listening[frame : frame + length].all():
            nod[frame : frame + length] += rng.uniform(0.02, 0.035) * shape
            frame += length
        frame += int(rng.exponential(1 / LISTENER_NOD_RATE_HZ) * fps) + 1
    return nod


def _piecewise_smooth(
    rng: np.random.Generator,
    n: int,
    fps: int,
    hold_s: tuple[float, float],
    spread: float,
    at_rest: float,
    sigma_frames: float,
) -> np.ndarray:
    """Hold a target for a while, then move to another; ``at_rest`` is how often the target is 0
    (looking at the partner or the camera)."""
    values = np.zeros(n, np.float64)
    frame = 0
    while frame < n:
        hold = int(rng.uniform(*hold_s) * fps)
        target = 0.0 if rng.random() < at_rest else float(rng.uniform(-spread, spread))
        values[frame : frame + hold] = target
        frame += hold
    return gaussian_filter1d(values, sigma_frames).astype(np.float32)


def _sway(rng: np.random.Generator, n: int, fps: int, amplitude_deg: float) -> np.ndarray:
    t = np.arange(n) / fps
    slow = np.sin(2 * np.pi * rng.uniform(0.05, 0.12) * t + rng.uniform(0, 2 * np.pi))
    faster = np.sin(2 * np.pi * rng.uniform(0.18, 0.3) * t + rng.uniform(0, 2 * np.pi))
    return (amplitude_deg * (0.7 * slow + 0.3 * faster)).astype(np.float32)
