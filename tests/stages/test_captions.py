"""The captions stage on a real conversation, asking a local OpenAI-compatible server started by the
test (a mock only where the remote VLM would be). The server answers each segment with the caption
the deterministic captioner writes from the annotation in the request, so a valid answer that is
put back on the wrong segment shows; its first attempt of every third segment is a 503."""

import copy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from annotators.captions.annotation_document import read_annotation
from annotators.captions.caption_writer import write_captions
from curation.runtime.stage_runner import run_stage
from curation.runtime.video_work import VideoWork
from stages.captions import CaptionsStage
from stages.states import StatesStage


class _Endpoint(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.attempts: dict[str, int] = {}
        self.images: dict[str, int] = {}


class _Handler(BaseHTTPRequestHandler):
    server: _Endpoint

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        segment_id = self.headers["X-Request-Id"]
        with self.server.lock:
            attempt = self.server.attempts.get(segment_id, 0)
            self.server.attempts[segment_id] = attempt + 1
        if attempt == 0 and len(self.server.attempts) % 3 == 0:
            self.send_error(503, "warming up")
            return
        user = body["messages"][1]["content"]
        self.server.images[segment_id] = sum(part["type"] == "image_url" for part in user)
        # the endpoint answers from the annotation document the request carries, as a model would
        caption = write_captions(read_annotation(json.loads(user[0]["text"].removeprefix("Annotation:\n"))), segment_id)
        answer = {k: caption[k] for k in ("short", "detailed", "claims")}
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": json.dumps(answer)}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload.encode())


@pytest.fixture
def endpoint() -> Iterator[_Endpoint]:
    httpd = _Endpoint()
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _captioned(work: VideoWork, stage: CaptionsStage) -> VideoWork:
    stage.setup()
    return run_stage(stage, copy.deepcopy(work))


@pytest.mark.slow
def test_vlm_captions_come_back_on_their_own_segments_once_each(conversation, endpoint):
    _truth, analysed = conversation
    states = StatesStage()
    states.setup()
    work = run_stage(states, copy.deepcopy(analysed))
    assert len(work.segments) >= 3
    plain = _captioned(work, CaptionsStage())
    url = f"http://127.0.0.1:{endpoint.server_address[1]}/v1"
    asked = _captioned(work, CaptionsStage(vlm_endpoint=url, vlm_model="m", vlm_frames=2, max_in_flight=4,
                                           vlm_backoff_s=0.01))
    assert asked.state == plain.state == "pending"
    ids = [s.segment_id for s in work.segments]
    assert list(asked.captions) == ids
    for segment in asked.segments:
        caption = asked.captions[segment.segment_id].caption
        assert caption["captioner"] == "vlm:m"
        assert caption["short"] == segment.caption == plain.captions[segment.segment_id].caption["short"]
    retried = len(ids) // 3
    assert sorted(endpoint.attempts.values()) == [1] * (len(ids) - retried) + [2] * retried
    assert set(endpoint.attempts) == set(ids)
    assert all(0 < n <= 2 for n in endpoint.images.values()), endpoint.images
