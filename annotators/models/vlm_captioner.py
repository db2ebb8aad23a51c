"""Captions from a vision-language model behind an OpenAI-compatible endpoint, with a safe fallback.

The model (e.g. vLLM serving a VLM on the cluster) gets a few sampled frames plus the structured
annotation and must answer with JSON: ``{"short", "detailed", "claims"}``. The answer is used only
if it parses, follows the schema's ``caption_answer`` and passes the claim audit (every claim
backed by the annotation, no unmeasured words). Otherwise the deterministic caption is returned
with the reason in ``captioner``.

``caption_many`` keeps up to ``max_in_flight`` requests open at once, in a pool of threads: the
caller is synchronous (a stage's ``process``) and the threads only wait on sockets, so threads and
blocking ``urllib`` read simpler than an event loop and add no dependency; a serving engine such
as vLLM batches the concurrent requests itself (continuous batching), which is why there is no
batch request (the OpenAI chat API has none but the offline, file-based Batch API). Results come
back in the order asked. An attempt that fails in a way that may pass (HTTP 408, 429, 5xx, a
refused or reset connection, a timeout) is tried again, up to ``retries`` times, after an
exponential backoff with jitter (``backoff_s`` doubled per attempt, at most ``MAX_BACKOFF_S``, or
the server's ``Retry-After`` when longer); any other HTTP error, or an answer that does not
validate, falls back at once (the same question gets the same answer: temperature 0, a seed per
segment). The timeout is a wall-clock deadline per attempt: the request runs in a daemon thread
that is abandoned when late. So one caption takes at most ``(retries + 1) * timeout_s`` plus the
backoffs, and every segment gets exactly one caption, the model's or the fallback.
"""

import base64
import hashlib
import json
import random
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from annotators.captions.caption_audit import claim_problems
from annotators.captions.caption_writer import write_captions
from annotators.models.model_wrapper import ModelWrapper
from schemas.annotation_classes import PerformanceAnnotation
from schemas.performance_annotation import (
    AnnotationSchemaError,
    annotation_document,
    annotation_schema,
    validate_caption,
)

MAX_BACKOFF_S = 30.0  # longest wait between two attempts, Retry-After included
T = TypeVar("T")

_CLAIM_SCHEMA = annotation_schema()["$defs"]["claim"]["properties"]
SYSTEM_PROMPT = (
    "You caption short clips of one person in a conversation for a video dataset. You get sampled "
    "frames and a JSON performance annotation measured from the clip's signals. Write a short caption "
    "(one sentence) and a detailed caption (2-4 sentences) that begin with the person's state "
    "(speaking, listening or idle) and describe only what the annotation supports with confidence >= 0.5. "
    "Call the subject 'the person' or 'they'; never state gender, age, identity, ethnicity or emotions "
    "the annotation does not name, and never mention laughter. Answer with one JSON object: "
    '{"short": str, "detailed": str, "claims": [{"claim": str, "evidence": str, "qualifier"?: str, '
    '"in": ["short"|"detailed", ...]}]} where each claim names one thing a caption says, from '
    f"{_CLAIM_SCHEMA['claim']['enum']}, evidence is the annotation path that supports it (for example "
    '"state", "head_events[0]", "expressions.timeline[2]", "gaze", "listener_reactions[1]", "shot"), '
    f"and qualifier, when a caption says so, is one of {_CLAIM_SCHEMA['qualifier']['enum']}."
)
_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$")


@dataclass(frozen=True)
class CaptionRequest:
    """One segment's question: its annotation, its sampled frames (``VlmCaptioner.sample``) and id."""

    annotation: PerformanceAnnotation
    frames_jpeg: list[bytes]
    segment_id: str


class VlmCaptioner(ModelWrapper):
    """A client of a remote vision-language model: nothing to load (no model-store entry); ``setup``
    and ``close`` only mark the client open, so it shares the wrappers' lifecycle."""

    def __init__(self, endpoint: str, model: str, timeout_s: float = 30.0, api_key: str | None = None,
                 max_frames: int = 4, max_in_flight: int = 16, retries: int = 3, backoff_s: float = 0.5) -> None:
        url = endpoint.rstrip("/")
        if not url.endswith("/chat/completions"):
            url += "/chat/completions" if url.endswith("/v1") else "/v1/chat/completions"
        self.url, self.model, self.timeout_s = url, model, float(timeout_s)
        self.api_key, self.max_frames = api_key, max(0, int(max_frames))
        self.max_in_flight, self.retries, self.backoff_s = max(1, int(max_in_flight)), max(0, int(retries)), backoff_s

    def load_model(self) -> str:
        """Nothing to load from a remote endpoint: set up means in use (its URL)."""
        return self.url

    def sample(self, frames: Sequence[T]) -> list[T]:
        """The frames a request carries: at most ``max_frames``, evenly spread. Sampling again is a
        no-op, so a caller may sample crop references before reading their JPEGs."""
        if not self.max_frames:
            return []
        step = max(1, -(-len(frames) // self.max_frames))
        return list(frames[::step][: self.max_frames])

    def caption_many(self, requests: Sequence[CaptionRequest]) -> list[dict[str, Any]]:
        """One caption per request, in the order given, with up to ``max_in_flight`` requests open."""
        if self.max_in_flight == 1 or len(requests) <= 1:
            return [self.caption(r.annotation, r.frames_jpeg, r.segment_id) for r in requests]
        workers = min(self.max_in_flight, len(requests))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vlm-caption") as pool:
            return list(pool.map(lambda r: self.caption(r.annotation, r.frames_jpeg, r.segment_id), requests))

    def caption(self, annotation: PerformanceAnnotation, frames_jpeg: list[bytes], seed: str) -> dict[str, Any]:
        """``{"short", "detailed", "captioner", "claims"}``: the VLM's if valid, else the deterministic one."""
        try:
            answer = self._ask(annotation, frames_jpeg, seed)
        except VlmAnswerError as err:
            fallback = write_captions(annotation, seed)
            fallback["captioner"] = f"deterministic (vlm fallback: {err})"
            return fallback
        return answer

    def _request_body(self, annotation: PerformanceAnnotation, frames_jpeg: list[bytes], seed: str) -> bytes:
        frames = self.sample(frames_jpeg)
        # the model reads the annotation as the JSON document the schema defines
        document = json.dumps(annotation_document(annotation))
        content: list[dict[str, Any]] = [{"type": "text", "text": "Annotation:\n" + document}]
        content += [{"type": "image_url",
                     "image_url": {"url": "data:image/jpeg;base64," + base64.b64encode(f).decode("ascii")}}
                    for f in frames]
        body = {
            "model": self.model,
            "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": content}],
            "temperature": 0.0,
            "max_tokens": 800,
            "response_format": {"type": "json_object"},
            # the same segment asks the same question with the same sampling seed
            "seed": int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big"),
        }
        return json.dumps(body).encode("utf-8")

    def _post(self, body: bytes, request_id: str) -> bytes:
        """The response body, trying again after a failure that may pass (module docstring)."""
        attempts = 0
        while True:
            attempts += 1
            try:
                return self._attempt(body, request_id)
            except RetryableError as err:
                if attempts > self.retries:
                    raise VlmAnswerError(f"{err} after {attempts} attempts" if attempts > 1 else str(err)) from err
                # Full jitter: requests that failed together (a server restarting) do not return together.
                delay = random.uniform(0.0, min(MAX_BACKOFF_S, self.backoff_s * 2 ** (attempts - 1)))
                time.sleep(max(delay, min(MAX_BACKOFF_S, err.retry_after_s)))

    def _attempt(self, body: bytes, request_id: str) -> bytes:
        # X-Request-Id: the segment, in the server's logs (and how the tests count requests per segment)
        headers = {"Content-Type": "application/json", "X-Request-Id": request_id}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        result: dict[str, Any] = {}

        def call() -> None:
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    result["body"] = response.read()
            except urllib.error.HTTPError as err:
                result["status"], result["retry_after"] = err.code, err.headers.get("Retry-After")
            except (urllib.error.URLError, OSError) as err:
                reason = getattr(err, "reason", err)
                result["error"] = f"request failed: {type(reason).__name__}: {reason}"

        worker = threading.Thread(target=call, name="vlm-caption-request", daemon=True)
        worker.start()
        worker.join(self.timeout_s)
        if worker.is_alive() or "timed out" in str(result.get("error", "")):
            raise RetryableError(f"timeout after {self.timeout_s:g} s")
        if "error" in result:
            raise RetryableError(result["error"])
        status = result.get("status")
        if status is not None:
            if status in (408, 429) or status >= 500:
                raise RetryableError(f"HTTP {status}", _seconds(result["retry_after"]))
            raise VlmAnswerError(f"HTTP {status}")
        return result["body"]

    def _ask(self, annotation: PerformanceAnnotation, frames_jpeg: list[bytes], seed: str) -> dict[str, Any]:
        raw = self._post(self._request_body(annotation, frames_jpeg, seed), seed)
        try:
            content = json.loads(raw)["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as err:
            raise VlmAnswerError(f"not an OpenAI chat completion response ({type(err).__name__})") from err
        try:
            answer = json.loads(_FENCE.sub("", str(content)))
        except ValueError as err:
            raise VlmAnswerError("answer is not JSON") from err
        try:
            validate_caption(answer, "caption_answer")
        except AnnotationSchemaError as err:
            raise VlmAnswerError(_short(str(err))) from err
        caption = {"short": answer["short"].strip(), "detailed": answer["detailed"].strip(),
                   "captioner": f"vlm:{self.model}", "claims": answer["claims"]}
        problems = claim_problems(annotation, caption)
        if problems:
            raise VlmAnswerError(_short(f"unsupported by the annotation: {'; '.join(problems)}"))
        try:
            validate_caption(caption)
        except AnnotationSchemaError as err:
            raise VlmAnswerError(_short(str(err))) from err
        return caption


class VlmAnswerError(RuntimeError):
    """The endpoint gave no usable caption; the message says why."""


class RetryableError(VlmAnswerError):
    """An attempt failed in a way another attempt may not (overload, restart, network)."""

    def __init__(self, message: str, retry_after_s: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def _seconds(retry_after: str | None) -> float:
    """A ``Retry-After`` header in seconds (the HTTP-date form counts as none)."""
    try:
        return max(0.0, float(retry_after)) if retry_after else 0.0
    except ValueError:
        return 0.0


def _short(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
