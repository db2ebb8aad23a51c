// The review page: one item at a time, keyboard first. Verdicts go to POST /api/verdicts with a
// verdict id made here, so a retried request is stored once. Undo posts an "undo" verdict, which
// withdraws this reviewer's most recent standing verdict (files are never rewritten); the filters
// only choose which items the list shows and j/k walk through.
"use strict";

const STATE_COLOURS = ["#9e9e9e", "#d32f2f", "#1976d2"];
const REASON_KEYS = "1234567890-";
const view = { items: [], reasons: [], index: 0, reviewer: "", mine: {}, timeline: null, choosing: false,
  filter: { stratum: "", review: "" } };
const $ = (id) => document.getElementById(id);

function reviewerName(fallback) {
  const fromUrl = new URLSearchParams(location.search).get("reviewer");
  if (fromUrl) localStorage.setItem("lpm-reviewer", fromUrl);
  return fromUrl || localStorage.getItem("lpm-reviewer") || fallback;
}

function forgetToken() {
  // A remote session's token came in the URL and now lives in an HttpOnly cookie: take it out of the
  // address bar (and so out of the history and of screenshots).
  const url = new URL(location.href);
  if (url.searchParams.has("token")) { url.searchParams.delete("token"); history.replaceState(null, "", url); }
}

function setUpFilters() {
  const groups = [...new Set(view.items.map((it) => `${it.kind}: ${it.stratum}`))];
  $("filter-stratum").innerHTML = `<option value="">all strata</option>` +
    groups.map((g) => `<option value="${escapeHtml(g)}">${escapeHtml(g)}</option>`).join("");
  $("filter-review").innerHTML = [["", "all items"], ["unreviewed", "not reviewed by me"], ["accept", "accepted by me"],
    ["reject", "rejected by me"], ...view.reasons.map((r) => [`reject:${r.code}`, `rejected: ${r.code}`])]
    .map(([v, t]) => `<option value="${v}">${escapeHtml(t)}</option>`).join("");
  for (const id of ["filter-stratum", "filter-review"]) {
    $(id).addEventListener("change", () => {
      view.filter = { stratum: $("filter-stratum").value, review: $("filter-review").value };
      renderList();
      const shown = visible();
      if (shown.length && !shown.includes(view.index)) show(shown[0]);
    });
  }
}

function matches(it) {
  const f = view.filter, v = view.mine[it.item];
  if (f.stratum && `${it.kind}: ${it.stratum}` !== f.stratum) return false;
  if (f.review === "unreviewed") return !v;
  if (f.review === "accept" || f.review === "reject") return Boolean(v) && v.verdict === f.review;
  if (f.review.startsWith("reject:")) return Boolean(v) && v.verdict === "reject" && v.reason === f.review.slice(7);
  return true;
}

function visible() { return view.items.map((it, i) => (matches(it) ? i : -1)).filter((i) => i >= 0); }

function step(direction) {
  const shown = visible();
  const next = direction > 0 ? shown.find((i) => i > view.index) : shown.filter((i) => i < view.index).pop();
  if (next !== undefined) show(next);
}

async function start() {
  const data = await (await fetch("/api/items")).json();
  view.items = data.items;
  view.reasons = data.reasons;
  view.reviewer = reviewerName(data.reviewer);
  $("reviewer").textContent = view.reviewer;
  forgetToken();
  setUpFilters();
  $("undo").addEventListener("click", undo);
  $("reasons").innerHTML = view.reasons.map((r, i) =>
    `<div><kbd>${REASON_KEYS[i]}</kbd> ${r.code}: ${escapeHtml(r.description)}</div>`).join("");
  await loadVerdicts();
  const first = view.items.findIndex((it) => !view.mine[it.item]);
  show(first >= 0 ? first : 0);
  document.addEventListener("keydown", onKey);
  $("timeline").addEventListener("click", seekFromTimeline);
  const video = $("video");
  for (const ev of ["timeupdate", "seeked", "loadeddata"]) video.addEventListener(ev, drawTimeline);
  video.addEventListener("play", followPlayback);
  document.body.dataset.ready = "1";
}

async function loadVerdicts() {
  // the server answers each reviewer's standing verdict per item (undone ones already withdrawn)
  const all = await (await fetch("/api/verdicts")).json();
  view.mine = {};
  for (const v of all) if (v.reviewer === view.reviewer) view.mine[v.item] = v;
  renderList();
}

function renderList() {
  let html = "", group = "";
  const reviewed = view.items.filter((it) => view.mine[it.item]).length, shown = visible();
  $("count").textContent = `reviewed ${reviewed} of ${view.items.length}` +
    (shown.length !== view.items.length ? ` (showing ${shown.length})` : "");
  $("count").dataset.reviewed = String(reviewed);
  view.items.forEach((it, i) => {
    if (!matches(it)) return;
    const g = `${it.kind}: ${it.stratum}`;
    if (g !== group) { html += `<h3>${escapeHtml(g)}</h3>`; group = g; }
    const v = view.mine[it.item];
    const mark = v ? (v.verdict === "accept" ? "&#10003;" : "&#10007;") : "";
    html += `<div class="entry${i === view.index ? " current" : ""}" data-index="${i}">` +
      `<span class="mark ${v ? v.verdict : ""}">${mark}</span>${escapeHtml(it.title)}</div>`;
  });
  $("list").innerHTML = html;
  for (const el of document.querySelectorAll("#list .entry")) el.onclick = () => show(Number(el.dataset.index));
}

async function show(index) {
  if (!view.items.length) { $("title").textContent = "nothing to review"; return; }
  view.index = Math.max(0, Math.min(index, view.items.length - 1));
  const it = view.items[view.index];
  closeReasons();
  $("title").textContent = `${view.index + 1}/${view.items.length}  ${it.kind}: ${it.title}`;
  $("caption").textContent = it.caption;
  $("facts").innerHTML = Object.entries(it.facts).map(([k, v]) =>
    `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(String(v))}</td></tr>`).join("");
  $("note").value = (view.mine[it.item] && view.mine[it.item].note) || "";
  const video = $("video");
  video.src = `/api/items/${view.index}/clip.mp4`;
  video.load();
  view.timeline = await (await fetch(`/api/items/${view.index}/timeline`)).json();
  $("refs").innerHTML = Array.from({ length: view.timeline.references }, (_, n) =>
    `<img src="/api/items/${view.index}/ref/${n}.jpg" alt="reference ${n}">`).join("");
  const mine = view.mine[it.item];
  setStatus(mine ? `your verdict: ${mine.verdict}${mine.reason ? " (" + mine.reason + ")" : ""}` : "not reviewed yet",
    mine ? mine.verdict : "");
  document.body.dataset.itemIndex = String(view.index);
  renderList();
  drawTimeline();
}

function followPlayback() {
  const video = $("video");
  const tick = () => { drawTimeline(); if (!video.paused && !video.ended) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
}

function drawTimeline() {
  const canvas = $("timeline"), ctx = canvas.getContext("2d"), video = $("video");
  const w = canvas.width, h = canvas.height, tl = view.timeline;
  ctx.clearRect(0, 0, w, h);
  if (!tl) return;
  const duration = tl.n_frames ? tl.n_frames / tl.fps : (video.duration || (tl.window[1] - tl.window[0]) || 1);
  if (tl.n_frames) {
    const fw = w / tl.n_frames;
    tl.state.forEach((s, i) => { ctx.fillStyle = STATE_COLOURS[s] || "#000"; ctx.fillRect(i * fw, 0, fw + 0.5, 40); });
    const line = (values, colour, width, dash) => {
      ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.setLineDash(dash); ctx.beginPath();
      values.forEach((v, i) => { const x = (i + 0.5) * fw, y = h - 8 - v * (h - 56); i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
      ctx.stroke();
      ctx.setLineDash([]);
    };
    // VAD dashed on top: the two curves often coincide, and both must stay visible
    line(tl.speaking_prob, "#ef6c00", 4, []);
    line(tl.vad, "#2e7d32", 2, [8, 6]);
  } else {
    // a rejection is played with context before and after: shade the rejected span itself
    const at = (t) => Math.max(0, Math.min((t - tl.window[0]) / duration, 1)) * w;
    const x0 = at(tl.marked[0]), x1 = at(tl.marked[1]);
    ctx.fillStyle = "rgba(198, 40, 40, 0.35)"; ctx.fillRect(x0, 0, Math.max(x1 - x0, 2), h);
    ctx.fillStyle = "#555"; ctx.font = "22px sans-serif";
    ctx.fillText(`rejected span ${tl.marked[0].toFixed(2)}-${tl.marked[1].toFixed(2)} s (shaded);`, 10, 60);
    ctx.fillText(`clip ${tl.window[0].toFixed(2)}-${tl.window[1].toFixed(2)} s of the source, no per-frame data`, 10, 90);
    canvas.dataset.marked = `${Math.round(x0)}-${Math.round(x1)}`;
  }
  const x = Math.min(video.currentTime / duration, 1) * w;
  ctx.strokeStyle = "#000"; ctx.lineWidth = 3; ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, h); ctx.stroke();
  // What the cursor shows, for a test to compare with the video's clock.
  canvas.dataset.cursorTime = video.currentTime.toFixed(3);
  canvas.dataset.cursorFrame = String(Math.floor(video.currentTime * tl.fps));
}

function seekFromTimeline(ev) {
  const canvas = $("timeline"), video = $("video"), tl = view.timeline;
  const duration = tl && tl.n_frames ? tl.n_frames / tl.fps : video.duration;
  if (duration) video.currentTime = (ev.offsetX / canvas.clientWidth) * duration;
}

async function post(item, verdict, reason, note) {
  const body = { verdict_id: newId(), reviewer: view.reviewer, item: item, verdict: verdict,
    reason: reason || null, note: note || null };
  const response = await fetch("/api/verdicts", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body) });
  const answer = await response.json();
  if (!response.ok) { setStatus(answer.error || "not saved", "reject"); return false; }
  document.body.dataset.saved = String(Number(document.body.dataset.saved || 0) + 1);
  return true;
}

async function record(verdict, reason) {
  const it = view.items[view.index];
  const next = visible().find((i) => i > view.index);  // chosen before the verdict may hide this item
  if (!await post(it.item, verdict, reason, $("note").value.trim())) return;
  await loadVerdicts();
  setStatus(`saved: ${verdict}${reason ? " (" + reason + ")" : ""}`, verdict);
  if (next !== undefined) await show(next);
}

async function undo() {
  // the most recent of my standing verdicts, wherever it is; after it, the one before, and so on
  const mine = Object.values(view.mine).sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  const last = mine.pop();
  if (!last) { setStatus("nothing to undo", ""); return; }
  if (!await post(last.item, "undo")) return;
  await loadVerdicts();
  document.body.dataset.undone = String(Number(document.body.dataset.undone || 0) + 1);
  const index = view.items.findIndex((it) => it.item === last.item);
  if (index >= 0) await show(index);
  setStatus(`undone: ${last.verdict}${last.reason ? " (" + last.reason + ")" : ""} on ${last.item}`, "");
}

function onKey(ev) {
  if (document.activeElement === $("note")) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); $("note").blur(); }
    if (ev.key === "Escape") $("note").blur();
    return;
  }
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (view.choosing) {
    const i = REASON_KEYS.indexOf(ev.key);
    if (i >= 0 && i < view.reasons.length) { ev.preventDefault(); closeReasons(); record("reject", view.reasons[i].code); }
    else if (ev.key === "Escape") closeReasons();
    return;
  }
  const video = $("video");
  const actions = {
    a: () => record("accept"),
    r: () => { view.choosing = true; $("reasons").classList.add("open"); },
    n: () => $("note").focus(),
    u: () => undo(),
    j: () => step(1), ArrowRight: () => step(1), ArrowDown: () => step(1),
    k: () => step(-1), ArrowLeft: () => step(-1), ArrowUp: () => step(-1),
    " ": () => (video.paused ? video.play() : video.pause()),
  };
  if (actions[ev.key]) { ev.preventDefault(); actions[ev.key](); }
}

function closeReasons() { view.choosing = false; $("reasons").classList.remove("open"); }
function setStatus(text, cls) { $("status").textContent = text; $("status").className = cls || ""; }
function newId() { return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join(""); }
function escapeHtml(s) { return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]); }

start();
