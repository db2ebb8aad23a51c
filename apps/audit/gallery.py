"""The audit gallery: a stratified sample of what a run kept and what it rejected, in one page.

Kept segments are sampled per state, rejections per reason (``per_reason`` of each), with a
seeded order so the same seed gives the same page. Kept items show frames of the sample as
written in the shard; rejected items show frames of the source at the rejected span (or a
placeholder saying why there is no image). Each item also plays: a kept sample's clip muxed with
its driving audio, a rejection's source span with its own sound. The page embeds its images and
clips and needs no network.
"""

import base64
import html
import json
from dataclasses import dataclass
from typing import Any

from apps.audit.thumbnails import data_uri, strip_from_clip, strip_from_video
from apps.review.item_media import mux_clip, source_span
from apps.review.review_items import DEFAULT_SPAN_S, ReviewItem
from curation.dataset.shard_reader import read_sample
from curation.manifests.duckdb_views import manifest_names, open_catalog
from curation.manifests.where_filter import check_where
from curation.store.run_store import RunStore

_SCORE_COLUMNS = (
    "speaking_frac",
    "listening_frac",
    "idle_frac",
    "vad_frac",
    "sync_confidence",
    "face_height_px",
    "sharpness",
    "audio_loudness_db",
)


@dataclass
class AuditItem:
    group: str  # "kept: speaking" or "rejected: no_face"
    title: str
    image: str  # data URI
    caption: str
    facts: dict[str, Any]
    clip: str | None = None  # data URI of an mp4 with sound


def sample_items(out: str, where: str | None, per_reason: int, seed: int) -> list[AuditItem]:
    store = RunStore(out)
    tables = manifest_names(store)
    with open_catalog(store) as con:
        return _sample(con, store, tables, where, per_reason, seed)


def _sample(con: Any, store: RunStore, tables: list[str], where: str | None, per_reason: int,
            seed: int) -> list[AuditItem]:
    items: list[AuditItem] = []
    order = "hash(CAST(? AS VARCHAR) || {id})"
    if "segments" in tables:
        predicate = check_where(con, where) if where else "TRUE"
        rows = (
            con.execute(
                f"""SELECT * FROM (SELECT *, row_number() OVER
                (PARTITION BY state ORDER BY {order.format(id="segment_id")}) AS pick FROM segments
                WHERE key IS NOT NULL AND {predicate}) WHERE pick <= ? ORDER BY state, pick""",
                [str(seed), per_reason],
            )
            .fetchdf()
            .to_dict("records")
        )
        for row in rows:
            items.append(_kept_item(store, row))
    rejected = (
        con.execute(
            f"""SELECT r.*, v.uri AS video_uri FROM (SELECT *, row_number() OVER (PARTITION BY reason
            ORDER BY {order.format(id="entity_id")}) AS pick FROM rejections) r
            LEFT JOIN (SELECT video_id, min(uri) AS uri FROM videos GROUP BY 1) v USING (video_id)
            WHERE pick <= ? ORDER BY reason, pick""",
            [str(seed), per_reason],
        )
        .fetchdf()
        .to_dict("records")
    )
    for row in rejected:
        items.append(_rejected_item(row))
    return items


def _kept_item(store: RunStore, row: dict[str, Any]) -> AuditItem:
    members = read_sample(store, row["shard"], row["key"])
    duration = row["t_end"] - row["t_start"]
    caption = members.get("txt", b"").decode("utf-8", "replace")
    facts = {k: _round(row.get(k)) for k in _SCORE_COLUMNS if row.get(k) is not None}
    facts.update(segment=row["segment_id"], t=f"{row['t_start']:.2f}-{row['t_end']:.2f} s", shard=row["shard"])
    return AuditItem(
        f"kept: {row['state']}",
        row["key"],
        data_uri(strip_from_clip(members["mp4"], duration), "no frames"),
        caption,
        facts,
        _video_uri(mux_clip(members["mp4"], members.get("wav"))),
    )


def _video_uri(mp4: bytes | None) -> str | None:
    return "data:video/mp4;base64," + base64.b64encode(mp4).decode() if mp4 else None


def _cell(value: Any) -> Any:
    """A DataFrame cell, None where pandas filled a missing one with NaN (which is truthy)."""
    return None if value is None or value != value else value


def _rejected_item(row: dict[str, Any]) -> AuditItem:
    # An unreadable input has no video_id, so the join to videos leaves video_uri missing: its own uri.
    uri = _cell(row.get("video_uri")) or _cell(row.get("uri"))
    t0 = row.get("t_start") if row.get("t_start") == row.get("t_start") and row.get("t_start") is not None else 0.0
    t1 = row.get("t_end") if row.get("t_end") == row.get("t_end") and row.get("t_end") is not None else t0 + 3.0
    image = strip_from_video(uri, [t0 + (t1 - t0) * f for f in (0.1, 0.5, 0.9)]) if uri and "://" not in uri else None
    facts = {"entity": row["entity"], "stage": row["stage"], "state": row["state"], "uri": uri}
    span = ReviewItem(item=str(row["entity_id"]), kind="rejected", stratum=str(row["reason"]), title="", caption="",
                      source_uri=uri, t_start=t0, t_end=t1 if t1 > t0 else t0 + DEFAULT_SPAN_S)
    return AuditItem(
        f"{row['state']}: {row['reason']}",
        str(row["entity_id"]),
        data_uri(image, f"no image: {row['reason']}"),
        str(row.get("detail") or ""),
        facts,
        _video_uri(source_span(span)),
    )


def _round(value: Any) -> Any:
    return round(float(value), 3) if isinstance(value, float) else value


def render_html(items: list[AuditItem], title: str) -> str:
    groups: dict[str, list[AuditItem]] = {}
    for item in items:
        groups.setdefault(item.group, []).append(item)
    sections = []
    for group in sorted(groups):
        cards = "".join(
            f'<figure class="item" data-group="{html.escape(group)}">'
            f'<img src="{item.image}" alt="{html.escape(item.title)}">'
            + (f'<video controls preload="metadata" src="{item.clip}"></video>' if item.clip else "")
            + f"<figcaption><b>{html.escape(item.title)}</b><p>{html.escape(item.caption)}</p>"
            f"<pre>{html.escape(json.dumps(item.facts, indent=1, default=str))}</pre></figcaption></figure>"
            for item in groups[group]
        )
        sections.append(f"<section><h2>{html.escape(group)} ({len(groups[group])})</h2>{cards}</section>")
    style = (
        "body{font-family:sans-serif;margin:1em;background:#fafafa}section{margin-bottom:2em}"
        ".item{display:inline-block;vertical-align:top;width:400px;margin:6px;padding:6px;background:#fff;"
        "border:1px solid #ccc}.item img,.item video{max-width:100%;display:block}"
        "pre{font-size:11px;white-space:pre-wrap}"
    )
    # Records on load how many images really decoded, so a headless browser can check the page.
    check = ("<script>window.addEventListener('load',()=>{const i=[...document.images];"
             "document.body.dataset.items=document.querySelectorAll('figure.item').length;"
             "document.body.dataset.imagesLoaded=i.filter(x=>x.complete&&x.naturalWidth>0).length;"
             "document.body.dataset.videos=document.querySelectorAll('figure.item video').length;});</script>")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style>{check}</head><body><h1>{html.escape(title)}</h1>"
        f"<p>{len(items)} items</p>{''.join(sections)}</body></html>"
    )
