"""Listener reactions: back-channel nods, smiles and brief vocalisations during listening frames.

Nods and smiles are not detected again here; they are the head events and expression intervals
that fall in listening frames, and each reaction points at its evidence. A brief vocalisation
("mm-hm", "yeah") is a short voiced burst the visible person makes while listening: voice activity
and speaking probability both >= 0.5 for ``VOCAL_MIN_S``..``VOCAL_MAX_S``. The state smoother
folds such bursts into the surrounding listening run, which is why they are looked for here.
"""

import numpy as np

from annotators.timelines.smoothed_series import hysteresis_runs
from schemas.annotation_classes import ExpressionSpan, HeadEvent, ListenerReaction
from schemas.performer_states import PerformerState

VOCAL_MIN_S = 0.1
VOCAL_MAX_S = 1.0
IN_LISTENING_FRAC = 0.5  # share of an event's frames that must be listening


def reaction_thresholds() -> dict[str, float]:
    return {"vocalisation_min_s": VOCAL_MIN_S, "vocalisation_max_s": VOCAL_MAX_S,
            "reaction_listening_frac": IN_LISTENING_FRAC}


def _listening_share(states: np.ndarray, first: int, end: int) -> float:
    window = states[max(0, first) : max(first + 1, end)]
    return float(np.mean(window == PerformerState.LISTENING)) if len(window) else 0.0


def listener_reactions(
    states: np.ndarray,
    vad: np.ndarray,
    speaking_prob: np.ndarray,
    head_events: list[HeadEvent],
    expression_timeline: list[ExpressionSpan],
    fps: float,
    t_start: float,
) -> list[ListenerReaction]:
    """Reactions in time order; head events and expressions as the annotation has them (source seconds)."""

    def frames(item: HeadEvent | ExpressionSpan) -> tuple[int, int]:
        return int(round((item.t_start - t_start) * fps)), int(round((item.t_end - t_start) * fps))

    out = []
    for i, event in enumerate(head_events):
        first, end = frames(event)
        centre = (first + end) // 2
        if event.type == "nod" and 0 <= centre < len(states) and states[centre] == PerformerState.LISTENING:
            out.append(ListenerReaction(type="back_channel_nod", t_start=event.t_start, t_end=event.t_end,
                                        evidence=f"head_events[{i}]", confidence=event.confidence))
    for i, interval in enumerate(expression_timeline):
        first, end = frames(interval)
        share = _listening_share(states, first, end)
        if interval.expression == "smile" and share >= IN_LISTENING_FRAC:
            out.append(ListenerReaction(type="smile", t_start=interval.t_start, t_end=interval.t_end,
                                        evidence=f"expressions.timeline[{i}]",
                                        confidence=round(interval.confidence * share, 3)))
    burst = (np.nan_to_num(vad) >= 0.5) & (np.nan_to_num(speaking_prob) >= 0.5)
    min_frames = max(1, int(round(VOCAL_MIN_S * fps)))
    for first, end in hysteresis_runs(burst.astype(np.float64), 1.0, 1.0, min_frames):
        # the listening share is measured on the burst and one burst-length either side, since
        # the burst itself may have kept a "speaking" label when it outlasted the state smoother
        share = _listening_share(states, first - (end - first), end + (end - first))
        if end - first <= VOCAL_MAX_S * fps and share >= IN_LISTENING_FRAC:
            strength = float(np.mean(np.minimum(vad[first:end], speaking_prob[first:end])))
            out.append(ListenerReaction(type="vocalisation", t_start=round(t_start + first / fps, 3),
                                        t_end=round(t_start + end / fps, 3), evidence=None,
                                        confidence=round(strength * share, 3)))
    return sorted(out, key=lambda r: (r.t_start, r.type))
