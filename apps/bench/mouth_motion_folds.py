"""The state labeller's fitted number, ``mouth_motion_threshold``, refitted leaving one source out.

A frame is speaking when a voice is heard and the visible mouth moves (``MouthMotionSpeaker``:
band-limited motion of the inner-lip gap at or above the threshold), after short runs are
smoothed away. The shipped 0.004 face heights was chosen on the 8 shared talking heads; the other
numbers of that rule are not fitted on footage and stay as shipped (``vad_threshold`` 0.5 is
Silero's own; ``speaking_threshold`` 0.5 is the midpoint of the fuzzy AND; ``min_state_s`` and the
segment lengths are what a training sample needs).

Replayed on what the one run recorded (``TrackSignals``), with the labeller's own functions:

- positives: voiced frames (voice activity at or above ``vad_threshold``) of the usable tracks of
  genuine talking heads where the face is present; said yes when labelled speaking;
- negatives: the same faces not talking: present frames of their own silences far enough from
  any voiced frame that the motion measure reads none of it (half the high-pass plus half the
  motion window: 0.525 s as shipped), replayed as if a voice were heard throughout, as a
  listener's face is heard over: a still face under another voice. Said yes (a false speaking
  frame) when labelled speaking. A constructed stand-in for listening frames, which the corpus
  does not label; a pause between sentences is short, so these frames are few.

Fitting rule (deterministic): the highest threshold on ``THRESHOLD_GRID`` at which the replayed
labeller keeps at least ``KEEP`` of the training tracks' positive frames as speaking (pooled over
frames); the lowest grid value when none does. Only positives decide it, as the lip-sync reject
threshold is fitted: a higher threshold only loses speech, and what it gains (still mouths under a
voice read as listening) is measured on the negatives, not fitted on them.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.ndimage import maximum_filter1d

from annotators.speaking.active_speaker import MouthMotionSpeaker
from annotators.timelines.state_timeline import frame_states, smooth_states
from apps.bench.decision_figures import decision_figures
from apps.bench.fold_rows import DecisionUnit, SpeakingTrack
from apps.bench.sync_folds import FoldRule
from apps.bench.validity_records import ClipRecord, TrackSignals
from schemas.performer_states import PerformerState

KEEP = 0.98
THRESHOLD_GRID = tuple(float(x) for x in np.geomspace(0.0005, 0.02, 161))  # face heights, steps of 2.3 %


@dataclass(frozen=True)
class MouthRule:
    """The states stage's settings the speaking decision depends on."""

    mouth_motion_threshold: float
    mouth_window_s: float
    mouth_highpass_s: float
    vad_threshold: float
    speaking_threshold: float
    min_state_s: float

    @staticmethod
    def of(states: Any) -> "MouthRule":
        return MouthRule(states.mouth_motion_threshold, states.mouth_window_s, states.mouth_highpass_s,
                         states.vad_threshold, states.speaking_threshold, states.min_state_s)


@dataclass(frozen=True)
class FrameCounts:
    speaking: int  # positives labelled speaking
    positives: int
    false_speaking: int  # negatives labelled speaking
    negatives: int


def rows_of(records: Sequence[ClipRecord], rule: MouthRule) -> list[SpeakingTrack]:
    """One row per usable track of each genuine talking head, with its positives' counts at every
    grid threshold (the fit sums them, so each track is replayed once per grid value)."""
    return [
        SpeakingTrack(clip=record.clip, picture_source=record.source, voice_source=record.source, track=track,
                      fps=record.fps, positives=int(_positives(track, rule).sum()),
                      kept_at_grid=np.array([_speaking_positives(replace(rule, mouth_motion_threshold=t),
                                                                 track, record.fps) for t in THRESHOLD_GRID]))
        for record in records if record.label == "talking_head" for track in record.signals
    ]  # fmt: skip


def fit(rows: Sequence[SpeakingTrack], shipped: MouthRule) -> MouthRule:
    """The highest grid threshold keeping >= KEEP of the rows' positive frames (see the module docstring)."""
    positives = sum(r.positives for r in rows)
    if not positives:
        raise ValueError("fitting the mouth-motion threshold needs voiced frames of a talking head")
    kept = np.sum([r.kept_at_grid for r in rows], axis=0)
    meets = np.flatnonzero(kept >= KEEP * positives)
    return replace(shipped, mouth_motion_threshold=THRESHOLD_GRID[int(meets.max()) if len(meets) else 0])


def judge_track(rule: MouthRule, row: SpeakingTrack) -> FrameCounts:
    track = row.track
    negatives = _negatives(track, rule, row.fps)
    # A listener's face: the same frames with a voice heard throughout.
    under_voice = _states(rule, track, np.ones_like(track.vad), row.fps)
    return FrameCounts(_speaking_positives(rule, track, row.fps), int(_positives(track, rule).sum()),
                       int((negatives & (under_voice == PerformerState.SPEAKING)).sum()), int(negatives.sum()))


def _speaking_positives(rule: MouthRule, track: TrackSignals, fps: float) -> int:
    as_heard = _states(rule, track, track.vad, fps)
    return int((_positives(track, rule) & (as_heard == PerformerState.SPEAKING)).sum())


def figures(judged: Sequence[tuple[SpeakingTrack, FrameCounts]]) -> dict[str, Any]:
    """Precision and recall of "speaking" over frames; ``listening_under_voice`` is the share of
    negative frames not labelled speaking (a still face under another voice read as listening)."""
    units: list[tuple[DecisionUnit, bool]] = []
    for _row, c in judged:
        units += [(DecisionUnit(positive=True, weight=c.speaking), True),
                  (DecisionUnit(positive=True, weight=c.positives - c.speaking), False),
                  (DecisionUnit(positive=False, weight=c.false_speaking), True),
                  (DecisionUnit(positive=False, weight=c.negatives - c.false_speaking), False)]
    out = decision_figures(units)
    neg = out["negatives_yes"]
    out["listening_under_voice"] = (None if neg["fraction"] is None else 1 - neg["fraction"])
    out["tracks"] = len(judged)
    return out


def fold_rule(shipped: MouthRule) -> FoldRule[SpeakingTrack, MouthRule]:
    return FoldRule(fit=lambda rows: fit(rows, shipped), judge=judge_track,
                    describe=lambda rule: {"mouth_motion_threshold": rule.mouth_motion_threshold})


def _states(rule: MouthRule, track: TrackSignals, vad: np.ndarray, fps: float) -> np.ndarray:
    """The labeller's states of one track (``StateLabeller.track_views`` then ``_track``) at ``rule``."""
    speaker = MouthMotionSpeaker(highpass_s=rule.mouth_highpass_s, window_s=rule.mouth_window_s,
                                 motion_threshold=rule.mouth_motion_threshold)
    p_speak = speaker.speaking_probability(track.mouth_open, track.jaw_open, track.present, vad, np.zeros(0), fps)
    for first, end in track.foreign:  # lips under another face's voice: the association's answer, as recorded
        p_speak[first:end] = 0.0
    states = frame_states(vad, p_speak, rule.vad_threshold, rule.speaking_threshold)
    return smooth_states(states, max(1, round(rule.min_state_s * fps)))


def _positives(track: TrackSignals, rule: MouthRule) -> np.ndarray:
    return track.present & (np.nan_to_num(track.vad) >= rule.vad_threshold)


def _negatives(track: TrackSignals, rule: MouthRule, fps: float) -> np.ndarray:
    """Present silent frames out of reach of any voiced frame's motion (see the module docstring)."""
    voiced = np.nan_to_num(track.vad) >= rule.vad_threshold
    edge = int(np.ceil((rule.mouth_highpass_s + rule.mouth_window_s) / 2 * fps))
    near_voice = maximum_filter1d(voiced.astype(np.uint8), size=2 * edge + 1, mode="constant") > 0
    return track.present & ~near_voice
