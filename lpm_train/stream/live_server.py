"""The live page's server: the browser's microphone is the partner channel, a reply wav the own one.

The page posts its microphone as raw 16 kHz float32 pieces (``/api/push``); each piece is paired
with the same span of the reply (silence until the page's Reply button starts it, and after it
ends) and pushed to one ``LiveSession``; the answer carries the frames made (JPEG data URLs), the
state of each and the real-time factor (seconds of video per second of compute). Bound to
127.0.0.1 and answering only requests addressed to it by a loopback name, so a web page from
elsewhere cannot drive it through the user's browser.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

import numpy as np
import torch

from lpm_train.stream.live_session import LiveSession
from lpm_train.stream.mp4_writer import frames_to_uint8
from schemas.performer_states import STATE_NAMES

MAX_PIECE_BYTES = 4 * 16_000 * 10  # ten seconds of float32 audio in one post
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_PAGE_FILES = {"/": ("index.html", "text/html; charset=utf-8"), "/live.js": ("live.js", "text/javascript"),
               "/live.css": ("live.css", "text/css")}
_CSP = "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; object-src 'none'; base-uri 'none'"


def jpeg_data_urls(frames: torch.Tensor) -> list[str]:
    from torchvision.io import encode_jpeg

    size = frames.shape[-1]
    pixels = np.frombuffer(frames_to_uint8(frames), dtype=np.uint8).reshape(-1, frames.shape[-2], size, 3)
    return [
        "data:image/jpeg;base64," + base64.b64encode(
            encode_jpeg(torch.from_numpy(frame.copy()).permute(2, 0, 1), quality=90).numpy().tobytes()
        ).decode()
        for frame in pixels
    ]


class LiveEngine:
    """One session at a time, and the own channel's reply; requests are served one at a time."""

    def __init__(self, open_session: Callable[[], LiveSession], reply: torch.Tensor):
        self.open_session, self.reply = open_session, reply
        self.lock = threading.Lock()
        self.session = open_session()
        self.reply_at: int | None = None  # where the reply has got to; None: not speaking
        self._text: str | None = None

    def reset(self) -> dict:
        with self.lock:
            self.session, self.reply_at = self.open_session(), None
            return {"reset": True}

    def start_reply(self) -> dict:
        with self.lock:
            self.reply_at = 0
            return {"reply_seconds": self.reply.numel() / 16_000}

    def set_text(self, text: str) -> dict:
        with self.lock:
            self._text = text  # goes with the next piece; the session holds it from its next chunk
            return {"text": text}

    def push(self, partner: np.ndarray) -> dict:
        with self.lock:
            own = np.zeros_like(partner)
            if self.reply_at is not None:
                piece = self.reply[self.reply_at : self.reply_at + len(partner)].numpy()
                own[: len(piece)] = piece
                self.reply_at += len(partner)
                if self.reply_at >= self.reply.numel():
                    self.reply_at = None
            text, self._text = self._text, None
            frames = self.session.push(own, partner, text=text)
            session = self.session
            compute = sum(session.chunk_seconds)
            made = session.chunks_done * session.settings.chunk_frames
            states = list(session.states)[-len(frames):] if len(frames) else []
            return {
                "frames": jpeg_data_urls(frames) if len(frames) else [],
                "states": [STATE_NAMES[s] for s in states],
                "state": STATE_NAMES[session.follower.state],
                "frames_total": made,
                "fps": session.settings.fps,
                "realtime_factor": made / session.settings.fps / compute if compute else None,
                "speaking_reply": self.reply_at is not None,
            }


def _handler(engine: LiveEngine) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            """Quiet: the page polls many times a second."""

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", _CSP)
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, value: object) -> None:
            self._send(status, json.dumps(value).encode(), "application/json")

        def _addressed_here(self) -> bool:
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
            if host in LOOPBACK_NAMES:
                return True
            self._json(421, {"error": f"the live server answers only 127.0.0.1 or localhost, not {host!r}"})
            return False

        def do_GET(self) -> None:
            if not self._addressed_here():
                return
            page = _PAGE_FILES.get(self.path.split("?", 1)[0])
            if page is None:
                self._json(404, {"error": f"no page {self.path}"})
                return
            name, content_type = page
            self._send(200, resources.files("lpm_train.stream").joinpath("live_page", name).read_bytes(), content_type)

        def do_POST(self) -> None:
            if not self._addressed_here():
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_PIECE_BYTES:
                self.close_connection = True
                self._json(413, {"error": f"a piece is at most {MAX_PIECE_BYTES} bytes (10 s of audio)"})
                return
            body = self.rfile.read(length)
            try:
                if self.path == "/api/push":
                    if length % 4:
                        raise ValueError("a piece is float32 samples: its length must be a multiple of 4")
                    self._json(200, engine.push(np.frombuffer(body, dtype="<f4").astype(np.float32)))
                elif self.path == "/api/reply":
                    self._json(200, engine.start_reply())
                elif self.path == "/api/text":
                    self._json(200, engine.set_text(str(json.loads(body or b"{}").get("text", ""))[:500]))
                elif self.path == "/api/reset":
                    self._json(200, engine.reset())
                else:
                    self._json(404, {"error": f"no endpoint {self.path}"})
            except (ValueError, json.JSONDecodeError) as err:
                self._json(400, {"error": str(err)})

    return Handler


def live_server(engine: LiveEngine, port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(engine))
    server.daemon_threads = True
    return server
