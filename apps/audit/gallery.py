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
from curation.manifests.review_sample import kept_sample, rejected_sample
from curation.store.run_store import RunStore
from schemas.tables import RejectionRow, SegmentRow

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
    if "segments" in tables:
        items += [_kept_item(store, row) for row in kept_sample(con, where, per_reason, seed)]
    # by entity id alone, as the gallery always sampled them (the review app's items add the entity)
    items += [_rejected_item(row, uri) for row, uri in rejected_sample(con, tables, per_reason, seed, "entity_id")]
    return items


def _kept_item(store: RunStore, row: SegmentRow) -> AuditItem:
    members = read_sample(store, row.shard or "", row.key or "")
    t_start, t_end = row.t_start or 0.0, row.t_end or 0.0
    caption = members.get("txt", b"").decode("utf-8", "replace")
    facts = {k: _round(v) for k in _SCORE_COLUMNS if (v := getattr(row, k)) is not None}
    facts.update(segment=row.segment_id, t=f"{t_start:.2f}-{t_end:.2f} s", shard=row.shard)
    return AuditItem(
        f"kept: {row.state}",
        row.key or "",
        data_uri(strip_from_clip(members["mp4"], t_end - t_start), "no frames"),
        caption,
        facts,
        _video_uri(mux_clip(members["mp4"], members.get("wav"))),
    )


def _video_uri(mp4: bytes | None) -> str | None:
    return "data:video/mp4;base64," + base64.b64encode(mp4).decode() if mp4 else None


def _rejected_item(row: RejectionRow, uri: str | None) -> AuditItem:
    t0 = row.t_start if row.t_start is not None else 0.0
    t1 = row.t_end if row.t_end is not None else t0 + 3.0
    image = strip_from_video(uri, [t0 + (t1 - t0) * f for f in (0.1, 0.5, 0.9)]) if uri and "://" not in uri else None
    facts = {"entity": row.entity, "stage": row.stage, "state": row.state, "uri": uri}
    span = ReviewItem(item=str(row.entity_id), kind="rejected", stratum=str(row.reason), title="", caption="",
                      source_uri=uri, t_start=t0, t_end=t1 if t1 > t0 else t0 + DEFAULT_SPAN_S)
    return AuditItem(
        f"{row.state}: {row.reason}",
        str(row.entity_id),
        data_uri(image, f"no image: {row.reason}"),
        str(row.detail or ""),
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
