"""What the people who look at a run see of it: a seeded stratified sample of its kept segments
and of its rejections (``lpm-curate audit``'s gallery and ``lpm-curate review``).

Kept segments are sampled per state (after the optional ``--where`` filter), rejections per
reason, ``per_stratum`` of each, in a seeded hash order: the same seed gives the same items, and a
larger ``per_stratum`` keeps the smaller sample as its prefix.
"""

from typing import Any

from curation.manifests.manifest_writer import rows_from_table
from curation.manifests.where_filter import check_where
from schemas.tables import RejectionRow, SegmentRow

_ORDER = "hash(CAST(? AS VARCHAR) || {id})"
BY_ENTITY = "entity || ':' || entity_id"  # a rejection's stable item id


def kept_sample(con: Any, where: str | None, per_stratum: int, seed: int) -> list[SegmentRow]:
    """Up to ``per_stratum`` kept segments (those with a sample) of each state, by state."""
    predicate = check_where(con, where) if where else "TRUE"
    table = con.sql(
        f"""SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY state
        ORDER BY {_ORDER.format(id="segment_id")}) AS pick FROM segments
        WHERE key IS NOT NULL AND {predicate}) WHERE pick <= ? ORDER BY state, pick""",
        params=[str(seed), per_stratum],
    ).to_arrow_table()
    return rows_from_table(table, SegmentRow)


def rejected_sample(con: Any, tables: list[str], per_stratum: int, seed: int,
                    order_id: str = BY_ENTITY) -> list[tuple[RejectionRow, str | None]]:
    """Up to ``per_stratum`` rejections of each reason, by reason, each with its input's uri (an
    unreadable input has no video id, so no ``videos`` row: its own ``uri`` then)."""
    videos = "videos" if "videos" in tables else "(SELECT NULL AS video_id, NULL AS uri)"
    table = con.sql(
        f"""SELECT r.*, v.uri AS video_uri FROM (SELECT *, row_number() OVER (PARTITION BY reason
        ORDER BY {_ORDER.format(id=order_id)}) AS pick FROM rejections) r
        LEFT JOIN (SELECT video_id, min(uri) AS uri FROM {videos} GROUP BY 1) v USING (video_id)
        WHERE pick <= ? ORDER BY reason, pick""",
        params=[str(seed), per_stratum],
    ).to_arrow_table()
    uris = table.column("video_uri").to_pylist()
    return [(row, uri or row.uri) for row, uri in zip(rows_from_table(table, RejectionRow), uris, strict=True)]
