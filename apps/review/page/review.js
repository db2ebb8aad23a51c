// The review page: one item at a time, keyboard first. Verdicts go to POST /api/verdicts with a
// verdict id made here, so a retried request is stored once.
"use strict";

const STATE_COLOURS = ["#9e9e9e", "#d32f2f", "#1976d2"];
const REASON_KEYS = "1234567890-";
const view = { items: [], reasons: [], index: 0, reviewer: "", mine: {}, timeline: null, choosing: false };
const $ = (id) => document.getElementById(id);

function reviewerName(fallback) {
  const fromUrl = new URLSearchParams(location.search).get("reviewer");
  if (fromUrl) localStorage.setItem("lpm-reviewer", fromUrl);
  return fromUrl || localStorage.getItem("lpm-reviewer") || fallback;
}

async function start() {
  const data = await (await fetch("/api/items")).json();
  view.items = data.items;
  view.reasons = data.reasons;
  view.reviewer = reviewerName(data.reviewer);
  $("reviewer").textContent = view.reviewer;
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
  const all = await (await fetch("/api/verdicts")).json();
  view.mine = {};
  for (const v of all) if (v.reviewer === view.reviewer) view.mine[v.item] = v;  // sorted by time: last wins
  renderList();
}

function renderList() {
  let html = "", group = "";
  view.items.forEach((it, i) => {
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
  const duration = tl.n_frames ? tl.n_frames / tl.fps : (video.duration || 1);
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
    ctx.fillStyle = "#555"; ctx.font = "22px sans-serif";
    ctx.fillText(`source span ${tl.span[0].toFixed(2)}-${tl.span[1].toFixed(2)} s: no per-frame data`, 10, 60);
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

async function record(verdict, reason) {
  const it = view.items[view.index];
  const body = { verdict_id: newId(), reviewer: view.reviewer, item: it.item, verdict: verdict,
    reason: reason || null, note: $("note").value.trim() || null };
  const response = await fetch("/api/verdicts", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body) });
  const answer = await response.json();
  if (!response.ok) { setStatus(answer.error || "not saved", "reject"); return; }
  view.mine[it.item] = { ...body };
  document.body.dataset.saved = String(Number(document.body.dataset.saved || 0) + 1);
  setStatus(`saved: ${verdict}${reason ? " (" + reason + ")" : ""}`, verdict);
  renderList();
  if (view.index + 1 < view.items.length) await show(view.index + 1);
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
    j: () => show(view.index + 1), ArrowRight: () => show(view.index + 1), ArrowDown: () => show(view.index + 1),
    k: () => show(view.index - 1), ArrowLeft: () => show(view.index - 1), ArrowUp: () => show(view.index - 1),
    " ": () => (video.paused ? video.play() : video.pause()),
  };
  if (actions[ev.key]) { ev.preventDefault(); actions[ev.key](); }
}

function closeReasons() { view.choosing = false; $("reasons").classList.remove("open"); }
function setStatus(text, cls) { $("status").textContent = text; $("status").className = cls || ""; }
function newId() { return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join(""); }
function escapeHtml(s) { return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]); }

start();
