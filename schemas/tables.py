"""The run's manifest tables: one dataclass per row type, and the Arrow schemas derived from them.

A column is defined once, here: its name, its Python type and its Arrow type (``Annotated``), and
a comment on its meaning; ``TABLES`` (what the Parquet files are written with) is derived from the
dataclasses. Files live under ``OUT/manifest/<table>/part-*.parquet``. Times are seconds of the
source video. Ids are lowercase hex or ``<video_id>-<kind><n>`` strings. Columns marked "scores"
are kept as numbers so that filters can be re-tuned by query later. Every column is nullable.
"""

import dataclasses
import typing
from dataclasses import dataclass
from typing import Annotated

import pyarrow as pa

from schemas.version import SCHEMA_VERSION

Str = Annotated[str | None, pa.string()]
F32 = Annotated[float | None, pa.float32()]
F64 = Annotated[float | None, pa.float64()]
I32 = Annotated[int | None, pa.int32()]
I64 = Annotated[int | None, pa.int64()]
Bool = Annotated[bool | None, pa.bool_()]
StrList = Annotated[list[str] | None, pa.list_(pa.string())]
F32List = Annotated[list[float] | None, pa.list_(pa.float32())]


def arrow_schema(row: type, table: str) -> pa.Schema:
    """The Arrow schema of a row dataclass: each field's ``Annotated`` Arrow type, in field order."""
    hints = typing.get_type_hints(row, include_extras=True)
    return pa.schema(
        [(f.name, typing.get_args(hints[f.name])[1]) for f in dataclasses.fields(row)],
        metadata={"schema_version": SCHEMA_VERSION, "table": table},
    )


@dataclass
class VideoRow:
    uri: Str = None  # one row per input URI
    video_id: Str = None  # sha256 of the content, first 16 hex digits; null when unreadable
    state: Str = None  # kept | rejected | failed
    stage: Str = None  # stage that rejected/failed it (null when kept)
    reason: Str = None  # schemas.reasons.Reason code (null when kept)
    detail: Str = None
    duplicate_of: Str = None  # another input URI with the same content, processed once
    size_bytes: I64 = None
    container: Str = None
    duration_s: F64 = None
    width: I32 = None  # displayed width (after rotation)
    height: I32 = None
    rotation: I32 = None
    fps: F64 = None
    variable_fps: Bool = None
    n_frames: I64 = None
    video_codec: Str = None
    has_audio: Bool = None
    audio_codec: Str = None
    audio_sample_rate: I32 = None
    audio_channels: I32 = None
    n_shots: I32 = None
    n_tracks: I32 = None
    n_segments: I32 = None
    kept_seconds: F64 = None


@dataclass
class RejectionRow:
    entity: Str = None  # video | shot | track | segment
    entity_id: Str = None
    video_id: Str = None
    uri: Str = None
    state: Str = None  # rejected | failed
    stage: Str = None
    reason: Str = None
    detail: Str = None
    t_start: F64 = None
    t_end: F64 = None


@dataclass
class ShotRow:
    shot_id: Str = None
    video_id: Str = None
    shot_index: I32 = None
    t_start: F64 = None
    t_end: F64 = None
    n_frames: I32 = None  # analysis frames
    usable: Bool = None
    reason: Str = None
    # quality scores, means over the shot's analysis frames
    sharpness: F32 = None  # variance of the Laplacian on the grey thumbnail
    brightness: F32 = None  # mean luma 0..255
    contrast: F32 = None  # luma standard deviation
    colorfulness: F32 = None  # Hasler-Suesstrunk
    border_frac: F32 = None  # fraction of the frame that is black bars (edge lines dark and flat)
    frozen_frac: F32 = None  # fraction of frames identical to the previous one
    motion: F32 = None  # mean absolute frame difference, 0..255
    noise: F32 = None  # image noise standard deviation in grey levels (Immerkaer)
    audio_loudness_db: F32 = None  # RMS dBFS of the shot's audio; null in a video without a usable shot (not decoded)
    audio_clipping_frac: F32 = None  # fraction of samples at full scale
    n_faces_max: I32 = None
    performer_track_id: Str = None
    # burned-in text (annotators.shots.text_overlay), over the OCR-sampled frames: those showing a face, read
    # only in the rows of the faces' crops (visual_analysis.text_region); null when none was sampled
    text_area_frac: F32 = None  # mean share of the frame under the text boxes found there
    text_frames_frac: F32 = None  # share of sampled frames with any text found there
    text_on_crop_frac: F32 = None  # the performer's: share of its sampled frames with text over its crop
    # the analysis cascade (visual_analysis.cascade): the share of the shot's frames the landmarker ran on,
    # and the evidence of its coarse frames, the faces the landmarker confirmed on their crops
    # (annotators.face.coarse_evidence; null without a coarse frame in the shot), on which the performer
    # filter judges a shot it has no tracks for
    landmarked_frac: F32 = None
    coarse_face_px: F32 = None  # median forehead-to-chin height in source pixels of the largest face, where one is
    coarse_face_frac: F32 = None  # share of the shot's coarse frames with a face
    coarse_frontal_frac: F32 = None  # share of those whose largest face is within the frontal limits
    coarse_competing_frac: F32 = None  # share of coarse frames with a second face of comparable size


@dataclass
class TrackRow:
    track_id: Str = None
    video_id: Str = None
    shot_id: Str = None
    t_start: F64 = None
    t_end: F64 = None
    n_frames: I32 = None  # analysis frames with the face present
    face_height_px: F32 = None  # median face box height in source pixels
    coverage: F32 = None  # fraction of the shot's frames with this face present
    frontal_frac: F32 = None  # fraction of present frames with |yaw| and |pitch| under the limit
    yaw_median: F32 = None
    pitch_median: F32 = None
    x_center: F32 = None  # median horizontal face centre, 0 (left) .. 1 (right)
    usable: Bool = None
    reason: Str = None
    identity_id: Str = None
    detected_on_tile: Bool = None  # found only by the small-face tiling pass
    text_on_crop_frac: F32 = None  # share of its OCR-sampled frames with text over its clip crop's band across the face
    # the state of each analysis frame of its shot, from the shot's first: i idle, s speaking, l listening, . face
    # absent (schemas.performer_states.frame_state_letters); null when the states stage did not run
    frame_states: Str = None


@dataclass
class SegmentRow:
    segment_id: Str = None  # <track_id>-g<n>
    video_id: Str = None
    shot_id: Str = None
    track_id: Str = None
    identity_id: Str = None
    state: Str = None  # dominant state: speaking | listening | idle
    t_start: F64 = None
    t_end: F64 = None
    first_frame: I32 = None  # analysis frame index within the video
    n_frames: I32 = None  # analysis frames
    fps: F32 = None  # analysis frame rate
    speaking_frac: F32 = None
    listening_frac: F32 = None
    idle_frac: F32 = None
    n_state_changes: I32 = None
    vad_frac: F32 = None  # fraction of frames with voice activity
    speaking_prob_mean: F32 = None
    sync_offset_frames: F32 = None  # audio-visual offset (positive: audio lags video)
    sync_confidence: F32 = None
    # higher: lips follow the audio (annotators.speaking.lip_sync); the score the verdict read: the mean of
    # the track's speaking segments' (annotators.speaking.track_sync; states.lip_sync_per_track); null: no evidence
    lip_sync_score: F32 = None
    # the segment's own score, before its track's were pooled (null: no evidence, or before schema 1.7)
    lip_sync_segment_score: F32 = None
    # av_sync (offline estimator) | learned_sync | learned_av_sync | learned_av_face_voice
    # | learned_av_face_voice_head | syncnet
    lip_sync_model: Str = None
    # in_sync | uncertain (kept, flagged: between the two thresholds, or no score) | out_of_sync
    # (rejected unless states.reject_out_of_sync is off); null: not a speaking segment, or a
    # manifest written before schema 1.4
    sync_verdict: Str = None
    # A segment of another video with the same pictures and other audio (dedup): one of the two is
    # dubbed; this one's verdict was no better than the other's (both flagged when equal)
    picture_twin_of: Str = None
    audio_source: Str = None  # own | mix | partner_track
    audio_loudness_db: F32 = None
    audio_clipping_frac: F32 = None
    turn_index: I32 = None  # speech turn it overlaps most (null when idle)
    partner_segment_id: Str = None  # listening: the speaking segment it reacts to
    transcript: Str = None  # words heard during the segment, when ASR ran
    face_height_px: F32 = None
    sharpness: F32 = None
    caption: Str = None  # short caption
    reference_ids: StrList = None
    duplicate_of: Str = None
    shard: Str = None  # shard file (relative to the run directory) holding the sample
    key: Str = None  # sample key inside the shard


@dataclass
class PairRow:
    pair_id: Str = None
    video_id: Str = None
    speaking_segment_id: Str = None
    listening_segment_id: Str = None
    relation: Str = None  # same_span | following | preceding
    overlap_s: F64 = None  # shared time (same_span) or gap between them (following/preceding)
    speaker_track_id: Str = None
    listener_track_id: Str = None
    # The listening segment's video: video_id within a video; another recording of the same
    # conversation (a second camera or file, found by voice and audio alignment) across videos.
    listener_video_id: Str = None
    offset_s: F64 = None  # listener's video time minus the speaker's for one moment (0 within a video)
    alignment_peak: F32 = None  # across videos: the two audios' correlation at that offset


@dataclass
class IdentityRow:
    identity_id: Str = None
    n_tracks: I32 = None
    n_videos: I32 = None
    n_segments: I32 = None
    seconds: F64 = None
    descriptor: Str = None  # arcface | fallback
    cohesion: F32 = None  # mean similarity of members to the centroid
    margin: F32 = None  # centroid similarity gap to the nearest other identity
    matched_from: Str = None  # identity id of an earlier run this one was matched to
    strength: Str = None  # strong (learned recogniser) | weak (no-weights descriptor)
    centroid: F32List = None  # unit vector; a later run matches its identities against these


@dataclass
class ReferenceRow:
    reference_id: Str = None
    identity_id: Str = None
    video_id: Str = None
    track_id: Str = None
    t: F64 = None
    kind: Str = None  # face | body | global
    view_bin: Str = None
    expression_bin: Str = None
    score: F32 = None
    sharpness: F32 = None
    face_height_px: F32 = None
    yaw: F32 = None
    pitch: F32 = None


@dataclass
class ShardRow:
    shard: Str = None  # name relative to shards/
    path: Str = None  # relative to the run directory
    bucket: Str = None
    n_samples: I32 = None
    bytes: I64 = None
    sha256: Str = None
    index_path: Str = None


ROW_TYPES: dict[str, type] = {
    "videos": VideoRow,
    "rejections": RejectionRow,
    "shots": ShotRow,
    "tracks": TrackRow,
    "segments": SegmentRow,
    "pairs": PairRow,
    "identities": IdentityRow,
    "references": ReferenceRow,
    "shards": ShardRow,
}
TABLES: dict[str, pa.Schema] = {name: arrow_schema(row, name) for name, row in ROW_TYPES.items()}
