"""Voice facts of a segment: loudness, voiced share, whose voice, speech rate, pauses, transcript.

Speech rate comes only from ASR words (words per voiced second). Without ASR it is ``unknown``:
a rate guessed from loudness or mouth motion would be a number nobody measured. Typical
conversational English runs 2-3 words/s; the slow and fast cut-offs sit outside that band.
"""

import numpy as np

from annotators.audio.audio_levels import SILENCE_DB
from annotators.timelines.smoothed_series import hysteresis_runs, margin_confidence
from schemas.annotation_classes import Interval, SpeechRate, Voice, VoiceOwner
from schemas.performer_states import PerformerState
from schemas.speech_rows import TranscribedWord

VAD_THRESHOLD = 0.5
PAUSE_MIN_S = 0.3
SLOW_WPS = 1.8
FAST_WPS = 3.3
MIN_RATE_VOICED_S = 1.0  # fewer voiced seconds give no rate
FULL_RATE_WORDS = 8  # a rate counted over this many words gets full confidence


def voice_thresholds() -> dict[str, float]:
    return {"vad_threshold": VAD_THRESHOLD, "pause_min_s": PAUSE_MIN_S, "speech_slow_wps": SLOW_WPS,
            "speech_fast_wps": FAST_WPS, "speech_rate_min_voiced_s": MIN_RATE_VOICED_S,
            "speech_rate_full_words": float(FULL_RATE_WORDS)}


def _owner(voiced: np.ndarray, states: np.ndarray) -> VoiceOwner:
    if not voiced.any():
        return "none"
    own = float(np.mean(states[voiced] == PerformerState.SPEAKING))
    partner = float(np.mean(states[voiced] == PerformerState.LISTENING))
    if own >= 0.7:
        return "performer"
    return "partner" if partner >= 0.7 else "mixed"


def _pauses(vad: np.ndarray, fps: float, t_start: float) -> list[Interval]:
    """Unvoiced runs >= PAUSE_MIN_S that have voice on both sides."""
    silence = np.where(np.nan_to_num(vad) < VAD_THRESHOLD, 1.0, 0.0)
    out = []
    for first, end in hysteresis_runs(silence, 1.0, 1.0, max(1, int(round(PAUSE_MIN_S * fps)))):
        if first == 0 or end == len(vad):
            continue
        decisiveness = float(np.mean(np.abs(np.nan_to_num(vad[first:end]) - 0.5) * 2))
        out.append(Interval(t_start=round(t_start + first / fps, 3), t_end=round(t_start + end / fps, 3),
                            confidence=round(decisiveness, 3)))
    return out


def voice_section(vad: np.ndarray, states: np.ndarray, loudness_db: float, words: list[TranscribedWord] | None,
                  fps: float, t_start: float) -> Voice:
    vad = np.nan_to_num(np.asarray(vad, dtype=np.float64))
    voiced = vad >= VAD_THRESHOLD
    voiced_s = float(voiced.sum()) / fps
    t_end = t_start + len(vad) / fps
    rate_label: SpeechRate = "unknown"
    transcript, n_words, rate, rate_conf = None, None, None, 0.0
    if words is not None:
        inside = [w for w in words if t_start <= (w.t_start + w.t_end) / 2 < t_end]
        transcript = " ".join(w.text.strip() for w in inside).strip()
        n_words = len(inside)
        if voiced_s >= MIN_RATE_VOICED_S:
            rate = n_words / voiced_s
            rate_label = "slow" if rate < SLOW_WPS else "fast" if rate > FAST_WPS else "moderate"
            edge = min(abs(rate - SLOW_WPS), abs(rate - FAST_WPS)) if rate_label == "moderate" else (
                SLOW_WPS - rate if rate_label == "slow" else rate - FAST_WPS)
            # certain when many words were counted and the rate is clear of the class edges
            rate_conf = min(1.0, n_words / FULL_RATE_WORDS) * margin_confidence(edge, 0.0, 0.5)
    decisiveness = float(np.mean(np.abs(vad - 0.5) * 2)) if len(vad) else 0.0
    return Voice(
        # a non-finite loudness (silence measured as -inf) is the silence floor of audio_levels
        loudness_db=round(float(np.clip(loudness_db, SILENCE_DB, 0.0)) if np.isfinite(loudness_db) else SILENCE_DB,
                          2),
        voiced_frac=round(float(np.mean(voiced)), 3),
        owner=_owner(voiced, np.asarray(states)),
        asr=words is not None,
        n_words=n_words,
        speech_rate_wps=None if rate is None else round(rate, 2),
        speech_rate=rate_label,
        pauses=_pauses(vad, fps, t_start),
        speech_rate_confidence=round(rate_conf, 3),
        transcript=transcript,
        # voice facts are as sure as the voice detector is decisive (|p - 0.5| x 2)
        confidence=round(decisiveness, 3),
    )
