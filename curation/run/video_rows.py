"""Build the ``videos`` and ``rejections`` manifest rows from what the run finished."""

from typing import Any

from curation.ingest.content_id import InputIdentity
from curation.run.ledger import uri_key
from curation.runtime.video_work import VideoWork

_PROBE_COLUMNS = (
    "container", "duration_s", "width", "height", "rotation", "fps", "variable_fps", "n_frames",
    "video_codec", "has_audio", "audio_codec", "audio_sample_rate", "audio_channels",
)


def video_row(uri: str, identity: InputIdentity, primary: str | None, work: VideoWork | None) -> dict[str, Any]:
    row: dict[str, Any] = {"uri": uri, "video_id": identity.video_id, "size_bytes": identity.size_bytes}
    if identity.reason is not None or work is None:
        # kept_seconds is set on every row: run totals sum it over all rows, read or not.
        row.update(
            state="rejected" if identity.reason else "failed",
            stage="ingest",
            reason=str(identity.reason) if identity.reason else "error",
            detail=identity.detail or "no result was recorded for this video",
            kept_seconds=0.0,
        )
        return row
    row.update({k: work.video.get(k) for k in _PROBE_COLUMNS})
    row.update(
        state=work.state,
        stage=work.stage,
        reason=work.reason,
        detail=work.detail,
        duplicate_of=primary if primary != uri else None,
        n_shots=len(work.shots),
        n_tracks=len(work.tracks),
        n_segments=len(work.segments),
        kept_seconds=kept_seconds(work),
    )
    return row


def kept_seconds(work: VideoWork) -> float:
    """Seconds of training material: kept segments, or the whole video for workflows without them."""
    if work.state != "kept":
        return 0.0
    if work.segments:
        return float(sum(s["t_end"] - s["t_start"] for s in work.segments))
    if work.shots:
        return float(sum(s["t_end"] - s["t_start"] for s in work.shots if s.get("usable")))
    return float(work.video.get("duration_s") or 0.0)


def video_rejection_row(
    uri: str, identity: InputIdentity, work: VideoWork | None, row: dict[str, Any]
) -> dict[str, Any]:
    return {
        "entity": "video",
        "entity_id": identity.video_id or f"uri-{uri_key(uri)}",
        "video_id": identity.video_id,
        "uri": uri,
        "state": row["state"],
        "stage": row["stage"],
        "reason": row["reason"],
        "detail": row["detail"],
        "t_start": None,
        "t_end": None,
    }
