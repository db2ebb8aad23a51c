"""The items a reviewer sees: a seeded stratified sample of kept segments and of rejections
(``curation.manifests.review_sample``). Item ids are stable across
restarts (the segment id, or ``<entity>:<entity_id>`` for a rejection), so verdicts from earlier
sessions still point at the right item.
"""

import math
from dataclasses import dataclass, field
from typing import Any

from curation.manifests.duckdb_views import manifest_names, open_catalog
from curation.manifests.review_sample import kept_sample, rejected_sample
from curation.store.run_store import RunStore
from schemas.tables import RejectionRow, SegmentRow

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
    items: list[ReviewItem] = []
    with open_catalog(store) as con:
        if "segments" in tables:
            items += [_kept(row) for row in kept_sample(con, where, per_stratum, seed)]
        if "rejections" in tables:
            items += [_rejected(row, uri) for row, uri in rejected_sample(con, tables, per_stratum, seed)]
    return items


def _number(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _kept(row: SegmentRow) -> ReviewItem:
    facts: dict[str, Any] = {k: round(v, 3) for k in SCORE_COLUMNS if (v := _number(getattr(row, k))) is not None}
    facts.update(segment=row.segment_id, identity=row.identity_id, audio=row.audio_source,
                 t=f"{row.t_start:.2f}-{row.t_end:.2f} s")
    return ReviewItem(
        item=str(row.segment_id), kind="kept", stratum=str(row.state), title=f"{row.state}: {row.key}",
        caption=row.caption or "", facts=facts, shard=row.shard, key=row.key,
        t_start=float(row.t_start or 0.0), t_end=float(row.t_end or 0.0),
    )


def _rejected(row: RejectionRow, uri: str | None) -> ReviewItem:
    t0 = _number(row.t_start) or 0.0
    t1 = _number(row.t_end)
    t1 = t0 + DEFAULT_SPAN_S if t1 is None or t1 <= t0 else t1
    facts = {"entity": row.entity, "stage": row.stage, "state": row.state, "t": f"{t0:.2f}-{t1:.2f} s"}
    return ReviewItem(
        item=f"{row.entity}:{row.entity_id}", kind="rejected", stratum=str(row.reason),
        title=f"{row.reason}: {row.entity} {row.entity_id}", caption=str(row.detail or ""),
        facts=facts, source_uri=uri, t_start=t0, t_end=t1,
    )
