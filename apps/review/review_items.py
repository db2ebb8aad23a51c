"""The items a reviewer sees: a seeded stratified sample of kept segments and of rejections.

Kept segments are sampled per state (after the optional ``--where`` filter), rejections per
reason, ``per_stratum`` of each, in a seeded hash order: the same seed gives the same items, and
a larger ``per_stratum`` keeps the smaller sample as its prefix. Item ids are stable across
restarts (the segment id, or ``<entity>:<entity_id>`` for a rejection), so verdicts from earlier
sessions still point at the right item.
"""

import math
from dataclasses import dataclass, field
from typing import Any

from curation.manifests.duckdb_views import manifest_names, open_catalog
from curation.manifests.where_filter import check_where
from curation.store.run_store import RunStore

SCORE_COLUMNS = (
    "speaking_frac", "listening_frac", "idle_frac", "vad_frac", "speaking_prob_mean", "sync_offset_frames",
    "sync_confidence", "face_height_px", "sharpness", "audio_loudness_db",
)
# A rejected item with no span (a whole video) is shown from its start for this long.
DEFAULT_SPAN_S = 6.0


@dataclass(frozen=True)
class ReviewItem:
    item: str
    kind: str  # kept | rejected
    stratum: str  # state, or rejection reason
    title: str
    caption: str
    facts: dict[str, Any] = field(default_factory=dict)
    shard: str | None = None  # kept: where the sample is
    key: str | None = None
    source_uri: str | None = None  # rejected: the input video and the span to show
    t_start: float = 0.0
    t_end: float = 0.0

    def public(self) -> dict[str, Any]:
        """What the browser may see: no file paths of the machine."""
        return {"item": self.item, "kind": self.kind, "stratum": self.stratum, "title": self.title,
                "caption": self.caption, "facts": self.facts}


def sample_review_items(out: str, where: str | None, per_stratum: int, seed: int) -> list[ReviewItem]:
    store = RunStore(out)
    tables = manifest_names(store)
    order = "hash(CAST(? AS VARCHAR) || {id})"
    items: list[ReviewItem] = []
    with open_catalog(store) as con:
        if "segments" in tables:
            predicate = check_where(con, where) if where else "TRUE"
            kept = con.execute(
                f"""SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY state
                ORDER BY {order.format(id="segment_id")}) AS pick FROM segments
                WHERE key IS NOT NULL AND {predicate}) WHERE pick <= ? ORDER BY state, pick""",
                [str(seed), per_stratum],
            ).fetchdf().to_dict("records")
            items += [_kept(row) for row in kept]
        if "rejections" in tables:
            videos = "videos" if "videos" in tables else "(SELECT NULL AS video_id, NULL AS uri)"
            rejected = con.execute(
                f"""SELECT r.*, v.uri AS video_uri FROM (SELECT *, row_number() OVER (PARTITION BY reason
                ORDER BY {order.format(id="entity || ':' || entity_id")}) AS pick FROM rejections) r
                LEFT JOIN (SELECT video_id, min(uri) AS uri FROM {videos} GROUP BY 1) v USING (video_id)
                WHERE pick <= ? ORDER BY reason, pick""",
                [str(seed), per_stratum],
            ).fetchdf().to_dict("records")
            items += [_rejected(row) for row in rejected]
    return items


def _number(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _kept(row: dict[str, Any]) -> ReviewItem:
    facts = {k: round(v, 3) for k in SCORE_COLUMNS if (v := _number(row.get(k))) is not None}
    facts.update(segment=row["segment_id"], identity=row.get("identity_id"), audio=row.get("audio_source"),
                 t=f"{row['t_start']:.2f}-{row['t_end']:.2f} s")
    return ReviewItem(
        item=row["segment_id"], kind="kept", stratum=row["state"], title=f"{row['state']}: {row['key']}",
        caption=row.get("caption") or "", facts=facts, shard=row["shard"], key=row["key"],
        t_start=float(row["t_start"]), t_end=float(row["t_end"]),
    )


def _rejected(row: dict[str, Any]) -> ReviewItem:
    t0 = _number(row.get("t_start")) or 0.0
    t1 = _number(row.get("t_end"))
    t1 = t0 + DEFAULT_SPAN_S if t1 is None or t1 <= t0 else t1
    facts = {"entity": row["entity"], "stage": row["stage"], "state": row["state"], "t": f"{t0:.2f}-{t1:.2f} s"}
    uri = row.get("video_uri") or row.get("uri")
    return ReviewItem(
        item=f"{row['entity']}:{row['entity_id']}", kind="rejected", stratum=str(row["reason"]),
        title=f"{row['reason']}: {row['entity']} {row['entity_id']}", caption=str(row.get("detail") or ""),
        facts=facts, source_uri=uri, t_start=t0, t_end=t1,
    )
