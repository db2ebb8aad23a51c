// The live page: microphone pieces to /api/push in order, frames shown at the stream's frame rate.
"use strict";
const RATE = 16000;
const PIECE = 4096; // samples per post: 256 ms
const queue = []; // frames waiting to be shown
let fps = 25, sentSamples = 0, shown = 0, sending = Promise.resolve();

const $ = (id) => document.getElementById(id);

function showError(message) { $("error").textContent = message; }

function showState(name) {
  $("state").textContent = name;
  $("state").dataset.state = name;
  document.body.dataset.state = name;
  const seen = new Set((document.body.dataset.statesSeen || "").split(",").filter(Boolean));
  seen.add(name);
  document.body.dataset.statesSeen = [...seen].join(",");
}

async function post(path, body, type) {
  const response = await fetch(path, { method: "POST", body, headers: { "Content-Type": type } });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || response.statusText);
  return answer;
}

function send(samples) {
  // Chained: pieces reach the session in the order they were recorded.
  sending = sending.then(async () => {
    try {
      const answer = await post("/api/push", samples.buffer, "application/octet-stream");
      sentSamples += samples.length;
      $("sent").textContent = (sentSamples / RATE).toFixed(1) + " s";
      fps = answer.fps;
      answer.frames.forEach((src, i) => queue.push({ src, state: answer.states[i] }));
      if (answer.realtime_factor) $("rtf").textContent = answer.realtime_factor.toFixed(2) + "×";
      $("reply").textContent = answer.speaking_reply ? "Replying…" : "Reply";
    } catch (err) { showError(String(err)); }
  });
}

function showNextFrame() {
  const next = queue.shift();
  if (next) {
    $("frame").src = next.src;
    shown += 1;
    $("frames").textContent = String(shown);
    document.body.dataset.frames = String(shown);
    showState(next.state);
  }
  setTimeout(showNextFrame, 1000 / fps); // the stream's own frame rate
}
showNextFrame();

$("start").addEventListener("click", async () => {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    const context = new AudioContext({ sampleRate: RATE });
    const source = context.createMediaStreamSource(stream);
    const processor = context.createScriptProcessor(PIECE, 1, 1);
    processor.onaudioprocess = (event) => send(new Float32Array(event.inputBuffer.getChannelData(0)));
    source.connect(processor);
    processor.connect(context.destination); // a processor runs only when connected; it outputs silence
    $("start").disabled = true;
    $("reply").disabled = false;
    document.body.dataset.listening = "1";
  } catch (err) { showError("microphone: " + err); }
});

$("reply").addEventListener("click", () => post("/api/reply", "{}", "application/json").catch((e) => showError(String(e))));
$("reset").addEventListener("click", () => {
  queue.length = 0;
  post("/api/reset", "{}", "application/json").catch((e) => showError(String(e)));
});
$("text").addEventListener("change", (event) =>
  post("/api/text", JSON.stringify({ text: event.target.value }), "application/json").catch((e) => showError(String(e))));
document.body.dataset.ready = "1";
