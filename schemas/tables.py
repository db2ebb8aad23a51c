"""Arrow schemas of the run's Parquet manifests (``OUT/manifest/<table>.parquet``).

Times are seconds of the source video. Ids are lowercase hex or ``<video_id>-<kind><n>`` strings.
Columns marked "scores" are kept as numbers so that filters can be re-tuned by query later.
"""

import pyarrow as pa

from schemas.version import SCHEMA_VERSION

_f32 = pa.float32()
_f64 = pa.float64()
_str = pa.string()
_i32 = pa.int32()
_i64 = pa.int64()

VIDEOS = pa.schema(
    [
        ("uri", _str),  # one row per input URI
        ("video_id", _str),  # sha256 of the content, first 16 hex digits; null when unreadable
        ("state", _str),  # kept | rejected | failed
        ("stage", _str),  # stage that rejected/failed it (null when kept)
        ("reason", _str),  # schemas.reasons.Reason code (null when kept)
        ("detail", _str),
        ("duplicate_of", _str),  # another input URI with the same content, processed once
        ("size_bytes", _i64),
        ("container", _str),
        ("duration_s", _f64),
        ("width", _i32),  # displayed width (after rotation)
        ("height", _i32),
        ("rotation", _i32),
        ("fps", _f64),
        ("variable_fps", pa.bool_()),
        ("n_frames", _i64),
        ("video_codec", _str),
        ("has_audio", pa.bool_()),
        ("audio_codec", _str),
        ("audio_sample_rate", _i32),
        ("audio_channels", _i32),
        ("n_shots", _i32),
        ("n_tracks", _i32),
        ("n_segments", _i32),
        ("kept_seconds", _f64),
    ],
    metadata={"schema_version": SCHEMA_VERSION, "table": "videos"},
)

REJECTIONS = pa.schema(
    [
        ("entity", _str),  # video | shot | track | segment
        ("entity_id", _str),
        ("video_id", _str),
        ("uri", _str),
        ("state", _str),  # rejected | failed
        ("stage", _str),
        ("reason", _str),
        ("detail", _str),
        ("t_start", _f64),
        ("t_end", _f64),
    ],
    metadata={"schema_version": SCHEMA_VERSION, "table": "rejections"},
)

SHOTS = pa.schema(
    [
        ("shot_id", _str),
        ("video_id", _str),
        ("shot_index", _i32),
        ("t_start", _f64),
        ("t_end", _f64),
        ("n_frames", _i32),  # analysis frames
        ("usable", pa.bool_()),
        ("reason", _str),
        # quality scores, means over the shot's analysis frames
        ("sharpness", _f32),  # variance of the Laplacian on the grey thumbnail
        ("brightness", _f32),  # mean luma 0..255
        ("contrast", _f32),  # luma standard deviation
        ("colorfulness", _f32),  # Hasler-Suesstrunk
        ("border_frac", _f32),  # fraction of the frame that is black bars
        ("frozen_frac", _f32),  # fraction of frames identical to the previous one
        ("motion", _f32),  # mean absolute frame difference, 0..255
        ("noise", _f32),  # image noise standard deviation in grey levels (Immerkaer)
        ("audio_loudness_db", _f32),  # RMS dBFS of the shot's audio
        ("audio_clipping_frac", _f32),  # fraction of samples at full scale
        ("n_faces_max", _i32),
        ("performer_track_id", _str),
    ],
    metadata={"schema_version": SCHEMA_VERSION, "table": "shots"},
)

TRACKS = pa.schema(
    [
        ("track_id", _str),
        ("video_id", _str),
        ("shot_id", _str),
        ("t_start", _f64),
        ("t_end", _f64),
        ("n_frames", _i32),  # analysis frames with the face present
        ("face_height_px", _f32),  # median face box height in source pixels
        ("coverage", _f32),  # fraction of the shot's frames with this face present
        ("frontal_frac", _f32),  # fraction of present frames with |yaw| and |pitch| under the limit
        ("yaw_median", _f32),
        ("pitch_median", _f32),
        ("x_center", _f32),  # median horizontal face centre, 0 (left) .. 1 (right)
        ("usable", pa.bool_()),
        ("reason", _str),
        ("identity_id", _str),
        ("detected_on_tile", pa.bool_()),  # found only by the small-face tiling pass
    ],
    metadata={"schema_version": SCHEMA_VERSION, "table": "tracks"},
)

SEGMENTS = pa.schema(
    [
        ("segment_id", _str),  # <track_id>-g<n>
        ("video_id", _str),
        ("shot_id", _str),
        ("track_id", _str),
        ("identity_id", _str),
        ("state", _str),  # dominant state: speaking | listening | idle
        ("t_start", _f64),
        ("t_end", _f64),
        ("first_frame", _i32),  # analysis frame index within the video
        ("n_frames", _i32),  # analysis frames
        ("fps", _f32),  # analysis frame rate
        ("speaking_frac", _f32),
        ("listening_frac", _f32),
        ("idle_frac", _f32),
        ("n_state_changes", _i32),
        ("vad_frac", _f32),  # fraction of frames with voice activity
        ("speaking_prob_mean", _f32),
        ("sync_offset_frames", _f32),  # audio-visual offset (positive: audio lags video)
        ("sync_confidence", _f32),
        ("audio_source", _str),  # own | mix | partner_track
        ("audio_loudness_db", _f32),
        ("audio_clipping_frac", _f32),
        ("turn_index", _i32),  # speech turn it overlaps most (null when idle)
        ("partner_segment_id", _str),  # listening: the speaking segment it reacts to
        ("transcript", _str),  # words heard during the segment, when ASR ran
        ("face_height_px", _f32),
        ("sharpness", _f32),
        ("caption", _str),  # short caption
        ("reference_ids", pa.list_(_str)),
        ("duplicate_of", _str),
        ("shard", _str),  # shard file (relative to the run directory) holding the sample
        ("key", _str),  # sample key inside the shard
    ],
    metadata={"schema_version": SCHEMA_VERSION, "table": "segments"},
)

PAIRS = pa.schema(
    [
        ("pair_id", _str),
        ("video_id", _str),
        ("speaking_segment_id", _str),
        ("listening_segment_id", _str),
        ("relation", _str),  # same_span | following | preceding
        ("overlap_s", _f64),  # shared time (same_span) or gap between them (following/preceding)
        ("speaker_track_id", _str),
        ("listener_track_id", _str),
    ],
    metadata={"schema_version": SCHEMA_VERSION, "table": "pairs"},
)

IDENTITIES = pa.schema(
    [
        ("identity_id", _str),
        ("n_tracks", _i32),
        ("n_videos", _i32),
        ("n_segments", _i32),
        ("seconds", _f64),
        ("descriptor", _str),  # arcface | fallback
        ("cohesion", _f32),  # mean similarity of members to the centroid
        ("margin", _f32),  # centroid similarity gap to the nearest other identity
        ("matched_from", _str),  # identity id of an earlier run this one was matched to
        ("strength", _str),  # strong (learned recogniser) | weak (no-weights descriptor)
        ("centroid", pa.list_(_f32)),  # unit vector; a later run matches its identities against these
    ],
    metadata={"schema_version": SCHEMA_VERSION, "table": "identities"},
)

REFERENCES = pa.schema(
    [
        ("reference_id", _str),
        ("identity_id", _str),
        ("video_id", _str),
        ("track_id", _str),
        ("t", _f64),
        ("kind", _str),  # face | body | global
        ("view_bin", _str),
        ("expression_bin", _str),
        ("score", _f32),
        ("sharpness", _f32),
        ("face_height_px", _f32),
        ("yaw", _f32),
        ("pitch", _f32),
    ],
    metadata={"schema_version": SCHEMA_VERSION, "table": "references"},
)

SHARDS = pa.schema(
    [
        ("shard", _str),  # name relative to shards/
        ("path", _str),  # relative to the run directory
        ("bucket", _str),
        ("n_samples", _i32),
        ("bytes", _i64),
        ("sha256", _str),
        ("index_path", _str),
    ],
    metadata={"schema_version": SCHEMA_VERSION, "table": "shards"},
)

TABLES: dict[str, pa.Schema] = {
    "videos": VIDEOS,
    "rejections": REJECTIONS,
    "shots": SHOTS,
    "tracks": TRACKS,
    "segments": SEGMENTS,
    "pairs": PAIRS,
    "identities": IDENTITIES,
    "references": REFERENCES,
    "shards": SHARDS,
}
