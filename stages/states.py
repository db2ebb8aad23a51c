"""Label every frame of each usable track speaking / listening / idle and cut training segments.

Per track: the active-speaker annotator turns mouth motion plus voice activity into a speaking
probability; thresholds give per-frame states, short runs are smoothed away, and the frames where
the performer is present are cut into segments of ``min_segment_s``..``max_segment_s`` that never
leave the shot. Every span too short to use is recorded as a rejected segment.
"""

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from annotators.active_speaker import MouthMotionSpeaker, active_speaker_model
from annotators.audio_levels import clipping_fraction, loudness_db
from annotators.av_sync import estimate_av_offset
from annotators.face_signals import SIGNAL_NAMES
from annotators.segment_cutter import FrameSpan, cut_segments, present_spans
from annotators.state_timeline import frame_states, runs, smooth_states
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork
from schemas.reasons import Reason
from schemas.sample_layout import AUDIO_SAMPLE_RATE
from schemas.states import PerformerState, state_name
from stages.audio_analysis import audio_samples

_S = {name: i for i, name in enumerate(SIGNAL_NAMES)}


@dataclass
class StatesStage(Stage):
    name: ClassVar[str] = "states"
    needs: ClassVar[tuple[str, ...]] = ("extras.speech", "extras.analysis", "extras.audio")
    adds: ClassVar[tuple[str, ...]] = ("segments", "track_features.state", "track_features.speaking_prob")
    resources: ClassVar[Resources] = Resources(cpus=0.5)

    active_speaker: str = "mouth_vad"
    # Mouth-motion speaker settings. A shorter window than the annotator's 1 s keeps a speaker's
    # motion from leaking into the listening frames around a turn change (1 s leaked ~0.5 s). Chosen
    # by a sweep: synthetic state accuracy 0.898 -> 0.958, while the 8 real talking heads keep 0.980
    # of their voiced frames speaking (0.3 s windows reached 0.975 synthetic but only 0.948 real).
    mouth_window_s: float = field(default=0.45, metadata={"range": (0.04, 5)})
    mouth_highpass_s: float = field(default=0.6, metadata={"range": (0.04, 5)})
    mouth_motion_threshold: float = field(default=0.004, metadata={"range": (0, 1)})
    vad_threshold: float = field(default=0.5, metadata={"range": (0, 1)})
    speaking_threshold: float = field(default=0.5, metadata={"range": (0, 1)})
    min_state_s: float = field(default=0.3, metadata={"range": (0, None)})
    min_segment_s: float = field(default=2.0, metadata={"range": (0.2, None)})
    max_segment_s: float = field(default=10.0, metadata={"range": (0.4, None)})
    max_face_gap_s: float = field(default=0.4, metadata={"range": (0, None)})
    sync_max_offset_frames: int = field(default=12, metadata={"range": (1, 100)})

    def __post_init__(self) -> None:
        if self.max_segment_s < 2 * self.min_segment_s:
            raise ValueError("max_segment_s must be at least twice min_segment_s so any span can be partitioned")

    def setup(self) -> None:
        if self.active_speaker == "mouth_vad":
            self._speaker = MouthMotionSpeaker(
                highpass_s=self.mouth_highpass_s, window_s=self.mouth_window_s,
                motion_threshold=self.mouth_motion_threshold,
            )
        else:
            self._speaker = active_speaker_model(self.active_speaker)

    def process(self, work: VideoWork) -> VideoWork:
        fps = work.extras["analysis"]["fps"]
        speech = work.extras["speech"]
        vad = np.asarray(speech["vad_prob"], dtype=np.float32)
        audio = audio_samples(work)
        shots = {s["shot_id"]: s for s in work.shots}
        for track in work.tracks:
            if track.get("usable"):
                self._track(work, track, shots[track["shot_id"]], vad, audio, fps)
        if not work.segments:
            usable = sum(bool(t.get("usable")) for t in work.tracks)
            work.reject(
                self.name,
                Reason.NO_SEGMENTS,
                f"{usable} usable track(s) but no span of at least {self.min_segment_s:g} s",
            )
        return work

    def _track(
        self,
        work: VideoWork,
        track: dict[str, Any],
        shot: dict[str, Any],
        vad: np.ndarray,
        audio: np.ndarray,
        fps: float,
    ) -> None:
        features = work.track_features[track["track_id"]]
        present = features["present"]
        n = len(present)
        first = int(round(shot["t_start"] * fps))
        vad_track = np.zeros(n, dtype=np.float32)
        chunk = vad[first : first + n]
        vad_track[: len(chunk)] = chunk
        signals = features["signals"].astype(np.float32)
        a = int(round(shot["t_start"] * AUDIO_SAMPLE_RATE))
        track_audio = audio[a : a + int(round(n / fps * AUDIO_SAMPLE_RATE))]
        p_speak = self._speaker.speaking_probability(
            signals[:, _S["mouth_open"]], signals[:, _S["jaw_open"]], present, vad_track, track_audio, fps
        )
        states = smooth_states(
            frame_states(vad_track, p_speak, self.vad_threshold, self.speaking_threshold),
            max(1, round(self.min_state_s * fps)),
        )
        features["state"] = states
        features["speaking_prob"] = p_speak.astype(np.float16)
        min_frames = max(1, round(self.min_segment_s * fps))
        max_frames = max(min_frames, round(self.max_segment_s * fps))
        count = 0
        for span in present_spans(present, max(0, round(self.max_face_gap_s * fps))):
            segments, leftovers = cut_segments(states, span, min_frames, max_frames)
            for leftover in leftovers:
                t0, t1 = shot["t_start"] + leftover.first / fps, shot["t_start"] + leftover.end / fps
                work.reject_entity(
                    "segment",
                    f"{track['track_id']}-r{leftover.first:05d}",
                    self.name,
                    Reason.SEGMENT_TOO_SHORT,
                    f"{t1 - t0:.2f} s of usable face < min_segment_s={self.min_segment_s:g}",
                    t0,
                    t1,
                )
            for span_ in segments:
                work.segments.append(
                    self._segment(
                        work, track, shot, span_, count, states, p_speak, vad_track, signals, track_audio, fps
                    )
                )
                count += 1

    def _segment(
        self,
        work: VideoWork,
        track: dict[str, Any],
        shot: dict[str, Any],
        span: FrameSpan,
        index: int,
        states: np.ndarray,
        p_speak: np.ndarray,
        vad: np.ndarray,
        signals: np.ndarray,
        track_audio: np.ndarray,
        fps: float,
    ) -> dict[str, Any]:
        s = slice(span.first, span.end)
        codes = states[s]
        fractions = np.bincount(codes, minlength=3) / len(codes)
        dominant = PerformerState(int(np.argmax(fractions)))
        a = int(round(span.first / fps * AUDIO_SAMPLE_RATE))
        b = int(round(span.end / fps * AUDIO_SAMPLE_RATE))
        audio = track_audio[a:b]
        offset, confidence = estimate_av_offset(
            signals[s, _S["mouth_open"]], audio, fps, self.sync_max_offset_frames, signals[s, _S["jaw_open"]]
        )
        t_start = shot["t_start"] + span.first / fps
        t_end = shot["t_start"] + span.end / fps
        return {
            "segment_id": f"{track['track_id']}-g{index:03d}",
            "video_id": work.video_id,
            "shot_id": shot["shot_id"],
            "track_id": track["track_id"],
            "state": state_name(dominant),
            "t_start": t_start,
            "t_end": t_end,
            "first_frame": int(round(shot["t_start"] * fps)) + span.first,
            "n_frames": span.length,
            "fps": fps,
            "speaking_frac": float(fractions[PerformerState.SPEAKING]),
            "listening_frac": float(fractions[PerformerState.LISTENING]),
            "idle_frac": float(fractions[PerformerState.IDLE]),
            "n_state_changes": len(runs(codes)) - 1,
            "vad_frac": float(np.mean(vad[s] >= self.vad_threshold)),
            "speaking_prob_mean": float(np.nanmean(p_speak[s])),
            "sync_offset_frames": offset,
            "sync_confidence": confidence,
            "audio_source": _audio_source(dominant, fractions),
            "audio_loudness_db": loudness_db(audio),
            "audio_clipping_frac": clipping_fraction(audio),
            "transcript": _transcript(work.extras["speech"].get("words"), t_start, t_end),
            "face_height_px": track["face_height_px"],
            "sharpness": shot.get("sharpness"),
        }


def _audio_source(dominant: PerformerState, fractions: np.ndarray) -> str:
    if dominant == PerformerState.SPEAKING and fractions[PerformerState.LISTENING] == 0:
        return "own"
    return "mix"


def _transcript(words: list[dict[str, Any]] | None, t_start: float, t_end: float) -> str | None:
    if not words:
        return None
    inside = [w["text"] for w in words if t_start <= (w["t_start"] + w["t_end"]) / 2 < t_end]
    return " ".join(inside) if inside else ""
