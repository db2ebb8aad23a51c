"""Label every frame of each usable track speaking / listening / idle and cut training segments.

Per track: the active-speaker annotator turns mouth motion plus voice activity into a speaking
probability. Then, across the video (``voice_faces``): when two or more people have moving lips
under a voice, each voice (diarized speaker, else a voice-embedding or ``voice_profile`` cluster)
is matched to the face it is in sync with over the whole video, and lips moving under a voice
owned by another face drop to "not speaking", hence listening
(``annotators.speaking.voice_face_association``; the association is the ``voice_faces`` product,
which ``voice_identities`` revisits with the whole run's evidence). The rest is the labelling of
``annotators.speaking.state_labeller``: per-frame states, segments of
``min_segment_s``..``max_segment_s`` within a shot, rejected short spans, and a lip-sync verdict
per speaking segment (``out_of_sync`` ones rejected, never kept as speaking).
"""

from dataclasses import dataclass, field
from typing import ClassVar, Literal

import numpy as np

from annotators.audio.span_voices import SpanVoices
from annotators.audio.voice_profile import VOICE_DISTANCE_THRESHOLD
from annotators.face.face_signals import Signal
from annotators.identity.track_identity import FaceDescriptorChoice, face_embedder, face_embedder_choice, face_groups
from annotators.models.voice_embedder import CAPPED_VOICE_DISTANCE_THRESHOLD, VOICE_ENCODER_MODEL_NAME
from annotators.speaking.av_sync import sync_in_context
from annotators.speaking.lip_sync import LipSyncModel, lip_sync_choice, lip_sync_maps
from annotators.speaking.state_labeller import StateLabeller, TrackView, drop_foreign
from annotators.speaking.voice_face_association import SYNC_BASELINE, VoicedSpan, foreign_spans, voice_owners
from annotators.timelines.segment_cutter import present_spans
from curation.models.model_choice import ModelChoice
from curation.models.model_store import is_available
from curation.runtime.device import DeviceChoice
from curation.runtime.products import VoiceFaces
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork
from curation.store.stored_audio import audio_samples
from schemas.voice_span import VoiceSpan


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
    # 3: voice_faces carries each voice's embedding and the labelling parameters (voice_identities)
    # 4: a sync verdict per speaking segment (in_sync / uncertain kept, out_of_sync rejected) from
    # two thresholds fitted leaving one source out
    # 5: mouth motion never runs ahead of the mouth (annotators/speaking/active_speaker: the centred
    # reading capped by the past-only one), so a listener is not speaking before their turn starts
    # 6: the lip-sync verdict's default where SyncNet is not fetched is learned_av_sync (the mean of the
    # learned network's score and av_sync's), with its own thresholds
    # 7: a segment in which a voice is heard for a state's minimum length is never idle (a clip whose
    # only speech is a 1.2-s sentence is one speaking segment, not an idle one with speech in it)
    # 8: the default verdict where SyncNet is not fetched is learned_av_face_voice (learned_av_sync plus
    # whether the voice could be the face's: annotators/speaking/face_voice_lip_sync), its own thresholds
    # 9: the verdict of a speaking segment reads the mean score of its track's speaking segments
    # (annotators/speaking/track_sync; lip_sync_per_track), the default model's thresholds refitted on it
    # 10: the default verdict where SyncNet is not fetched is learned_av_face_voice_head (learned_av_face_voice
    # plus whether the head moves with the voice: annotators/speaking/head_motion_sync), its own thresholds
    version: ClassVar[int] = 10

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
    # Lip-sync verdict of speaking segments: auto = SyncNet when its weights were fetched, else
    # learned_av_face_voice_head (annotators/speaking/lip_sync.AUTO_WITHOUT_SYNCNET). Below lip_sync_threshold a
    # segment is out_of_sync (rejected), at or above lip_sync_accept_threshold in_sync, between them
    # uncertain (kept, flagged); both default to
    # the model's own (annotators/speaking/lip_sync). reject_out_of_sync=false keeps out_of_sync
    # segments with their verdict (bench dubbing scores every segment that way).
    lip_sync_model: Literal[
        "auto", "av_sync", "learned_sync", "learned_av_sync", "learned_av_face_voice", "learned_av_face_voice_head",
        "syncnet",
    ] = "auto"
    lip_sync_threshold: float | None = field(default=None, metadata={"range": (-100, 100)})
    lip_sync_accept_threshold: float | None = field(default=None, metadata={"range": (-100, 100)})
    reject_out_of_sync: bool = True
    # Judge a track's speaking segments together (annotators/speaking/track_sync): each verdict reads the
    # mean score of the track's speaking segments, each weighted by its voiced speaking frames; false:
    # each segment's own score (kept in lip_sync_segment_score either way).
    lip_sync_per_track: bool = True
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
        self._labeller = StateLabeller(
            stage=self.name,
            active_speaker=self.active_speaker,
            mouth_window_s=self.mouth_window_s,
            mouth_highpass_s=self.mouth_highpass_s,
            mouth_motion_threshold=self.mouth_motion_threshold,
            vad_threshold=self.vad_threshold,
            speaking_threshold=self.speaking_threshold,
            min_state_s=self.min_state_s,
            min_segment_s=self.min_segment_s,
            max_segment_s=self.max_segment_s,
            max_face_gap_s=self.max_face_gap_s,
            sync_max_offset_frames=self.sync_max_offset_frames,
            lip_sync_model=self.lip_sync_model,
            lip_sync_threshold=self.lip_sync_threshold,
            lip_sync_accept_threshold=self.lip_sync_accept_threshold,
            reject_out_of_sync=self.reject_out_of_sync,
            lip_sync_per_track=self.lip_sync_per_track,
        )
        self._labeller.setup()
        self._embedder = face_embedder(self.face_descriptor, self.device) if self.voice_faces else None
        embedder = None
        if self.voice_faces and self._uses_voice_encoder():
            from annotators.models.voice_embedder import VoiceEmbedder

            embedder = VoiceEmbedder()
        self._span_voices = SpanVoices(embedder, self.voice_embedding_threshold, self.voice_distance_threshold)

    @property
    def lip_sync(self) -> LipSyncModel:
        return self._labeller.lip_sync

    def _uses_voice_encoder(self) -> bool:
        return self.voice_embedder == "resemblyzer" or (
            self.voice_embedder == "auto" and is_available(VOICE_ENCODER_MODEL_NAME)
        )

    def model_choices(self) -> list[ModelChoice]:
        if not self.voice_faces:
            return [lip_sync_choice(self.name, self.lip_sync_model), *lip_sync_maps(self.name, self.lip_sync_model)]
        voices = (
            ModelChoice.using("voice grouping", self.name, VOICE_ENCODER_MODEL_NAME)
            if self._uses_voice_encoder()
            else ModelChoice.instead("voice grouping", self.name, "the mean-MFCC voice profile",
                                     VOICE_ENCODER_MODEL_NAME, "voices of 2-s spans are told apart less reliably")
        )
        return [face_embedder_choice("face grouping", self.name, self.face_descriptor), voices,
                lip_sync_choice(self.name, self.lip_sync_model), *lip_sync_maps(self.name, self.lip_sync_model)]

    def process(self, work: VideoWork) -> VideoWork:
        fps = work.analysis.fps
        audio = audio_samples(work)
        views = self._labeller.track_views(work, audio, fps)
        if self.voice_faces and len(views) >= 2:
            self._drop_foreign_voices(work, views, audio, fps)
        self._labeller.label(work, views, audio, fps)
        return work

    def _drop_foreign_voices(self, work: VideoWork, views: list[TrackView], audio: np.ndarray, fps: float) -> None:
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
        n_faces = len({faces[v.track.track_id] for v, _, _ in spans})
        if n_faces < 2:
            return
        times = [((v.first + a) / fps, (v.first + b) / fps) for v, a, b in spans]
        voices = self._span_voices.voices(times, audio, n_faces, work.speech.diarization, work.speech.turns)
        voiced = [
            VoicedSpan(
                view.track.track_id,
                faces[view.track.track_id],
                voice,
                a,
                b,
                sync_in_context(
                    view.signals[a:b, Signal.MOUTH_OPEN],
                    view.signals[a:b, Signal.JAW_OPEN],
                    audio,
                    view.first + a,
                    fps,
                    mouth_dark=view.signals[a:b, Signal.MOUTH_DARK],
                ),
            )
            for (view, a, b), voice in zip(spans, voices, strict=True)
        ]
        owners = voice_owners(voiced, self.voice_sync_baseline)
        foreign = [[s.track_id, s.first, s.end] for s in foreign_spans(voiced, owners)]
        drop_foreign(views, foreign)
        work.voice_faces = VoiceFaces(
            voices=self._span_voices.source(work.speech.diarization),
            owners={str(v): str(f) for v, f in owners.items()},
            spans=[
                VoiceSpan(s.track_id, str(s.face), None if s.voice is None else str(s.voice), s.first, s.end, s.sync)
                for s in voiced
            ],
            foreign=foreign,
            sync_baseline=self.voice_sync_baseline,
            voice_vectors={
                str(v): vector.astype(float).tolist()
                for v, vector in self._span_voices.vectors(times, audio, voices).items()
            },
            labelling=self._labeller.settings(),
        )
