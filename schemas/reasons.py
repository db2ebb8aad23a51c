"""The closed list of reason codes for rejected and failed entities.

Every rejection row carries one of these codes plus a human ``detail``. Adding a code is a schema
change: document it here, with the stage that emits it.
"""

from enum import StrEnum


class Reason(StrEnum):
    # ingest / probe (entity: video)
    EMPTY_FILE = "empty_file"
    MISSING_FILE = "missing_file"
    PERMISSION_DENIED = "permission_denied"
    NOT_A_FILE = "not_a_file"
    NOT_A_VIDEO = "not_a_video"
    UNSUPPORTED_CONTAINER = "unsupported_container"
    UNREADABLE = "unreadable"
    NO_VIDEO_STREAM = "no_video_stream"
    NO_AUDIO_STREAM = "no_audio_stream"
    TOO_SHORT = "too_short"
    TOO_FEW_FRAMES = "too_few_frames"
    RESOLUTION_TOO_LARGE = "resolution_too_large"
    RESOLUTION_TOO_SMALL = "resolution_too_small"
    # visual analysis (entities: video, shot, track)
    SHOT_TOO_SHORT = "shot_too_short"
    LOW_QUALITY = "low_quality"
    NO_FACE = "no_face"
    FACE_TOO_SMALL = "face_too_small"
    MULTIPLE_FACES = "multiple_faces"
    FACE_COVERAGE_LOW = "face_coverage_low"
    FACE_NOT_FRONTAL = "face_not_frontal"
    TRACK_TOO_SHORT = "track_too_short"
    NOT_PERFORMER = "not_performer"
    TEXT_OVERLAY = "text_overlay"
    NO_USABLE_SHOT = "no_usable_shot"
    # speech and segments (entities: segment, video)
    SEGMENT_TOO_SHORT = "segment_too_short"
    NO_SEGMENTS = "no_segments"
    DUPLICATE = "duplicate"
    OUT_OF_SYNC = "out_of_sync"
    # any stage (state failed)
    ERROR = "error"
    TIMEOUT = "timeout"


REASON_DESCRIPTIONS: dict[Reason, str] = {
    Reason.EMPTY_FILE: "the file has zero bytes",
    Reason.MISSING_FILE: "the file disappeared between discovery and reading",
    Reason.PERMISSION_DENIED: "the file cannot be read with this user's permissions",
    Reason.NOT_A_FILE: "the path is not a regular file (directory, device, link loop)",
    Reason.NOT_A_VIDEO: "the bytes are not a media container (image, text, random data)",
    Reason.UNSUPPORTED_CONTAINER: "a playlist/concat/image-sequence format that would open other files",
    Reason.UNREADABLE: "ffprobe/ffmpeg could not parse it (truncated, moov atom missing, corrupt)",
    Reason.NO_VIDEO_STREAM: "audio only",
    Reason.NO_AUDIO_STREAM: "video without audio, and the workflow needs audio",
    Reason.TOO_SHORT: "duration below the workflow minimum",
    Reason.TOO_FEW_FRAMES: "fewer decodable frames than the workflow minimum",
    Reason.RESOLUTION_TOO_LARGE: "width x height above the workflow maximum (decode bomb guard)",
    Reason.RESOLUTION_TOO_SMALL: "short side below the workflow minimum",
    Reason.SHOT_TOO_SHORT: "shot shorter than the minimum shot length",
    Reason.LOW_QUALITY: "a quality score (sharpness, brightness, borders, frozen) past its threshold",
    Reason.NO_FACE: "no face track in the shot",
    Reason.FACE_TOO_SMALL: "the largest face is below the minimum face height",
    Reason.MULTIPLE_FACES: "more than one large face; no single performer dominates",
    Reason.FACE_COVERAGE_LOW: "the main face is visible in too small a part of the shot",
    Reason.FACE_NOT_FRONTAL: "the main face is turned away from the camera too much",
    Reason.TRACK_TOO_SHORT: "a face track shorter than the minimum",
    Reason.NOT_PERFORMER: "a secondary face in a shot whose performer is another track",
    Reason.TEXT_OVERLAY: "burned-in text (subtitles, captions) over the performer's crop in too many sampled frames",
    Reason.NO_USABLE_SHOT: "no shot of the video passed the performer filter",
    Reason.SEGMENT_TOO_SHORT: "a usable span shorter than the minimum segment length",
    Reason.NO_SEGMENTS: "the video produced no training segment",
    Reason.DUPLICATE: "near-duplicate of a kept segment (detail names the kept twin)",
    Reason.OUT_OF_SYNC: "a speaking segment whose lips do not follow its audio (dubbed, voice-over, mismatched mux);"
    " the detail names the lip-sync model, its score and threshold",
    Reason.ERROR: "a stage raised an error (detail holds it)",
    Reason.TIMEOUT: "a stage or tool ran past its timeout",
}

assert set(REASON_DESCRIPTIONS) == set(Reason), "every reason code needs a description"
