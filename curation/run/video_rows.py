"""Build the ``videos`` and video-level ``rejections`` manifest rows from the videos' outcomes.

The driver makes them from its index (``video_index``) one input at a time and writes them in
parts of ``VIDEO_ROWS_PER_PART`` rows: built at once, the rows and their Arrow table cost ~5 KB a
video at their peak (tracemalloc), half a GB at 10^5 videos.
"""

from collections.abc import Iterator

from curation.ingest.content_id import InputIdentity
from curation.manifests.manifest_writer import write_manifest
from curation.run.paging import pages
from curation.run.video_index import VideoIndex
from curation.runtime.video_outcome import VideoOutcome
from curation.store.ledger import uri_key
from curation.store.run_store import RunStore
from schemas.tables import RejectionRow, VideoRow

VIDEO_ROWS_PER_PART = 2000  # ~10 MB of rows and table at once


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


def input_rows(index: VideoIndex) -> Iterator[tuple[VideoRow, RejectionRow | None]]:
    """Every input's videos row, in the inputs' order, and its rejection row if it has one (a
    video under several names is rejected once, under its primary name)."""
    for uri, identity, primary, outcome in index.input_rows():
        row = video_row(uri, identity, primary, outcome)
        is_primary = identity.video_id is None or primary == uri
        yield row, video_rejection_row(uri, identity, row) if row.state != "kept" and is_primary else None


def video_rows(index: VideoIndex) -> Iterator[VideoRow]:
    """The videos rows, one at a time (what the accounting reads)."""
    return (row for row, _rejection in input_rows(index))


def write_video_tables(store: RunStore, index: VideoIndex) -> tuple[int, int, float]:
    """Write the videos table and the video-level rejections, a part at a time (an empty part
    when there is no input: it carries the schema); returns (videos rows, rejection rows, kept
    seconds summed over the videos rows)."""
    n_videos = n_rejections = 0
    kept_seconds = 0.0
    written = pages(input_rows(index), VIDEO_ROWS_PER_PART)
    for part, page in enumerate(written):
        rows = [row for row, _rejection in page]
        rejections = [rejection for _row, rejection in page if rejection is not None]
        n_videos += write_manifest(store, "videos", rows, f"{part:05d}").num_rows
        n_rejections += write_manifest(store, "rejections", rejections, part=f"videos-{part:05d}").num_rows
        kept_seconds += sum(row.kept_seconds or 0.0 for row in rows)
    if not n_videos:
        write_manifest(store, "videos", [])
        write_manifest(store, "rejections", [], part="videos-00000")
    return n_videos, n_rejections, kept_seconds
