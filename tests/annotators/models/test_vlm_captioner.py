"""The VLM captioner against a local OpenAI-compatible server started by the test (loopback only)."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest

from annotators.captions.caption_writer import write_captions
from annotators.models.vlm_captioner import VlmCaptioner
from annotators.performance.performance_annotator import annotate_segment
from schemas.performance_annotation import validate_caption
from tests.annotators.caption_fixtures import synthetic_segment

MODEL = "test-vlm"
TIMEOUT_S = 1.5


class _Server:
    """What the fake endpoint answers next, and what it was asked."""

    def __init__(self) -> None:
        self.mode = "valid"
        self.answer: object = None
        self.requests: list[tuple[str, dict, dict]] = []


def _handler(state: _Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append((self.path, dict(self.headers), body))
            if state.mode == "http500":
                self.send_error(500, "model crashed")
                return
            if state.mode == "sleep":
                time.sleep(TIMEOUT_S + 2.0)
            content = state.answer if isinstance(state.answer, str) else json.dumps(state.answer)
            payload = json.dumps({"id": "x", "object": "chat.completion", "model": MODEL,
                                  "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                               "finish_reason": "stop"}]}).encode()
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up (timeout test)

    return Handler


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, _Server]]:
    state = _Server()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def annotation() -> dict:
    return annotate_segment(synthetic_segment(nods=((1.0, 7.0, 0.6), (5.0, 6.0, 0.5)), smiles=((3.0, 4.0, 0.6),)))


def _frames(n: int) -> list[bytes]:
    ramp = np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (64, 1))
    return [cv2.imencode(".jpg", np.dstack([ramp, ramp.T, np.full_like(ramp, 10 * i)]))[1].tobytes() for i in range(n)]


def _valid_answer() -> dict:
    return {"short": "The person listens to someone, nodding twice.",
            "detailed": "The person listens for about 8 seconds. They nod twice while the other person talks.",
            "claims": [{"claim": "listening", "evidence": "state", "in": ["short", "detailed"]},
                       {"claim": "back_channel_nod", "evidence": "listener_reactions[0]"},
                       {"claim": "back_channel_nod", "evidence": "listener_reactions[2]"},
                       {"claim": "duration", "evidence": "segment", "in": ["detailed"]}]}


def _ask(server, annotation, mode, answer=None, **kwargs) -> tuple[dict, float]:
    url, state = server
    state.mode, state.answer = mode, answer
    captioner = VlmCaptioner(url, MODEL, timeout_s=TIMEOUT_S, **kwargs)
    start = time.monotonic()
    caption = captioner.caption(annotation, _frames(10), seed="vid-t0-g000")
    validate_caption(caption)
    return caption, time.monotonic() - start


def test_a_valid_answer_is_used_and_the_request_is_well_formed(server, annotation):
    caption, _s = _ask(server, annotation, "valid", _valid_answer(), api_key="k-123", max_frames=3)
    assert caption["captioner"] == f"vlm:{MODEL}"
    assert caption["short"] == "The person listens to someone, nodding twice."
    assert len(caption["claims"]) == 4
    path, headers, body = server[1].requests[-1]
    assert path == "/v1/chat/completions" and headers["Authorization"] == "Bearer k-123"
    assert body["model"] == MODEL and body["response_format"] == {"type": "json_object"}
    user = body["messages"][1]["content"]
    images = [part for part in user if part["type"] == "image_url"]
    assert len(images) == 3 and images[0]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert json.loads(user[0]["text"].removeprefix("Annotation:\n")) == annotation
    again, _s = _ask(server, annotation, "valid", _valid_answer(), api_key="k-123", max_frames=3)
    assert server[1].requests[-1][2]["seed"] == body["seed"] and again == caption


def test_answer_in_a_code_fence_is_accepted(server, annotation):
    caption, _s = _ask(server, annotation, "valid", "```json\n" + json.dumps(_valid_answer()) + "\n```")
    assert caption["captioner"] == f"vlm:{MODEL}"


@pytest.mark.parametrize("answer,reason", [
    ("The person listens and nods.", "answer is not JSON"),
    ({"short": "The person listens, nodding twice.", "claims": []}, "'detailed' is a required property"),
    ({**_valid_answer(), "claims": [{"claim": "wink", "evidence": "state"}]}, "is not one of"),
    ({**_valid_answer(), "claims": [*_valid_answer()["claims"], {"claim": "shake", "evidence": "head_events[0]"}]},
     "does not say so"),
    ({**_valid_answer(), "short": "A young woman listens, nodding twice."}, "which no signal measures"),
    ({**_valid_answer(), "detailed": "The person listens for about 8 seconds and smiles broadly at the end."},
     "without a claim"),
])
def test_invalid_or_unsupported_answers_fall_back(server, annotation, answer, reason):
    caption, _s = _ask(server, annotation, "valid", answer)
    assert caption["captioner"].startswith("deterministic (vlm fallback: ")
    assert reason in caption["captioner"]
    deterministic = write_captions(annotation, "vid-t0-g000")
    assert (caption["short"], caption["detailed"], caption["claims"]) == (
        deterministic["short"], deterministic["detailed"], deterministic["claims"])


def test_http_500_falls_back(server, annotation):
    caption, _s = _ask(server, annotation, "http500")
    assert caption["captioner"] == "deterministic (vlm fallback: HTTP 500)"


def test_a_server_slower_than_the_timeout_falls_back_in_time(server, annotation):
    caption, seconds = _ask(server, annotation, "sleep", _valid_answer())
    assert caption["captioner"] == f"deterministic (vlm fallback: timeout after {TIMEOUT_S:g} s)"
    assert TIMEOUT_S - 0.1 <= seconds <= TIMEOUT_S + 0.6


def test_nothing_listening_falls_back(annotation):
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as probe:
        port = probe.server_address[1]  # a loopback port that is closed once the probe server goes
    caption = VlmCaptioner(f"http://127.0.0.1:{port}/v1", MODEL, timeout_s=TIMEOUT_S).caption(annotation, [], "s")
    assert caption["captioner"].startswith("deterministic (vlm fallback: request failed")
