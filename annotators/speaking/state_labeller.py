"""Per-frame speaking / listening / idle states of a video's usable tracks, and its training segments.

The states stage's labelling, apart from the voice-face association that decides which spans are
another face's voice (``stages.states``, ``stages.voice_identities``): both stages label with it,
the second when the run's evidence moves a voice to another face, using the settings the first
recorded (``VoiceFaces.labelling``) so a video is labelled the same way both times.

Per track: the active-speaker annotator turns mouth motion plus voice activity into a speaking
probability (``track_views``; the association lowers it to 0 on foreign spans). Thresholds give
per-frame states, short runs are smoothed away, and the frames where the performer is present are
cut into segments of ``min_segment_s``..``max_segment_s`` that never leave the shot (``label``).
Every span too short to use is recorded as a rejected segment. Every speaking segment gets a
lip-sync verdict (``annotators.speaking.lip_sync``): ``in_sync``, ``uncertain`` (kept and flagged
in ``sync_verdict``) or ``out_of_sync``: lips that do not follow their audio (dubbed, voice-over,
a mismatched mux) are rejected as ``out_of_sync``, never kept as speaking (unless
``reject_out_of_sync`` is off: then they are kept with their verdict, for a benchmark or an audit).
The verdict reads the track's speaking segments together (``lip_sync_per_track``;
``annotators.speaking.track_sync``): a dub is a property of the audio, not of a 2-10 s segment.
"""

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from annotators.audio.audio_levels import clipping_fraction, loudness_db
from annotators.face.face_signals import HEAD_POSE, Signal
from annotators.face.mouth_track import MouthTrack
from annotators.identity.track_identity import track_identity_vector
from annotators.speaking.active_speaker import MouthMotionSpeaker, active_speaker_model
from annotators.speaking.av_sync import estimate_av_offset
from annotators.speaking.lip_sync import (
    LIP_SYNC_CONTEXT_S,
    LipSyncModel,
    LipSyncVerdict,
    judge,
    lip_sync_model,
)
from annotators.speaking.track_sync import track_scores
from annotators.timelines.segment_cutter import FrameSpan, cut_segments, present_spans
from annotators.timelines.state_timeline import frame_states, runs, segment_state, smooth_states
from curation.ingest.local_copy import local_media
from curation.runtime.video_work import VideoWork
from schemas.performer_states import PerformerState, frame_state_letters, state_name
from schemas.reasons import Reason
from schemas.sample_layout import AUDIO_SAMPLE_RATE
from schemas.speech_rows import TranscribedWord
from schemas.tables import SegmentRow, ShotRow, TrackRow


@dataclass
class StateLabeller:
    """Labels a video's usable tracks and cuts its segments; built from the states stage's
    parameters of the same names, ``setup`` loads the speaker and lip-sync models."""

    stage: str  # the stage its rejections are recorded under
    active_speaker: str
    mouth_window_s: float
    mouth_highpass_s: float
    mouth_motion_threshold: float
    vad_threshold: float
    speaking_threshold: float
    min_state_s: float
    min_segment_s: float
    max_segment_s: float
    max_face_gap_s: float
    sync_max_offset_frames: int
    lip_sync_model: str
    lip_sync_threshold: float | None
    # Defaults: settings stored by runs before the uncertain verdict rebuild the labeller as it was.
    lip_sync_accept_threshold: float | None = None
    reject_out_of_sync: bool = True
    # The verdict reads the mean score of the track's speaking segments (annotators.speaking.track_sync);
    # False (settings stored before states version 9): each segment's own score.
    lip_sync_per_track: bool = False

    def settings(self) -> dict[str, Any]:
        """What rebuilds this labeller (``StateLabeller(**settings)``): plain data to store, with
        the lip-sync model as resolved here (``auto`` may resolve otherwise on another node)."""
        return asdict(self) | {
            "lip_sync_model": self._lip_sync.name,
            "lip_sync_threshold": self._lip_sync.threshold,
            "lip_sync_accept_threshold": self._lip_sync.accept_threshold,
        }

    def setup(self) -> None:
        if self.active_speaker == "mouth_vad":
            self._speaker = MouthMotionSpeaker(
                highpass_s=self.mouth_highpass_s,
                window_s=self.mouth_window_s,
                motion_threshold=self.mouth_motion_threshold,
            )
        else:
            self._speaker = active_speaker_model(self.active_speaker)
        self._lip_sync = lip_sync_model(self.lip_sync_model, self.lip_sync_threshold, self.lip_sync_accept_threshold)
        # A verdict that asks whether the voice could be the face's reads the track's dlib vector (its map
        # was fitted on dlib's): the one the face grouping and the identity stage compute from the same
        # crops where dlib is their embedder (kept on the record); computed beside ArcFace where it is not.
        self._face_vectors = None
        if getattr(self._lip_sync, "needs_face_vector", False):
            from annotators.models.dlib_face_embedder import DlibFaceEmbedder

            self._face_vectors = DlibFaceEmbedder()

    @property
    def lip_sync(self) -> LipSyncModel:
        return self._lip_sync

    def track_views(self, work: VideoWork, audio: np.ndarray, fps: float) -> list["TrackView"]:
        """Each usable track with its speaking probability (before any voice-face association)."""
        vad = np.asarray(work.speech.vad_prob, dtype=np.float32)
        shots = {s.shot_id: s for s in work.shots}
        return [
            self._view(work, track, shots[track.shot_id], vad, audio, fps)
            for track in work.tracks
            if track.usable
        ]

    def relabel(self, work: VideoWork, foreign: list[list[Any]], audio: np.ndarray, fps: float) -> None:
        """Label the video again with ``foreign`` as the other faces' voice spans: the first
        labelling's segments and segment rejections are replaced, not added to."""
        work.segments = []
        work.rejections = [r for r in work.rejections if not (r.stage == self.stage and r.entity == "segment")]
        views = self.track_views(work, audio, fps)
        drop_foreign(views, foreign)
        self.label(work, views, audio, fps)

    def label(self, work: VideoWork, views: list["TrackView"], audio: np.ndarray, fps: float) -> None:
        """States per frame and segments of every track; rejects the video when none is long enough."""
        for view in views:
            self._track(work, view, audio, fps)
        if not work.segments:
            usable = sum(bool(t.usable) for t in work.tracks)
            work.reject(
                self.stage,
                Reason.NO_SEGMENTS,
                f"{usable} usable track(s) but no span of at least {self.min_segment_s:g} s",
            )

    def _view(
        self,
        work: VideoWork,
        track: TrackRow,
        shot: ShotRow,
        vad: np.ndarray,
        audio: np.ndarray,
        fps: float,
    ) -> "TrackView":
        features = work.track_features[track.track_id]
        present = features.present
        n = len(present)
        first = int(round(shot.t_start * fps))
        vad_track = np.zeros(n, dtype=np.float32)
        chunk = vad[first : first + n]
        vad_track[: len(chunk)] = chunk
        signals = features.signals.astype(np.float32)
        a = int(round(shot.t_start * AUDIO_SAMPLE_RATE))
        track_audio = audio[a : a + int(round(n / fps * AUDIO_SAMPLE_RATE))]
        p_speak = self._speaker.speaking_probability(
            signals[:, Signal.MOUTH_OPEN], signals[:, Signal.JAW_OPEN], present, vad_track, track_audio, fps
        )
        return TrackView(track, shot, first, present, vad_track, signals, track_audio, p_speak)

    def _track(self, work: VideoWork, view: "TrackView", audio: np.ndarray, fps: float) -> None:
        track, shot, present, p_speak = view.track, view.shot, view.present, view.p_speak
        vad_track = view.vad
        features = work.track_features[track.track_id]
        states = smooth_states(
            frame_states(vad_track, p_speak, self.vad_threshold, self.speaking_threshold),
            max(1, round(self.min_state_s * fps)),
        )
        features.state = states
        track.frame_states = frame_state_letters(states, present)
        features.speaking_prob = p_speak.astype(np.float16)
        min_frames = max(1, round(self.min_segment_s * fps))
        max_frames = max(min_frames, round(self.max_segment_s * fps))
        count = 0
        judged: list[tuple[SegmentRow, LipSyncVerdict | None, int]] = []
        for span in present_spans(present, max(0, round(self.max_face_gap_s * fps))):
            segments, leftovers = cut_segments(states, span, min_frames, max_frames)
            for leftover in leftovers:
                t0, t1 = shot.t_start + leftover.first / fps, shot.t_start + leftover.end / fps
                work.reject_entity(
                    "segment",
                    f"{track.track_id}-r{leftover.first:05d}",
                    self.stage,
                    Reason.SEGMENT_TOO_SHORT,
                    f"{t1 - t0:.2f} s of usable face < min_segment_s={self.min_segment_s:g}",
                    t0,
                    t1,
                )
            for span_ in segments:
                segment = self._segment(work, view, span_, count, states, fps)
                count += 1
                voiced_speaking = (states[span_.first : span_.end] == PerformerState.SPEAKING) & (
                    vad_track[span_.first : span_.end] >= self.vad_threshold
                )
                verdict = self._lip_sync_verdict(work, view, span_, segment, audio, fps)
                judged.append((segment, verdict, int(voiced_speaking.sum())))
        for segment, verdict in self._track_verdicts(judged):
            if verdict is not None:
                segment.lip_sync_score = verdict.score if np.isfinite(verdict.score) else None
                segment.lip_sync_model = verdict.model
                segment.sync_verdict = verdict.verdict
            if verdict is not None and verdict.out_of_sync and self.reject_out_of_sync:
                work.reject_entity(
                    "segment",
                    segment.segment_id,
                    self.stage,
                    Reason.OUT_OF_SYNC,
                    f"lips do not follow the audio: {verdict.model} score {verdict.score:.3f}"
                    f"{' (its track)' if self.lip_sync_per_track else ''} < {verdict.threshold:g}",
                    segment.t_start,
                    segment.t_end,
                )
            else:
                work.segments.append(segment)

    def _track_verdicts(
        self, judged: list[tuple[SegmentRow, LipSyncVerdict | None, int]]
    ) -> list[tuple[SegmentRow, LipSyncVerdict | None]]:
        """Each segment of one track with the verdict it gets: its own score's, or with
        ``lip_sync_per_track`` the mean score of the track's speaking segments' (weighted by their
        voiced speaking frames; ``annotators.speaking.track_sync``), its own kept in
        ``lip_sync_segment_score``."""
        spoken = [(segment, verdict, weight) for segment, verdict, weight in judged if verdict is not None]
        for segment, verdict, _ in spoken:
            segment.lip_sync_segment_score = verdict.score if np.isfinite(verdict.score) else None
        if not self.lip_sync_per_track or not spoken:
            return [(segment, verdict) for segment, verdict, _ in judged]
        pooled = track_scores([v.score for _, v, _ in spoken], [w for _, _, w in spoken], [0] * len(spoken))
        by_segment = {id(segment): replace(verdict, score=float(score))
                      for (segment, verdict, _), score in zip(spoken, pooled, strict=True)}  # fmt: skip
        return [(segment, by_segment.get(id(segment), verdict)) for segment, verdict, _ in judged]

    def _lip_sync_verdict(
        self,
        work: VideoWork,
        view: "TrackView",
        span: FrameSpan,
        segment: SegmentRow,
        audio: np.ndarray,
        fps: float,
    ) -> LipSyncVerdict | None:
        """The verdict of a speaking segment; None for the others (no voice of their own to follow)."""
        if segment.state != "speaking":
            return None
        s = slice(span.first, span.end)
        boxes = work.track_features[view.track.track_id].face_box
        mouth = MouthTrack(
            mouth_open=view.signals[s, Signal.MOUTH_OPEN],
            jaw_open=view.signals[s, Signal.JAW_OPEN],
            mouth_dark=view.signals[s, Signal.MOUTH_DARK],
            first_frame=view.first + span.first,
            fps=fps,
            # SyncNet reads the mouth pixels again: a remote input is fetched to this node first.
            video_uri=local_media(work) if self._lip_sync.name == "syncnet" else work.uri,
            face_boxes=None if boxes is None else np.asarray(boxes, dtype=np.float32)[s],
            context=self._lip_sync_context(view, span, fps),
            face_vector=self._face_vector(work, view.track.track_id),
            head_pose=view.signals[s, HEAD_POSE],
        )
        return judge(self._lip_sync, mouth, audio)

    def _face_vector(self, work: VideoWork, track_id: str) -> np.ndarray | None:
        if self._face_vectors is None:
            return None
        vector = track_identity_vector(work, track_id, self._face_vectors)
        return None if vector is None else np.asarray(vector.vector, dtype=np.float32)

    @staticmethod
    def _lip_sync_context(view: "TrackView", span: FrameSpan, fps: float) -> MouthTrack:
        """The segment's track up to ``LIP_SYNC_CONTEXT_S`` on each side, within its shot (NaN
        where the face is absent): a 2-4 s segment alone holds a few syllables, too few to tell
        its own voice from a dubbed one reliably."""
        pad = round(LIP_SYNC_CONTEXT_S * fps)
        c = slice(max(0, span.first - pad), min(len(view.present), span.end + pad))
        return MouthTrack(
            mouth_open=view.signals[c, Signal.MOUTH_OPEN],
            jaw_open=view.signals[c, Signal.JAW_OPEN],
            mouth_dark=view.signals[c, Signal.MOUTH_DARK],
            first_frame=view.first + c.start,
            fps=fps,
            head_pose=view.signals[c, HEAD_POSE],
        )

    def _segment(
        self, work: VideoWork, view: "TrackView", span: FrameSpan, index: int, states: np.ndarray, fps: float
    ) -> SegmentRow:
        """The segment row of ``span`` of one track (frames of its shot), with its smoothed ``states``."""
        track, shot, p_speak, vad, signals = view.track, view.shot, view.p_speak, view.vad, view.signals
        s = slice(span.first, span.end)
        codes = states[s]
        fractions = np.bincount(codes, minlength=3) / len(codes)
        dominant = segment_state(codes, max(1, round(self.min_state_s * fps)))
        a = int(round(span.first / fps * AUDIO_SAMPLE_RATE))
        b = int(round(span.end / fps * AUDIO_SAMPLE_RATE))
        audio = view.audio[a:b]
        offset, confidence = estimate_av_offset(
            signals[s, Signal.MOUTH_OPEN],
            audio,
            fps,
            self.sync_max_offset_frames,
            signals[s, Signal.JAW_OPEN],
            mouth_dark=signals[s, Signal.MOUTH_DARK],
        )
        t_start = shot.t_start + span.first / fps
        t_end = shot.t_start + span.end / fps
        return SegmentRow(
            segment_id=f"{track.track_id}-g{index:03d}",
            video_id=work.video_id,
            shot_id=shot.shot_id,
            track_id=track.track_id,
            state=state_name(dominant),
            t_start=t_start,
            t_end=t_end,
            first_frame=int(round(shot.t_start * fps)) + span.first,
            n_frames=span.length,
            fps=fps,
            speaking_frac=float(fractions[PerformerState.SPEAKING]),
            listening_frac=float(fractions[PerformerState.LISTENING]),
            idle_frac=float(fractions[PerformerState.IDLE]),
            n_state_changes=len(runs(codes)) - 1,
            vad_frac=float(np.mean(vad[s] >= self.vad_threshold)),
            speaking_prob_mean=float(np.nanmean(p_speak[s])),
            sync_offset_frames=float(offset),  # the declared float: the same after the record is stored and read
            sync_confidence=confidence,
            audio_source=_audio_source(dominant, fractions),
            audio_loudness_db=loudness_db(audio),
            audio_clipping_frac=clipping_fraction(audio),
            transcript=_transcript(work.speech.words, t_start, t_end),
            face_height_px=track.face_height_px,
            sharpness=shot.sharpness,
        )


@dataclass
class TrackView:
    """One usable track with its slices of the video's voice activity and audio, and its speaking
    probability (lowered where association finds someone else's voice)."""

    track: TrackRow
    shot: ShotRow
    first: int  # the track's first frame in the video
    present: np.ndarray
    vad: np.ndarray
    signals: np.ndarray
    audio: np.ndarray
    p_speak: np.ndarray


def drop_foreign(views: list[TrackView], foreign: list[list[Any]]) -> None:
    """Lips under another face's voice are not speaking: the speaking probability of each
    [track id, first, end frame of the track] span drops to 0."""
    by_id = {v.track.track_id: v for v in views}
    for track_id, first, end in foreign:
        by_id[track_id].p_speak[first:end] = 0.0


def _audio_source(dominant: PerformerState, fractions: np.ndarray) -> str:
    if dominant == PerformerState.SPEAKING and fractions[PerformerState.LISTENING] == 0:
        return "own"
    return "mix"


def _transcript(words: list[TranscribedWord] | None, t_start: float, t_end: float) -> str | None:
    if not words:
        return None
    inside = [w.text for w in words if t_start <= (w.t_start + w.t_end) / 2 < t_end]
    return " ".join(inside) if inside else ""
