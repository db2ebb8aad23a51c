"""Encode every kept segment of a video into its WebDataset sample members.

Clips are cut only for kept segments (the costly encode happens once per sample), square around
the performer; per-frame arrays are resampled from the analysis frames to the clip's frames by
time. The worker writes a video's members to one archive in the run store; the record keeps
only keys and sizes, from which the shard plan is made, and shard packing tasks copy the bytes.
"""

from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar, Literal

import numpy as np

from annotators.audio.overlap_separation import separate_overlaps
from annotators.audio.voice_channels import (
    FrameVoices,
    VoiceChannels,
    from_states,
    from_turns,
    lips_moving,
    split_channels,
)
from annotators.face.face_signals import BLENDSHAPE_NAMES, Signal
from annotators.models.speech_separator import SPEECH_SEPARATOR_MODEL_NAME, SpeechSeparator
from annotators.models.voice_embedder import VOICE_ENCODER_MODEL_NAME, VoiceEmbedder
from curation.dataset.shard_writer import ShardSettings
from curation.ingest.local_copy import local_media
from curation.media.clip_encoder import CropBox, encode_clip, performer_crop
from curation.models.model_choice import ModelChoice
from curation.models.model_store import is_available
from curation.runtime.device import DeviceChoice, resolve_device
from curation.runtime.products import SampleEntry, SampleSet, SegmentReference
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork
from curation.storage_formats import json_bytes, npz_bytes, wav_bytes
from curation.store.artefacts import BlobArchive, write_blobs
from curation.store.stored_audio import audio_pcm16
from schemas.performer_states import PerformerState, state_name
from schemas.sample_layout import (
    AUDIO_SAMPLE_RATE,
    OWN_AUDIO_MEMBER,
    PARTNER_AUDIO_MEMBER,
    reference_member,
    safe_key,
)
from schemas.sample_record import SampleChannels, SampleProvenance, SampleRecord, SampleReference, SampleScores
from schemas.tables import SegmentRow, ShotRow
from schemas.version import SCHEMA_VERSION


@dataclass
class SampleWriterStage(Stage):
    name: ClassVar[str] = "samples"
    needs: ClassVar[tuple[str, ...]] = ("audio", "analysis", "segments")
    adds: ClassVar[tuple[str, ...]] = ("samples", "segments.key")
    resources: ClassVar[Resources] = Resources(cpus=1)
    # 2: overlaps read from the lips on the states path; overlaps split by the separation model
    version: ClassVar[int] = 2

    clip_size: int = field(default=256, metadata={"range": (32, 2048)})
    clip_fps: float = field(default=25.0, metadata={"range": (1, 60)})
    crop_scale: float = field(default=2.6, metadata={"range": (1, 10)})
    crf: int = field(default=23, metadata={"range": (0, 51)})
    max_kbps: int = field(default=1500, metadata={"range": (50, 100000)})
    # Shard packing (after the last block) reads these two.
    shard_target_bytes: int = field(default=1_000_000_000, metadata={"range": (1, None)})
    shard_bucket_by: list[str] = field(default_factory=list)
    # Overlapping speech split between the channels by the separation model (``auto``: when fetched).
    separation: Literal["auto", "on", "off"] = "auto"
    device: DeviceChoice = "auto"  # the separation network on a GPU when the worker sees one
    # set up by ``setup`` when the separation runs (class defaults, not parameters: no annotation)
    _separator = None
    _embedder = None

    def __post_init__(self) -> None:
        # a misspelt column would bucket every sample under "<name>=None", found only in the shards
        columns = {f.name for f in fields(SegmentRow)}
        unknown = [name for name in self.shard_bucket_by if name not in columns]
        if unknown:
            raise ValueError(f"shard_bucket_by: {unknown} name no column of the segments table; "
                             f"choose from {sorted(columns)}")

    def _separates(self) -> bool:
        return self.separation == "on" or (self.separation == "auto" and is_available(SPEECH_SEPARATOR_MODEL_NAME))

    def model_choices(self) -> list[ModelChoice]:
        if self.separation == "off":
            return []
        if self._separates():
            return [ModelChoice.using("overlapping speech separation", self.name, SPEECH_SEPARATOR_MODEL_NAME),
                    ModelChoice.using("separated voice assignment", self.name, VOICE_ENCODER_MODEL_NAME)]
        return [ModelChoice.instead("overlapping speech separation", self.name, "overlaps kept in both channels",
                                    SPEECH_SEPARATOR_MODEL_NAME, "an overlap frame carries both voices in both wavs")]

    def setup(self) -> None:
        if self._separates():
            self._separator = SpeechSeparator(device=resolve_device(self.device))
            self._embedder = VoiceEmbedder()
            self._separator.setup()
            self._embedder.setup()

    def shard_settings(self) -> ShardSettings:
        """How the run packs this stage's samples into shards (after the last block)."""
        return ShardSettings(target_bytes=self.shard_target_bytes, bucket_by=list(self.shard_bucket_by))

    def process(self, work: VideoWork) -> VideoWork:
        entries: list[SampleEntry] = []
        blobs: dict[str, bytes] = {}
        shots = {s.shot_id: s for s in work.shots}
        pcm = audio_pcm16(work)
        settings = self.shard_settings()
        with _ReferenceImages(work.run_uri) as reference_images:
            for segment in work.segments:
                key = safe_key(segment.segment_id)
                segment.key = key
                members = self._members(work, segment, shots[segment.shot_id], key, pcm, reference_images)
                sizes = {ext: len(data) for ext, data in members.items()}
                entry = SampleEntry(key, segment.segment_id, settings.bucket_of(segment), sizes, stem=key)
                entries.append(entry)
                blobs.update({entry.member_name(ext): data for ext, data in members.items()})
        archive = write_blobs(work.run_uri, work.video_id or "", "samples", blobs)
        work.samples = SampleSet(archive=archive, entries=entries)
        return work

    def _members(
        self,
        work: VideoWork,
        segment: SegmentRow,
        shot: ShotRow,
        key: str,
        pcm: np.ndarray,
        reference_images: "_ReferenceImages",
    ) -> dict[str, bytes]:
        analysis = work.analysis
        features = work.track_features[segment.track_id]
        duration = segment.t_end - segment.t_start
        n_clip = int(round(duration * self.clip_fps))
        # analysis-frame index (within the shot's arrays) shown at each clip frame
        times = segment.t_start + np.arange(n_clip) / self.clip_fps
        index = np.clip(
            np.round((times - shot.t_start) * analysis.fps).astype(int), 0, len(features) - 1
        )
        present = features.present[index]
        boxes = features.face_box[index].astype(np.float32)
        median_box = tuple(float(v) for v in np.nanmedian(boxes[present], axis=0))
        facts = work.probed()
        width, height = facts.width, facts.height
        crop = performer_crop(median_box, width, height, self.crop_scale)
        source = local_media(work)
        clip = encode_clip(
            source, segment.t_start, duration, crop, self.clip_size, self.clip_fps, self.crf, self.max_kbps
        )
        a = int(round(segment.t_start * AUDIO_SAMPLE_RATE))
        audio = np.zeros(int(round(duration * AUDIO_SAMPLE_RATE)), dtype=np.int16)
        chunk = pcm[a : a + len(audio)]
        audio[: len(chunk)] = chunk
        signals = features.signals[index]
        video_index = np.clip(np.round(times * analysis.fps).astype(int), 0, max(0, analysis.n_frames - 1))
        vad = work.speech.vad_prob if work.speech is not None else np.zeros(analysis.n_frames, np.float16)
        # A track the states stage did not label (a workflow without it) reads as idle and silent.
        n_track = len(features)
        states = features.state if features.state is not None else np.zeros(n_track, np.int8)
        speaking_prob = features.speaking_prob if features.speaking_prob is not None else np.zeros(n_track, np.float16)
        clip_states = states[index].astype(np.int8)
        clip_vad = np.asarray(vad, np.float16)[video_index] if len(vad) else np.zeros(n_clip, np.float16)
        arrays = {
            "state": clip_states,
            "present": present,
            "head_pose": signals[:, [Signal.YAW, Signal.PITCH, Signal.ROLL]].astype(np.float16),
            "mouth_open": signals[:, Signal.MOUTH_OPEN].astype(np.float16),
            "blendshapes": features.blendshapes[index].astype(np.float16),
            "face_box": _to_clip_coords(boxes, crop, width, height).astype(np.float16),
            "vad": clip_vad,
            "speaking_prob": speaking_prob[index].astype(np.float16),
        }
        voices = _frame_voices(work, segment, clip_states, times, index, vad_at_frames(clip_vad), self.clip_fps)
        channels, separated = self._channels(audio, voices)
        arrays.update(own_voice=voices.own, partner_voice=voices.partner, overlap=voices.overlap)
        references = (work.segment_references or {}).get(segment.segment_id, [])
        record = self._record(work, segment, key, clip_states, n_clip, references)
        record.channels = SampleChannels(voices.source, channels.separation, separated, int(voices.own.sum()),
                                         int(voices.partner.sum()), int(voices.overlap.sum()))
        members = {
            "mp4": clip,
            "wav": wav_bytes(audio, AUDIO_SAMPLE_RATE),
            OWN_AUDIO_MEMBER: wav_bytes(channels.own, AUDIO_SAMPLE_RATE),
            PARTNER_AUDIO_MEMBER: wav_bytes(channels.partner, AUDIO_SAMPLE_RATE),
            "npz": npz_bytes(arrays),
            "json": json_bytes(asdict(record)),
            "txt": (segment.caption or "").encode("utf-8"),
        }
        for i, ref in enumerate(references):
            members[reference_member(i)] = reference_images.get(ref)
        return members

    def _channels(self, audio: np.ndarray, voices: FrameVoices) -> tuple[VoiceChannels, int]:
        """The two channels cut by the frame voices, their overlap runs split by the separation
        model when it runs; and how many runs it split."""
        channels = split_channels(audio, self.clip_fps, AUDIO_SAMPLE_RATE, voices)
        if self._separator is None or self._embedder is None or not voices.overlap.any():
            return channels, 0
        return separate_overlaps(audio, self.clip_fps, AUDIO_SAMPLE_RATE, channels, self._separator.separate,
                                 self._embedder.embed, SPEECH_SEPARATOR_MODEL_NAME)

    def _record(
        self,
        work: VideoWork,
        segment: SegmentRow,
        key: str,
        states: np.ndarray,
        n_clip: int,
        references: list[SegmentReference],
    ) -> SampleRecord:
        timeline: list[list[Any]] = []
        for code in states:
            if timeline and timeline[-1][0] == state_name(code):
                timeline[-1][2] += 1
            else:
                timeline.append([state_name(code), sum(t[2] for t in timeline), 1])
        captioned = (work.captions or {}).get(segment.segment_id)
        return SampleRecord(
            schema_version=SCHEMA_VERSION,
            key=key,
            segment_id=segment.segment_id,
            video_id=segment.video_id,
            track_id=segment.track_id,
            identity_id=segment.identity_id,
            state=segment.state,
            t_start=segment.t_start,
            t_end=segment.t_end,
            fps=self.clip_fps,
            n_frames=n_clip,
            size=self.clip_size,
            audio_source=segment.audio_source,
            partner_segment_id=segment.partner_segment_id,
            sync_verdict=segment.sync_verdict,
            picture_twin_of=segment.picture_twin_of,
            state_timeline=timeline,
            state_codes={s.name.lower(): int(s) for s in PerformerState},
            # the segment row's scores, by the names the record declares
            scores=SampleScores(**{f.name: getattr(segment, f.name) for f in fields(SampleScores)}),
            transcript=segment.transcript,
            annotation=captioned.annotation if captioned is not None else None,
            caption=captioned.caption if captioned is not None else {"short": segment.caption},
            references=[
                SampleReference(reference_member(i), r.reference_id, r.kind, r.view_bin, r.expression_bin,
                                r.video_id, r.track_id, r.t, r.score)
                for i, r in enumerate(references)
            ],
            blendshape_names=list(BLENDSHAPE_NAMES),
            provenance=SampleProvenance(work.uri, segment.t_start, segment.t_end),
        )


def vad_at_frames(vad: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Voice activity per clip frame from its probability (Silero's own decision threshold)."""
    return np.asarray(vad, np.float32) > threshold


def _frame_voices(
    work: VideoWork, segment: SegmentRow, states: np.ndarray, times: np.ndarray, index: np.ndarray,
    voiced: np.ndarray, fps: float,
) -> FrameVoices:
    """Whose voice each clip frame of the segment carries: from named speaker turns when the
    performer's face owns some of them, else from the labelled states of the shot's faces."""
    speech, association = work.speech, work.voice_faces
    if speech is not None and speech.diarized and speech.turns and association is not None \
            and association.voices == "diarization":
        faces = {span.face for span in association.spans if span.track_id == segment.track_id}
        own_speakers = {voice for voice, face in association.owners.items() if face in faces}
        if own_speakers:
            return from_turns(times, 1.0 / fps, speech.turns, own_speakers)
    others = np.zeros(len(states), bool)
    others_lips = np.zeros(len(states), bool)
    for track in work.tracks:
        if track.track_id == segment.track_id or track.shot_id != segment.shot_id:
            continue
        features = work.track_features.get(track.track_id)
        if features is None or features.state is None or not len(features.state):
            continue
        other = features.state
        at = np.minimum(index, len(other) - 1)
        speaking = other[at] == int(PerformerState.SPEAKING)
        others |= speaking
        others_lips |= ~speaking & lips_moving(features.signals[at, Signal.MOUTH_OPEN], features.present[at])
    own = work.track_features[segment.track_id]
    own_lips = lips_moving(own.signals[index, Signal.MOUTH_OPEN], own.present[index])
    return from_states(states, voiced, others, own_lips, others_lips)


def _to_clip_coords(boxes: np.ndarray, crop: CropBox, width: int, height: int) -> np.ndarray:
    scale = np.array([width, height, width, height], dtype=np.float32)
    offset = np.array([crop.x, crop.y, crop.x, crop.y], dtype=np.float32)
    return (boxes * scale - offset) / crop.side


class _ReferenceImages:
    """Reference JPEGs come from the crop archives of any video of the run (other videos first):
    each archive is read once per video's samples, on whichever node encodes them."""

    def __init__(self, run_uri: str) -> None:
        self._run_uri = run_uri
        self._open: dict[str, BlobArchive] = {}

    def __enter__(self) -> "_ReferenceImages":
        return self

    def __exit__(self, *_exc: object) -> None:
        for archive in self._open.values():
            archive.__exit__()

    def get(self, reference: SegmentReference) -> bytes:
        if reference.archive not in self._open:
            self._open[reference.archive] = BlobArchive(self._run_uri, reference.archive)
        return self._open[reference.archive].get(reference.jpeg_name)
