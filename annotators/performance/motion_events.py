"""Head motion events (nod, shake, tilt, turn toward / away) from a yaw, pitch, roll series.

Angles follow ``annotators.face.head_pose``: yaw > 0 the person turns to their left, pitch > 0 looks
up, roll > 0 tilts toward their right shoulder. Each axis is gap-filled and Savitzky-Golay
smoothed, then:

- nod: a pitch dip (down, then back up) whose descent and return are both >= ``nod_min_deg``
  (the dip's prominence), lasting ``nod_min_s``..``nod_max_s`` (twice the half-depth width), with pitch moving more
  than yaw; dips closer than ``bout_gap_s`` form one event whose ``cycles`` counts them.
- shake: >= 2 consecutive alternating yaw swings, each >= ``shake_min_deg`` peak to peak and
  ``shake_swing_min_s``..``shake_swing_max_s`` long, with yaw moving more than pitch.
- tilt: |roll| >= ``tilt_min_deg`` (leaving below 0.75 of it) for >= ``tilt_min_s``.
- turn: the median yaw of the ``turn_hold_s`` after a moment differs from the ``turn_hold_s``
  before by >= ``turn_min_deg``; toward the camera when |yaw| shrinks, away when it grows.
  Turns inside a shake are the shake's swings and are dropped.

Amplitude thresholds sit well above MediaPipe's pose jitter (about 0.1-0.3 deg per frame on the
talking-head clips in shared/media); the duration limits separate gestures from slow drift.
"""

from dataclasses import asdict, dataclass, replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import find_peaks, peak_widths

from annotators.timelines.smoothed_series import (
    fill_short_gaps,
    finite_spans,
    hysteresis_runs,
    margin_confidence,
    robust_noise,
    smooth,
)
from schemas.annotation_classes import HeadEventType, TurnDirection

HEAD_EVENT_TYPES: tuple[HeadEventType, ...] = ("nod", "shake", "tilt", "turn_toward", "turn_away")
_NOISE_FLOOR_DEG = 0.1
_FULL_SNR = 6.0  # an event this many noise scales above the jitter gets full SNR confidence


@dataclass(frozen=True)
class MotionThresholds:
    smooth_s: float = 0.2
    max_gap_s: float = 0.2
    nod_min_deg: float = 4.0
    nod_min_s: float = 0.2
    nod_max_s: float = 1.0
    bout_gap_s: float = 0.4
    shake_min_deg: float = 6.0
    shake_swing_min_s: float = 0.12
    shake_swing_max_s: float = 0.7
    tilt_min_deg: float = 10.0
    tilt_min_s: float = 0.8
    turn_min_deg: float = 12.0
    turn_hold_s: float = 0.5
    turn_max_s: float = 1.5

    def as_dict(self) -> dict[str, float]:
        return {f"head_{k}": float(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class HeadEvent:
    type: HeadEventType
    first: int  # frame index, inclusive
    end: int  # frame index, exclusive
    amplitude_deg: float
    cycles: int
    direction: TurnDirection | None  # of the person; None for nods and shakes
    snr: float
    confidence: float


def detect_head_events(
    yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray, fps: float, th: MotionThresholds | None = None
) -> list[HeadEvent]:
    """Events in time order; frames where any angle is NaN count as absent."""
    th = th or MotionThresholds()
    raw = np.stack([yaw, pitch, roll]).astype(np.float64)
    measured = np.isfinite(raw).all(axis=0)
    raw[:, ~measured] = np.nan
    gap = int(round(th.max_gap_s * fps))
    filled = np.stack([fill_short_gaps(a, gap) for a in raw])
    events: list[HeadEvent] = []
    for first, end in finite_spans(filled[0]):
        if end - first < max(5, int(fps * 0.5)):
            continue
        span = filled[:, first:end]
        smoothed = np.stack([smooth(a, fps, th.smooth_s) for a in span])
        noise = [robust_noise(a, s, _NOISE_FLOOR_DEG) for a, s in zip(span, smoothed, strict=True)]
        present = measured[first:end]
        found = _nods(smoothed, noise, present, fps, th) + _tilts(smoothed, noise, present, fps, th)
        shakes = _shakes(smoothed, noise, present, fps, th)
        turns = [t for t in _turns(smoothed, noise, present, fps, th)
                 if not any(t.first < s.end and s.first < t.end for s in shakes)]
        events += [_shift(e, first) for e in found + shakes + turns]
    return sorted(events, key=lambda e: (e.first, e.type))


def _shift(e: HeadEvent, offset: int) -> HeadEvent:
    return replace(e, first=e.first + offset, end=e.end + offset)


def _event(kind: HeadEventType, first: int, end: int, amplitude: float, cycles: int, direction: TurnDirection | None,
           noise: float, present: np.ndarray, threshold: float) -> HeadEvent:
    snr = amplitude / noise
    # measured share of the frames x margin over the amplitude threshold x how clear of the jitter
    confidence = float(np.mean(present[first:end])) * margin_confidence(amplitude, threshold, 2 * threshold)
    confidence *= min(1.0, snr / _FULL_SNR)
    return HeadEvent(kind, int(first), int(end), round(float(amplitude), 2), int(cycles), direction,
                     round(float(snr), 2), round(confidence, 3))


def _nods(pose: np.ndarray, noise: list[float], present: np.ndarray, fps: float,
          th: MotionThresholds) -> list[HeadEvent]:
    yaw, pitch = pose[0], pose[1]
    wlen = 2 * int(round(th.nod_max_s * fps)) + 1
    peaks, props = find_peaks(-pitch, prominence=th.nod_min_deg, wlen=wlen)
    if not len(peaks):
        return []
    # Width at half depth: deeper levels run into the neighbouring dip when nods repeat. For a
    # smooth dip the half-depth width is half the whole movement, so the event spans twice it.
    widths, _h, left, right = peak_widths(-pitch, peaks, rel_height=0.5,
                                          prominence_data=(props["prominences"], props["left_bases"],
                                                           props["right_bases"]))
    dips = []
    for peak, width, a, b, prominence in zip(peaks, widths, left, right, props["prominences"], strict=True):
        a, b = max(0, int(np.floor(a - width / 2))), min(len(pitch), int(np.ceil(b + width / 2)) + 1)
        if th.nod_min_s * fps <= 2 * width <= th.nod_max_s * fps and np.ptp(yaw[a:b]) < prominence:
            dips.append((a, b, float(prominence), int(peak)))
    if not dips:
        return []
    events, bout = [], dips[:1]
    for dip in [*dips[1:], None]:
        if dip is not None and dip[0] - bout[-1][1] <= th.bout_gap_s * fps:
            bout.append(dip)
            continue
        amplitude = float(np.median([d[2] for d in bout]))
        events.append(_event("nod", bout[0][0], min(bout[-1][1], len(pitch)), amplitude, len(bout), None,
                             noise[1], present, th.nod_min_deg))
        bout = [dip]
    return events


def _shakes(pose: np.ndarray, noise: list[float], present: np.ndarray, fps: float,
            th: MotionThresholds) -> list[HeadEvent]:
    yaw, pitch = pose[0], pose[1]
    wlen = 2 * int(round(th.shake_swing_max_s * fps)) + 1
    maxima, _ = find_peaks(yaw, prominence=th.shake_min_deg / 2, wlen=wlen)
    minima, _ = find_peaks(-yaw, prominence=th.shake_min_deg / 2, wlen=wlen)
    extrema = sorted([(int(i), 1) for i in maxima] + [(int(i), -1) for i in minima])
    chains, chain = [], extrema[:1]
    for current in [*extrema[1:], None]:
        if current is not None:
            (i0, s0), (i1, s1) = chain[-1], current
            swing_ok = th.shake_swing_min_s * fps <= i1 - i0 <= th.shake_swing_max_s * fps
            if s1 != s0 and swing_ok and abs(yaw[i1] - yaw[i0]) >= th.shake_min_deg:
                chain.append(current)
                continue
        chains.append(chain)
        chain = [current] if current is not None else []
    events = []
    for chain in chains:
        if len(chain) < 3:  # fewer than two swings is a glance, not a shake
            continue
        idx = [i for i, _s in chain]
        swings = np.abs(np.diff(yaw[idx]))
        first = max(0, idx[0] - (idx[1] - idx[0]) // 2)
        end = min(len(yaw), idx[-1] + (idx[-1] - idx[-2]) // 2 + 1)
        amplitude = float(np.median(swings))
        if np.ptp(pitch[first:end]) >= amplitude:
            continue
        events.append(_event("shake", first, end, amplitude, int(np.ceil(len(swings) / 2)), None, noise[0],
                             present, th.shake_min_deg))
    return events


def _tilts(pose: np.ndarray, noise: list[float], present: np.ndarray, fps: float,
           th: MotionThresholds) -> list[HeadEvent]:
    roll = pose[2]
    events = []
    sides: tuple[tuple[float, TurnDirection], ...] = ((1.0, "right"), (-1.0, "left"))
    for sign, direction in sides:
        min_frames = max(1, int(round(th.tilt_min_s * fps)))
        for first, end in hysteresis_runs(sign * roll, th.tilt_min_deg, 0.75 * th.tilt_min_deg, min_frames):
            amplitude = float(np.median(np.abs(roll[first:end])))
            events.append(_event("tilt", first, end, amplitude, 1, direction, noise[2], present, th.tilt_min_deg))
    return events


def _turns(pose: np.ndarray, noise: list[float], present: np.ndarray, fps: float,
           th: MotionThresholds) -> list[HeadEvent]:
    yaw = pose[0]
    hold = max(2, int(round(th.turn_hold_s * fps)))
    if len(yaw) < 2 * hold + 1:
        return []
    medians = np.median(sliding_window_view(yaw, hold), axis=1)  # medians[i] = median(yaw[i:i+hold])
    centres = np.arange(hold, len(yaw) - hold + 1)
    before, after = medians[centres - hold], medians[centres]
    delta = after - before
    peaks, _ = find_peaks(np.abs(delta), height=th.turn_min_deg, distance=hold)
    events = []
    for p in peaks:
        b, a, t = float(before[p]), float(after[p]), int(centres[p])
        change = abs(a) - abs(b)
        if abs(change) < th.turn_min_deg / 2:  # crossing from one side to the other: neither toward nor away
            continue
        # the transition: from the last frame still near the old level to the first near the new one
        near_old = np.flatnonzero(np.abs(yaw[:t] - b) <= 0.15 * abs(a - b))
        near_new = np.flatnonzero(np.abs(yaw[t:] - a) <= 0.15 * abs(a - b))
        first = int(near_old[-1]) if near_old.size else t - hold
        end = t + (int(near_new[0]) + 1 if near_new.size else hold)
        if end - first > th.turn_max_s * fps:
            continue
        kind: HeadEventType = "turn_toward" if change < 0 else "turn_away"
        direction: TurnDirection = "left" if a > b else "right"
        events.append(_event(kind, first, end, abs(a - b), 1, direction, noise[0], present, th.turn_min_deg))
    return events
