"""Test inputs for the performance annotator, the head-event detector and the captioners.

Real segments: ``real_segment`` runs the project's FaceLandmarker on a clip from shared/media
(25 fps, 256 px short side) and measures the audio with an energy voice detector, then labels
states with the project's state rules. A listening segment is built by pairing a silent face
with another clip's speech as the partner's voice, which is what a listening segment is.

Synthetic pose: ``synthetic_pose`` is a slowly drifting pose plus per-frame jitter and
single-frame glitches (what MediaPipe's pose looks like on a still talking head), with gestures
pasted in at known times and distractors that must not be detected: nods too small to count, a
slow look down and back, a single glance sideways and a tiny shake.
"""

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from annotators.audio.audio_levels import loudness_db
from annotators.face.face_signals import BLENDSHAPE_NAMES, SIGNAL_NAMES
from annotators.models.face_landmarker import FaceLandmarkerAnnotator
from annotators.performance.performance_annotator import SegmentSignals
from annotators.shots.frame_quality import QUALITY_NAMES, FrameQualityMeter
from annotators.timelines.smoothed_series import fill_short_gaps, smooth
from annotators.timelines.state_timeline import frame_states, smooth_states
from curation.media.audio_decoder import decode_audio
from curation.media.frame_source import AnalysisGeometry, decode_frames
from curation.media.probe import probe_media
from schemas.speech_rows import TranscribedWord

MEDIA = Path(os.environ.get("LPM_SHARED_MEDIA") or Path(__file__).resolve().parents[2].parent / "shared" / "media")
MODELS = Path(os.environ.get("LPM_MODELS_DIR") or MEDIA.parent / "models")
FPS = 25.0
_S = {name: i for i, name in enumerate(SIGNAL_NAMES)}


@dataclass(frozen=True)
class ClipMeasures:
    signals: np.ndarray
    blendshapes: np.ndarray
    present: np.ndarray
    face_box: np.ndarray
    frame_motion: float
    jpegs: tuple[bytes, ...]  # four frames spread over the clip


@cache
def measure_clip(name: str, seconds: float) -> ClipMeasures:
    """Face signals of the first ``seconds`` of a clip (cached: the landmarker is the slow part)."""
    path = MEDIA / name
    info = probe_media(path)
    geometry = AnalysisGeometry.for_source(info.width, info.height, 256)
    size = np.array([geometry.width, geometry.height, geometry.width, geometry.height], dtype=np.float64)
    signals, blends, boxes, motion, frames = [], [], [], [], []
    quality = FrameQualityMeter()
    with FaceLandmarkerAnnotator(MODELS / "face_landmarker.task", max_faces=1) as landmarker:
        for frame in decode_frames(str(path), geometry, FPS, 120):
            if frame.t >= seconds:
                break
            # frame motion as the visual analysis stage measures it: on a 128 px thumbnail
            scale = 128 / min(frame.rgb.shape[:2])
            thumb = cv2.resize(frame.rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            measures = quality.measure(thumb, cv2.cvtColor(thumb, cv2.COLOR_RGB2GRAY))
            motion.append(measures[QUALITY_NAMES.index("motion")])
            frames.append(frame.rgb)
            faces = landmarker.detect(frame.rgb, frame.t)
            if faces:
                signals.append(faces[0].signals.values)
                blends.append(faces[0].blendshapes)
                boxes.append(faces[0].box / size)
            else:
                signals.append(np.full(len(SIGNAL_NAMES), np.nan))
                blends.append(np.full(len(BLENDSHAPE_NAMES), np.nan))
                boxes.append(np.full(4, np.nan))
    picks = np.linspace(0, len(frames) - 1, 4).round().astype(int)
    jpegs = tuple(cv2.imencode(".jpg", cv2.cvtColor(frames[i], cv2.COLOR_RGB2BGR))[1].tobytes() for i in picks)
    signals_ = np.array(signals, dtype=np.float64)
    return ClipMeasures(signals_, np.array(blends, dtype=np.float64), np.isfinite(signals_[:, 0]),
                        np.array(boxes, dtype=np.float64), float(np.mean(motion[1:])), jpegs)


def energy_vad(audio: np.ndarray, n: int) -> np.ndarray:
    """Per-frame voice probability: frame loudness against the clip's noise floor."""
    hop = int(16_000 / FPS)
    padded = np.zeros(n * hop, dtype=np.float64)
    padded[: min(len(audio), n * hop)] = audio[: n * hop]
    rms = np.sqrt(np.mean(padded.reshape(n, hop) ** 2, axis=1))
    db = 20 * np.log10(np.maximum(rms, 1e-6))
    threshold = max(float(np.percentile(db, 10)) + 10.0, -45.0)
    return 1.0 / (1.0 + np.exp(-(db - threshold) / 2.0))


def mouth_speaking_prob(signals: np.ndarray) -> np.ndarray:
    """Probability the visible person speaks, from how fast the mouth opening changes."""
    opening = smooth(fill_short_gaps(signals[:, _S["mouth_open"]], 5), FPS)
    motion = np.abs(np.diff(opening, prepend=opening[:1])) * FPS
    window = np.ones(int(0.4 * FPS)) / int(0.4 * FPS)
    motion = np.convolve(np.nan_to_num(motion), window, mode="same")
    return np.clip((motion - 0.05) / 0.1, 0.0, 1.0)


def real_segment(clip: str, seconds: float = 6.0, partner_audio: str | None = None,
                 words: list[TranscribedWord] | None = None) -> tuple[SegmentSignals, ClipMeasures]:
    """A segment of the clip's first ``seconds``; with ``partner_audio`` the voice is that clip's."""
    m = measure_clip(clip, seconds)
    n = len(m.present)
    audio = decode_audio(MEDIA / (partner_audio or clip), t_start=0.0, duration=n / FPS)
    vad = energy_vad(audio, n)
    speaking = mouth_speaking_prob(m.signals)
    if partner_audio is not None:
        speaking = np.minimum(speaking, 0.2)  # the voice heard is the partner's, by construction
    states = smooth_states(frame_states(vad, speaking), int(0.3 * FPS))
    segment = SegmentSignals(FPS, 0.0, states, m.present, m.signals, m.blendshapes, vad, speaking,
                             loudness_db(audio), words, m.face_box, m.frame_motion)
    return segment, m


_B = {name: i for i, name in enumerate(BLENDSHAPE_NAMES)}


def synthetic_segment(
    seconds: float = 8.0,
    state: int = 2,
    nods: tuple[tuple[float, float, float], ...] = (),
    smiles: tuple[tuple[float, float, float], ...] = (),
    blinks: tuple[float, ...] = (),
    vocalisations: tuple[tuple[float, float], ...] = (),
    words: list[TranscribedWord] | None = None,
    face_height: float = 0.45,
    frame_motion: float = 1.0,
    t_start: float = 100.0,
    seed: int = 0,
) -> SegmentSignals:
    """A segment with known content: nods (t, amplitude deg, duration s), smiles (t0, t1, score),
    blink times, and brief vocalisations (t0, t1) made by the visible person while in ``state``."""
    rng = np.random.default_rng(seed)
    n = int(seconds * FPS)
    t = np.arange(n) / FPS
    blend = np.abs(rng.normal(0.02, 0.01, (n, len(BLENDSHAPE_NAMES))))
    for t0, t1, level in smiles:
        inside = (t >= t0) & (t < t1)
        blend[inside, _B["mouthSmileLeft"]] = blend[inside, _B["mouthSmileRight"]] = level
    for tb in blinks:
        k = int(tb * FPS)
        blend[k - 1 : k + 2, [_B["eyeBlinkLeft"], _B["eyeBlinkRight"]]] = [[0.5, 0.5], [0.85, 0.85], [0.5, 0.5]]
    pose = np.stack([np.full(n, 3.0), np.full(n, -2.0), np.full(n, 1.0)]) + rng.normal(0, 0.2, (3, n))
    for tn, amplitude, duration in nods:
        k, length = int(tn * FPS), int(duration * FPS)
        pose[1, k : k + length] -= amplitude * (1 - np.cos(2 * np.pi * np.arange(length) / (length - 1))) / 2
    signals = np.zeros((n, len(SIGNAL_NAMES)))
    signals[:, :3] = pose.T
    signals[:, _S["mouth_open"]] = np.abs(rng.normal(0.005, 0.002, n))
    signals[:, _S["jaw_open"]] = blend[:, _B["jawOpen"]]
    signals[:, _S["smile"]] = blend[:, [_B["mouthSmileLeft"], _B["mouthSmileRight"]]].mean(axis=1)
    signals[:, _S["blink"]] = blend[:, [_B["eyeBlinkLeft"], _B["eyeBlinkRight"]]].mean(axis=1)
    signals[:, _S["face_height"]] = 200.0
    vad = np.full(n, 0.95 if state != 0 else 0.05)
    speaking = np.full(n, 0.9 if state == 1 else 0.1)
    for t0, t1 in vocalisations:
        inside = (t >= t0) & (t < t1)
        vad[inside], speaking[inside] = 0.9, 0.85
    box = np.tile([0.3, 0.5 - face_height / 2, 0.3 + face_height * 0.8, 0.5 + face_height / 2], (n, 1))
    return SegmentSignals(FPS, t_start, np.full(n, state, dtype=np.int8), np.ones(n, dtype=bool), signals,
                          blend, vad, speaking, -20.0, words, box, frame_motion)


@dataclass(frozen=True)
class TruthEvent:
    type: str
    t_start: float
    t_end: float
    cycles: int = 1


@dataclass(frozen=True)
class PoseSeries:
    yaw: np.ndarray
    pitch: np.ndarray
    roll: np.ndarray
    truth: list[TruthEvent]
    fps: float = FPS


def _bump(n: int) -> np.ndarray:
    """A raised cosine 0 -> 1 -> 0 over n frames."""
    return (1 - np.cos(2 * np.pi * np.arange(n) / max(n - 1, 1))) / 2


def _step(n: int) -> np.ndarray:
    """A smooth 0 -> 1 ramp over n frames."""
    return (1 - np.cos(np.pi * np.arange(n) / max(n - 1, 1))) / 2


def synthetic_pose(seed: int, duration_s: float = 40.0, jitter_deg: float = 0.3) -> PoseSeries:
    rng = np.random.default_rng(seed)
    n = int(duration_s * FPS)
    t = np.arange(n) / FPS
    base = [rng.uniform(-10, 10), rng.uniform(-8, 8), rng.uniform(-4, 4)]
    pose = np.stack([b + sum(rng.uniform(0.5, 1.5) * np.sin(2 * np.pi * t / rng.uniform(4, 12) + rng.uniform(0, 6))
                             for _ in range(2)) for b in base])
    truth: list[TruthEvent] = []
    i = int(rng.uniform(0.5, 1.5) * FPS)
    kinds = ["nod", "shake", "turn", "tilt", "small_nod", "slow_dip", "glance", "tiny_shake"]
    while i < n - 1:
        kind = kinds[int(rng.integers(len(kinds)))]
        start = i / FPS
        if kind in ("nod", "small_nod"):
            amplitude = rng.uniform(5, 12) if kind == "nod" else rng.uniform(1.0, 2.5)
            cycles = int(rng.integers(1, 4))
            lengths = [int(rng.uniform(0.35, 0.9) * FPS) for _ in range(cycles)]
            if i + sum(lengths) >= n:
                break
            for length in lengths:
                pose[1, i : i + length] -= amplitude * _bump(length)
                i += length
            if kind == "nod":
                truth.append(TruthEvent("nod", start, i / FPS, cycles))
        elif kind in ("shake", "tiny_shake"):
            amplitude = rng.uniform(8, 20) if kind == "shake" else rng.uniform(1.5, 3.0)
            half_periods = int(rng.integers(3, 6))
            swing = int(rng.uniform(0.2, 0.45) * FPS)
            length = half_periods * swing
            if i + length >= n:
                break
            pose[0, i : i + length] += amplitude / 2 * np.sin(np.pi * np.arange(length) / swing)
            i += length
            if kind == "shake":
                truth.append(TruthEvent("shake", start, i / FPS, int(np.ceil((half_periods - 1) / 2))))
        elif kind in ("turn", "tilt"):
            axis = 0 if kind == "turn" else 2
            amplitude = rng.uniform(16, 30) if kind == "turn" else rng.uniform(14, 22)
            sign = np.sign(pose[axis, i]) or 1.0 if kind == "turn" else rng.choice([-1.0, 1.0])
            ramp, hold = int(rng.uniform(0.3, 0.8) * FPS), int(rng.uniform(1.2, 2.5) * FPS)
            if i + 2 * ramp + hold >= n:
                break
            shape = np.concatenate([_step(ramp), np.ones(hold), _step(ramp)[::-1]])
            pose[axis, i : i + len(shape)] += sign * amplitude * shape
            if kind == "turn":
                truth.append(TruthEvent("turn_away", start, start + ramp / FPS))
                truth.append(TruthEvent("turn_toward", (i + ramp + hold) / FPS, (i + 2 * ramp + hold) / FPS))
            else:
                truth.append(TruthEvent("tilt", start + ramp / (2 * FPS), (i + ramp + hold + ramp / 2) / FPS))
            i += len(shape)
        elif kind == "slow_dip":
            length = int(rng.uniform(4, 6) * FPS)
            if i + length >= n:
                break
            pose[1, i : i + length] -= rng.uniform(8, 12) * _bump(length)
            i += length
        else:  # glance: one sideways look and back, a single yaw extremum
            length = int(rng.uniform(0.5, 0.7) * FPS)
            if i + length >= n:
                break
            pose[0, i : i + length] += rng.choice([-1.0, 1.0]) * rng.uniform(6, 10) * _bump(length)
            i += length
        i += int(rng.uniform(1.0, 2.5) * FPS)
    pose += rng.normal(0, jitter_deg, pose.shape)
    glitches = rng.random(n) < 0.1 / FPS  # about one single-frame glitch every 10 s
    pose[:, glitches] += rng.uniform(-3, 3, (3, int(glitches.sum())))
    for _ in range(3):  # detector misses of 1-3 frames, interpolated by the annotator
        a = int(rng.integers(0, n - 3))
        pose[:, a : a + int(rng.integers(1, 4))] = np.nan
    return PoseSeries(pose[0], pose[1], pose[2], truth)


def match_events(detected: list[tuple[str, float, float, int]], truth: list[TruthEvent],
                 tolerance_s: float = 0.25) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Greedy one-to-one matching of (type, t_start, t_end, cycles) detections to truth events.

    A detection matches a truth event of the same type when its centre lies inside the truth
    interval widened by ``tolerance_s``. Returns (pairs, unmatched detections, unmatched truths).
    """
    pairs, used = [], set()
    for d, (kind, t0, t1, _c) in enumerate(detected):
        centre = (t0 + t1) / 2
        for g, event in enumerate(truth):
            inside = event.t_start - tolerance_s <= centre <= event.t_end + tolerance_s
            if g not in used and event.type == kind and inside:
                pairs.append((d, g))
                used.add(g)
                break
    matched_d = {d for d, _g in pairs}
    unmatched_detections = [d for d in range(len(detected)) if d not in matched_d]
    return pairs, unmatched_detections, [g for g in range(len(truth)) if g not in used]
