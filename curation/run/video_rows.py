"""Build the ``videos`` and video-level ``rejections`` manifest rows from the videos' outcomes."""

from dataclasses import asdict

from curation.ingest.content_id import InputIdentity
from curation.runtime.video_outcome import VideoOutcome
from curation.store.ledger import uri_key
from schemas.tables import RejectionRow, VideoRow


def video_row(uri: str, identity: InputIdentity, primary: str | None, outcome: VideoOutcome | None) -> VideoRow:
    if identity.reason is not None or outcome is None:
        # kept_seconds is set on every row: run totals sum it over all rows, read or not.
        return VideoRow(
            uri=uri,
            video_id=identity.video_id,
            size_bytes=identity.size_bytes,
            state="rejected" if identity.reason else "failed",
            stage="ingest",
            reason=str(identity.reason) if identity.reason else "error",
            detail=identity.detail or "no result was recorded for this video",
            kept_seconds=0.0,
        )
    return VideoRow(
        uri=uri,
        video_id=identity.video_id,
        size_bytes=identity.size_bytes,
        **outcome.probe,
        state=outcome.state,
        stage=outcome.stage,
        reason=outcome.reason,
        detail=outcome.detail,
        duplicate_of=primary if primary != uri else None,
        n_shots=outcome.n_shots,
        n_tracks=outcome.n_tracks,
        n_segments=outcome.n_segments,
        kept_seconds=outcome.kept_seconds,
    )


def video_rejection_row(uri: str, identity: InputIdentity, row: VideoRow) -> RejectionRow:
    return RejectionRow(
        entity="video",
        entity_id=identity.video_id or f"uri-{uri_key(uri)}",
        video_id=identity.video_id,
        uri=uri,
        state=row.state,
        stage=row.stage,
        reason=row.reason,
        detail=row.detail,
    )


def as_dicts(rows: list[VideoRow]) -> list[dict]:
    return [asdict(row) for row in rows]
