"""``lpm-curate report``: one self-contained HTML page about a run (plots embedded, works offline).

Numbers first, each beside the SQL that gives it (paste it into ``lpm-curate query``), then the
actor pools (per pool and node: videos, videos per minute, busy time, peak queue), then the
plots: rejections by stage and reason, where the time went, throughput over time, hours in vs
training hours out, identities and segment lengths. On load the page records how many plots
decoded (``data-plots-rendered``), so a headless browser can check it.
"""

import html
import json
from pathlib import Path

from apps.report.run_figures import RunFigures, gather
from apps.report.run_plots import render_plots
from curation.store.run_store import RunStore

REPORT_POINTER = "report.json"  # where the last report of this run was written; `status` reads it

_STYLE = (
    "body{font-family:sans-serif;margin:1em;background:#fafafa;max-width:1500px}"
    "table{border-collapse:collapse;background:#fff}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
    "td.v{text-align:right;font-variant-numeric:tabular-nums}code{font-size:11px;color:#444}"
    "figure{display:inline-block;vertical-align:top;margin:8px;padding:6px;background:#fff;border:1px solid #ccc}"
    "figure img{max-width:640px}"
)
_CHECK = ("<script>window.addEventListener('load',()=>{const i=[...document.querySelectorAll('figure.plot img')];"
          "document.body.dataset.plots=i.length;"
          "document.body.dataset.plotsRendered=i.filter(x=>x.complete&&x.naturalWidth>0).length;});</script>")


def _value(value: object) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def render_page(figures: RunFigures, plots: list[tuple[str, str]]) -> str:
    info = figures.run_info
    rows = "".join(
        f"<tr><td>{html.escape(f.label)}</td><td class='v' data-figure='{f.name}'>{html.escape(_value(f.value))}</td>"
        f"<td><code>{html.escape(f.sql)}</code></td></tr>"
        for f in figures.figures
    )
    images = "".join(
        f"<figure class='plot' data-plot='{name}'><img alt='{name}' src='data:image/png;base64,{png}'></figure>"
        for name, png in plots
    )
    pools = "".join(
        f"<tr data-pool='{html.escape(p.pool)}'><td>{html.escape(p.pool)}</td><td>{html.escape(p.node)}</td>"
        f"<td class='v'>{p.videos:g}</td><td class='v'>{p.videos_per_min:.2f}</td>"
        f"<td class='v'>{p.busy_s / 60:.2f}</td><td class='v'>{p.videos_per_actor_min:.2f}</td>"
        f"<td class='v'>{p.peak_queued:g}</td></tr>"
        for p in figures.pools
    )
    # the same keys with or without a run.json (null where there is none)
    facts = {k: getattr(info, k, None) for k in ("state", "workflow_fingerprint", "created", "finished", "wall_s",
                                                 "executor", "workflow_name")}
    facts["workflow"] = facts.pop("workflow_name")
    title = f"lpm-curate report: {figures.out}"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style>{_CHECK}</head><body><h1>{html.escape(title)}</h1>"
        f"<p><code>{html.escape(json.dumps(facts, default=str))}</code></p>"
        f"<h2>numbers</h2><table><tr><th>what</th><th>value</th><th>lpm-curate query OUT \"...\"</th></tr>{rows}"
        f"</table><h2>actor pools</h2><p>per pool and node; from <code>metrics.jsonl</code> "
        f"(<code>lpm_pool_*</code>, also on the Prometheus endpoint while a run goes)</p>"
        f"<table><tr><th>pool</th><th>node</th><th>videos</th><th>videos / min</th>"
        f"<th>busy actor-min</th><th>videos / busy actor-min</th><th>peak queue</th></tr>{pools}</table>"
        f"<h2>plots</h2>{images}</body></html>"
    )


def write_report(out: str, page: Path) -> int:
    """Write the page; returns how many plots it holds. Records the page's path in ``OUT/report.json``."""
    figures = gather(out)
    plots = render_plots(figures)
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(render_page(figures, plots), encoding="utf-8")
    RunStore(out).write_bytes(REPORT_POINTER, json.dumps({"html": str(page.resolve())}).encode())
    return len(plots)


def report_location(store: RunStore) -> str | None:
    if not store.exists(REPORT_POINTER):
        return None
    return json.loads(store.read_bytes(REPORT_POINTER)).get("html")
