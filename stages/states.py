"""Label every frame of each usable track speaking / listening / idle and cut training segments.

Per track: the active-speaker annotator turns mouth motion plus voice activity into a speaking
probability. Then, across the video (``voice_faces``): when two or more people have moving lips
under a voice, each voice (diarized speaker, else a ``voice_profile`` cluster) is matched to the
face it is in sync with over the whole video, and lips moving under a voice owned by another
face drop to "not speaking", hence listening (``annotators.speaking.voice_face_association``; the
association is the ``voice_faces`` product). Thresholds give per-frame states, short runs
are smoothed away, and the frames where the performer is present are cut into segments of
``min_segment_s``..``max_segment_s`` that never leave the shot. Every span too short to use is
recorded as a rejected segment. Every speaking segment gets a lip-sync verdict
(``annotators.speaking.lip_sync``); one whose lips do not follow its audio (dubbed, voice-over, a
mismatched mux) is rejected as ``out_of_sync``, never kept as speaking.
"""

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from annotators.audio.audio_levels import clipping_fraction, loudness_db
from annotators.audio.span_voices import SpanVoices
from annotators.audio.voice_profile import VOICE_DISTANCE_THRESHOLD
from annotators.face.face_signals import SIGNAL_NAMES
from annotators.identity.track_identity import FaceDescriptorChoice, face_embedder, face_embedder_choice, face_groups
from annotators.models.voice_embedder import CAPPED_VOICE_DISTANCE_THRESHOLD, VOICE_ENCODER_MODEL_NAME
from annotators.speaking.active_speaker import MouthMotionSpeaker, active_speaker_model
from annotators.speaking.av_sync import estimate_av_offset, sync_in_context
from annotators.speaking.lip_sync import (
    LIP_SYNC_CONTEXT_S,
    LipSyncVerdict,
    MouthTrack,
    judge,
    lip_sync_choice,
    lip_sync_model,
)
from annotators.speaking.voice_face_association import SYNC_BASELINE, VoicedSpan, foreign_spans, voice_owners
from annotators.timelines.segment_cutter import FrameSpan, cut_segments, present_spans
from annotators.timelines.state_timeline import frame_states, runs, smooth_states
from curation.ingest.local_copy import local_media
from curation.models.model_choice import ModelChoice
from curation.models.model_store import is_available
from curation.runtime.device import DeviceChoice
from curation.runtime.products import VoiceFaces
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.stored_audio import audio_samples
from curation.runtime.video_work import VideoWork
from schemas.performer_states import PerformerState, state_name
from schemas.reasons import Reason
from schemas.sample_layout import AUDIO_SAMPLE_RATE

_S = {name: i for i, name in enumerate(SIGNAL_NAMES)}


@dataclass
class StatesStage(Stage):
    name: ClassVar[str] = "states"
    needs: ClassVar[tuple[str, ...]] = ("speech", "analysis", "audio")
    adds: ClassVar[tuple[str, ...]] = (
        "segments", "voice_faces", "identity_vectors", "track_features.state", "track_features.speaking_prob"
    )
    resources: ClassVar[Resources] = Resources(cpus=0.5)
    # 2: dlib's track vectors from 2 frames instead of 4 (the face grouping), and the SyncNet-style
    # synchrony (lip-sync verdicts read with their track around them, voice-face evidence per span)
    version: ClassVar[int] = 2

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
    # Lip-sync verdict of speaking segments: auto = SyncNet when its weights were fetched, else the
    # offline estimator; the threshold defaults to the model's own (annotators/speaking/lip_sync).
    lip_sync_model: Literal["auto", "av_sync", "syncnet"] = "auto"
    lip_sync_threshold: float | None = field(default=None, metadata={"range": (-1, 100)})
    # Voice-face association across the video (annotators/speaking/voice_face_association): lips moving
    # under a voice that is in sync over another face's shots are listening, not speaking.
    voice_faces: bool = True
    voice_min_span_s: float = field(default=0.8, metadata={"range": (0.1, None)})
    # Voices of spans: Resemblyzer's learned embedding (``auto``: when installed), else the
    # mean-MFCC voice profile; a pyannote diarization, when it ran, decides instead.
    voice_embedder: Literal["auto", "resemblyzer", "fallback"] = "auto"
    voice_embedding_threshold: float = field(default=CAPPED_VOICE_DISTANCE_THRESHOLD, metadata={"range": (0, 2)})
    voice_distance_threshold: float = field(default=VOICE_DISTANCE_THRESHOLD, metadata={"range": (0, None)})
    voice_sync_baseline: float = field(default=SYNC_BASELINE, metadata={"range": (-1, 1)})
    face_descriptor: FaceDescriptorChoice = "auto"
    device: DeviceChoice = "auto"  # the face embedder's (ArcFace on a GPU when the worker sees one)

    def __post_init__(self) -> None:
        if self.max_segment_s < 2 * self.min_segment_s:
            raise ValueError("max_segment_s must be at least twice min_segment_s so any span can be partitioned")

    def setup(self) -> None:
        if self.active_speaker == "mouth_vad":
            self._speaker = MouthMotionSpeaker(
                highpass_s=self.mouth_highpass_s,
                window_s=self.mouth_window_s,
                motion_threshold=self.mouth_motion_threshold,
            )
        else:
            self._speaker = active_speaker_model(self.active_speaker)
        self._embedder = face_embedder(self.face_descriptor, self.device) if self.voice_faces else None
        self._lip_sync = lip_sync_model(self.lip_sync_model, self.lip_sync_threshold)
        embedder = None
        if self.voice_faces and self._uses_voice_encoder():
            from annotators.models.voice_embedder import VoiceEmbedder

            embedder = VoiceEmbedder()
        self._span_voices = SpanVoices(embedder, self.voice_embedding_threshold, self.voice_distance_threshold)

    def _uses_voice_encoder(self) -> bool:
        return self.voice_embedder == "resemblyzer" or (
            self.voice_embedder == "auto" and is_available(VOICE_ENCODER_MODEL_NAME)
        )

    def model_choices(self) -> list[ModelChoice]:
        if not self.voice_faces:
            return [lip_sync_choice(self.name, self.lip_sync_model)]
        voices = (
            ModelChoice.using("voice grouping", self.name, VOICE_ENCODER_MODEL_NAME)
            if self._uses_voice_encoder()
            else ModelChoice.instead("voice grouping", self.name, "the mean-MFCC voice profile",
                                     VOICE_ENCODER_MODEL_NAME, "voices of 2-s spans are told apart less reliably")
        )
        return [face_embedder_choice("face grouping", self.name, self.face_descriptor), voices,
                lip_sync_choice(self.name, self.lip_sync_model)]

    def process(self, work: VideoWork) -> VideoWork:
        fps = work.analysis.fps
        vad = np.asarray(work.speech.vad_prob, dtype=np.float32)
        audio = audio_samples(work)
        shots = {s["shot_id"]: s for s in work.shots}
        views = [
            self._view(work, track, shots[track["shot_id"]], vad, audio, fps)
            for track in work.tracks
            if track.get("usable")
        ]
        if self.voice_faces and len(views) >= 2:
            self._drop_foreign_voices(work, views, audio, fps)
        for view in views:
            self._track(work, view, audio, fps)
        if not work.segments:
            usable = sum(bool(t.get("usable")) for t in work.tracks)
            work.reject(
                self.name,
                Reason.NO_SEGMENTS,
                f"{usable} usable track(s) but no span of at least {self.min_segment_s:g} s",
            )
        return work

    def _view(
        self,
        work: VideoWork,
        track: dict[str, Any],
        shot: dict[str, Any],
        vad: np.ndarray,
        audio: np.ndarray,
        fps: float,
    ) -> "TrackView":
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
        return TrackView(track, shot, first, present, vad_track, signals, track_audio, p_speak)

    def _drop_foreign_voices(self, work: VideoWork, views: list["TrackView"], audio: np.ndarray, fps: float) -> None:
        """Lips moving under a voice that belongs to another face of the video are not speaking
        (``annotators.speaking.voice_face_association``); their speaking probability drops to 0."""
        faces = face_groups(work, [v.track for v in views], self._embedder)
        min_frames = max(1, round(self.voice_min_span_s * fps))
        # Pauses shorter than the smoothing's minimum state do not split a span: one voice is
        # described better from 2 s than from two halves.
        max_gap = max(1, round(self.min_state_s * fps))
        spans: list[tuple[TrackView, int, int]] = []
        for view in views:
            speaking = view.p_speak >= self.speaking_threshold
            spans += [(view, s.first, s.end) for s in present_spans(speaking, max_gap) if s.length >= min_frames]
        n_faces = len({faces[v.track["track_id"]] for v, _, _ in spans})
        if n_faces < 2:
            return
        voices = self._span_voices.voices(
            [((v.first + a) / fps, (v.first + b) / fps) for v, a, b in spans],
            audio, n_faces, work.speech.diarization, work.speech.turns,
        )
        voiced = [
            VoicedSpan(
                view.track["track_id"],
                faces[view.track["track_id"]],
                voice,
                a,
                b,
                sync_in_context(
                    view.signals[a:b, _S["mouth_open"]],
                    view.signals[a:b, _S["jaw_open"]],
                    audio,
                    view.first + a,
                    fps,
                    mouth_dark=view.signals[a:b, _S["mouth_dark"]],
                ),
            )
            for (view, a, b), voice in zip(spans, voices, strict=True)
        ]
        owners = voice_owners(voiced, self.voice_sync_baseline)
        by_id = {v.track["track_id"]: v for v in views}
        for span in foreign_spans(voiced, owners):
            by_id[span.track_id].p_speak[span.first : span.end] = 0.0
        work.voice_faces = VoiceFaces(
            voices=self._span_voices.source(work.speech.diarization),
            owners={str(v): str(f) for v, f in owners.items()},
            spans=[
                s.__dict__ | {"face": str(s.face), "voice": None if s.voice is None else str(s.voice)} for s in voiced
            ],
        )

    def _track(self, work: VideoWork, view: "TrackView", audio: np.ndarray, fps: float) -> None:
        track, shot, present, p_speak = view.track, view.shot, view.present, view.p_speak
        vad_track = view.vad
        features = work.track_features[track["track_id"]]
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
                segment = self._segment(work, view, span_, count, states, fps)
                count += 1
                verdict = self._lip_sync_verdict(work, view, span_, segment, audio, fps)
                if verdict is not None:
                    segment["lip_sync_score"] = verdict.score if np.isfinite(verdict.score) else None
                    segment["lip_sync_model"] = verdict.model
                if verdict is not None and verdict.out_of_sync:
                    work.reject_entity(
                        "segment",
                        segment["segment_id"],
                        self.name,
                        Reason.OUT_OF_SYNC,
                        f"lips do not follow the audio: {verdict.model} score {verdict.score:.3f}"
                        f" < {verdict.threshold:g}",
                        segment["t_start"],
                        segment["t_end"],
                    )
                else:
                    work.segments.append(segment)

    def _lip_sync_verdict(
        self,
        work: VideoWork,
        view: "TrackView",
        span: FrameSpan,
        segment: dict[str, Any],
        audio: np.ndarray,
        fps: float,
    ) -> LipSyncVerdict | None:
        """The verdict of a speaking segment; None for the others (no voice of their own to follow)."""
        if segment["state"] != "speaking":
            return None
        s = slice(span.first, span.end)
        features = work.track_features[view.track["track_id"]]
        boxes = features.get("face_box")
        mouth = MouthTrack(
            mouth_open=view.signals[s, _S["mouth_open"]],
            jaw_open=view.signals[s, _S["jaw_open"]],
            mouth_dark=view.signals[s, _S["mouth_dark"]],
            first_frame=view.first + span.first,
            fps=fps,
            # SyncNet reads the mouth pixels again: a remote input is fetched to this node first.
            video_uri=local_media(work) if self._lip_sync.name == "syncnet" else work.uri,
            face_boxes=None if boxes is None else np.asarray(boxes, dtype=np.float32)[s],
            context=self._lip_sync_context(view, span, fps),
        )
        return judge(self._lip_sync, mouth, audio)

    @staticmethod
    def _lip_sync_context(view: "TrackView", span: FrameSpan, fps: float) -> MouthTrack:
        """The segment's track up to ``LIP_SYNC_CONTEXT_S`` on each side, within its shot (NaN
        where the face is absent): a 2-4 s segment alone holds a few syllables, too few to tell
        its own voice from a dubbed one reliably."""
        pad = round(LIP_SYNC_CONTEXT_S * fps)
        c = slice(max(0, span.first - pad), min(len(view.present), span.end + pad))
        return MouthTrack(
            mouth_open=view.signals[c, _S["mouth_open"]],
            jaw_open=view.signals[c, _S["jaw_open"]],
            mouth_dark=view.signals[c, _S["mouth_dark"]],
            first_frame=view.first + c.start,
            fps=fps,
        )

    def _segment(
        self, work: VideoWork, view: "TrackView", span: FrameSpan, index: int, states: np.ndarray, fps: float
    ) -> dict[str, Any]:
        """The segment row of ``span`` of one track (frames of its shot), with its smoothed ``states``."""
        track, shot, p_speak, vad, signals = view.track, view.shot, view.p_speak, view.vad, view.signals
        s = slice(span.first, span.end)
        codes = states[s]
        fractions = np.bincount(codes, minlength=3) / len(codes)
        dominant = PerformerState(int(np.argmax(fractions)))
        a = int(round(span.first / fps * AUDIO_SAMPLE_RATE))
        b = int(round(span.end / fps * AUDIO_SAMPLE_RATE))
        audio = view.audio[a:b]
        offset, confidence = estimate_av_offset(
            signals[s, _S["mouth_open"]],
            audio,
            fps,
            self.sync_max_offset_frames,
            signals[s, _S["jaw_open"]],
            mouth_dark=signals[s, _S["mouth_dark"]],
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
            "transcript": _transcript(work.speech.words, t_start, t_end),
            "face_height_px": track["face_height_px"],
            "sharpness": shot.get("sharpness"),
        }


@dataclass
class TrackView:
    """One usable track with its slices of the video's voice activity and audio, and its speaking
    probability (lowered where association finds someone else's voice)."""

    track: dict[str, Any]
    shot: dict[str, Any]
    first: int  # the track's first frame in the video
    present: np.ndarray
    vad: np.ndarray
    signals: np.ndarray
    audio: np.ndarray
    p_speak: np.ndarray


def _audio_source(dominant: PerformerState, fractions: np.ndarray) -> str:
    if dominant == PerformerState.SPEAKING and fractions[PerformerState.LISTENING] == 0:
        return "own"
    return "mix"


def _transcript(words: list[dict[str, Any]] | None, t_start: float, t_end: float) -> str | None:
    if not words:
        return None
    inside = [w["text"] for w in words if t_start <= (w["t_start"] + w["t_end"]) / 2 < t_end]
    return " ".join(inside) if inside else ""
