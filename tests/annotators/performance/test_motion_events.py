"""Head-event detection: precision, recall and timing on synthetic poses; nods on a real clip."""

import numpy as np
import pytest

from annotators.performance.motion_events import MotionThresholds, detect_head_events
from tests.annotators.caption_fixtures import FPS, match_events, measure_clip, synthetic_pose

KINDS = ("nod", "shake", "tilt", "turn_toward", "turn_away")


def _score(seeds: range, jitter_deg: float) -> tuple[dict[str, tuple[int, int, int]], list, int, int]:
    """Per kind (true positives, detections, truths), timing errors, cycles right, cycles compared."""
    counts = {k: [0, 0, 0] for k in KINDS}
    errors, cycles_ok, cycles_n = [], 0, 0
    for seed in seeds:
        series = synthetic_pose(seed, jitter_deg=jitter_deg)
        events = detect_head_events(series.yaw, series.pitch, series.roll, series.fps)
        detected = [(e.type, e.first / FPS, e.end / FPS, e.cycles) for e in events]
        pairs, _fp, _fn = match_events(detected, series.truth)
        for d, g in pairs:
            kind, t0, t1, cycles = detected[d]
            counts[kind][0] += 1
            errors.append((kind, abs(t0 - series.truth[g].t_start), abs(t1 - series.truth[g].t_end)))
            if kind in ("nod", "shake"):
                cycles_n += 1
                cycles_ok += cycles == series.truth[g].cycles
        for kind, *_rest in detected:
            counts[kind][1] += 1
        for event in series.truth:
            counts[event.type][2] += 1
    return {k: tuple(v) for k, v in counts.items()}, errors, cycles_ok, cycles_n


def test_precision_recall_and_timing_on_synthetic_poses():
    counts, errors, cycles_ok, cycles_n = _score(range(20), jitter_deg=0.3)
    for kind, (tp, n_detected, n_truth) in counts.items():
        assert n_truth >= 15, f"too few {kind} events generated to measure"
        assert tp / n_detected >= 0.95, f"{kind} precision {tp}/{n_detected}"
        assert tp / n_truth >= 0.95, f"{kind} recall {tp}/{n_truth}"
    assert cycles_ok / cycles_n >= 0.95
    for kind, limit in (("nod", 0.1), ("shake", 0.1), ("tilt", 0.2), ("turn_toward", 0.25), ("turn_away", 0.25)):
        starts = [e[1] for e in errors if e[0] == kind]
        ends = [e[2] for e in errors if e[0] == kind]
        assert np.median(starts) <= limit and np.median(ends) <= limit, kind


def test_three_times_the_real_jitter_still_finds_every_nod():
    counts, _errors, _ok, _n = _score(range(20, 35), jitter_deg=0.8)
    tp, n_detected, n_truth = counts["nod"]
    assert tp == n_truth
    assert tp / n_detected >= 0.85


def _still(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 0.2, (3, n))


def test_a_single_nod_is_timed_and_measured():
    pose = _still(100)
    k = 40  # a 6 deg nod from frame 40 lasting 0.6 s
    pose[1, k : k + 15] -= 6 * (1 - np.cos(2 * np.pi * np.arange(15) / 14)) / 2
    events = detect_head_events(*pose, FPS)
    assert [e.type for e in events] == ["nod"]
    nod = events[0]
    assert abs(nod.first - k) <= 2 and abs(nod.end - (k + 15)) <= 3
    assert nod.amplitude_deg == pytest.approx(6, abs=0.8)
    assert nod.cycles == 1 and nod.confidence > 0.6


@pytest.mark.parametrize("amplitude", [2.0, 3.0])
def test_nods_below_the_threshold_are_not_events(amplitude):
    pose = _still(100)
    pose[1, 40:55] -= amplitude * (1 - np.cos(2 * np.pi * np.arange(15) / 14)) / 2
    assert detect_head_events(*pose, FPS) == []


def test_directions_follow_the_pose_conventions():
    n = 200
    pose = _still(n)
    ramp = (1 - np.cos(np.pi * np.arange(10) / 9)) / 2
    pose[0, 50:60] += 20 * ramp  # yaw grows: the person turns to their left, away from the camera
    pose[0, 60:120] += 20
    pose[0, 120:130] += 20 * ramp[::-1]  # and back toward the camera, turning right
    pose[2, 140:190] += 15  # roll > 0: head toward the right shoulder
    events = {e.type: e for e in detect_head_events(*pose, FPS)}
    assert set(events) == {"turn_away", "turn_toward", "tilt"}
    assert events["turn_away"].direction == "left" and events["turn_toward"].direction == "right"
    assert events["tilt"].direction == "right"
    assert 45 <= events["turn_away"].first <= 55 and 118 <= events["turn_toward"].first <= 126


def test_a_face_gap_is_not_bridged():
    pose = _still(150)
    pose[1, 40:55] -= 8 * (1 - np.cos(2 * np.pi * np.arange(15) / 14)) / 2  # a nod ...
    pose[:, 44:70] = np.nan  # ... cut by one second without a face
    pose[1, 100:115] -= 8 * (1 - np.cos(2 * np.pi * np.arange(15) / 14)) / 2  # a whole nod later
    events = detect_head_events(*pose, FPS)
    assert [(e.type, e.first >= 95) for e in events] == [("nod", True)]


def test_thresholds_are_published_with_a_prefix():
    published = MotionThresholds().as_dict()
    assert published["head_nod_min_deg"] == 4.0 and all(k.startswith("head_") for k in published)


def test_real_head_bobbing_is_found_and_a_still_head_gives_nothing():
    bobbing = measure_clip("liveportrait_d11.mp4", 6.0).signals  # a child bobbing the head while talking
    events = detect_head_events(bobbing[:, 0], bobbing[:, 1], bobbing[:, 2], FPS)
    nods = [e for e in events if e.type == "nod"]
    assert nods and max(e.cycles for e in nods) >= 5
    longest = max(nods, key=lambda e: e.cycles)
    assert longest.first / FPS <= 1.0 and longest.end / FPS >= 4.0  # bobbing seen in frames 1-4 s
    pitch = bobbing[longest.first : longest.end, 1]
    assert np.nanmax(pitch) - np.nanmin(pitch) >= 2 * MotionThresholds().nod_min_deg
    still = measure_clip("liveportrait_d19.mp4", 6.0).signals  # smiles, head nearly still
    assert detect_head_events(still[:, 0], still[:, 1], still[:, 2], FPS) == []
