"""Captions from a vision-language model behind an OpenAI-compatible endpoint, with a safe fallback.

The model (e.g. vLLM serving a VLM on the cluster) gets a few sampled frames plus the structured
annotation and must answer with JSON: ``{"short", "detailed", "claims"}``. The answer is used only
if it parses, follows the schema's ``caption_answer`` and passes the claim audit (every claim
backed by the annotation, no unmeasured words). Otherwise, and on any HTTP error or timeout, the
deterministic caption is returned with the reason in ``captioner``. The timeout is a wall-clock
deadline for the whole call: the request runs in a daemon thread that is abandoned when late.
"""

import base64
import hashlib
import json
import re
import threading
import urllib.error
import urllib.request
from typing import Any

from annotators.captions.caption_audit import claim_problems
from annotators.captions.caption_writer import write_captions
from annotators.models.model_wrapper import ModelWrapper
from schemas.performance_annotation import AnnotationSchemaError, annotation_schema, validate_caption

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


class VlmCaptioner(ModelWrapper):
    """A client of a remote vision-language model: nothing to load (no model-store entry); ``setup``
    and ``close`` only mark the client open, so it shares the wrappers' lifecycle."""

    def __init__(self, endpoint: str, model: str, timeout_s: float = 30.0, api_key: str | None = None,
                 max_frames: int = 4) -> None:
        url = endpoint.rstrip("/")
        if not url.endswith("/chat/completions"):
            url += "/chat/completions" if url.endswith("/v1") else "/v1/chat/completions"
        self.url, self.model, self.timeout_s = url, model, float(timeout_s)
        self.api_key, self.max_frames = api_key, max(0, int(max_frames))
        self._open = False

    @property
    def is_set_up(self) -> bool:
        return self._open

    def setup(self) -> None:
        self._open = True

    def close(self) -> None:
        self._open = False

    def caption(self, annotation: dict[str, Any], frames_jpeg: list[bytes], seed: str) -> dict[str, Any]:
        """``{"short", "detailed", "captioner", "claims"}``: the VLM's if valid, else the deterministic one."""
        try:
            answer = self._ask(annotation, frames_jpeg, seed)
        except VlmAnswerError as err:
            fallback = write_captions(annotation, seed)
            fallback["captioner"] = f"deterministic (vlm fallback: {err})"
            return fallback
        return answer

    def _request_body(self, annotation: dict[str, Any], frames_jpeg: list[bytes], seed: str) -> bytes:
        step = max(1, -(-len(frames_jpeg) // self.max_frames)) if self.max_frames else len(frames_jpeg) + 1
        frames = frames_jpeg[::step][: self.max_frames]
        content: list[dict[str, Any]] = [{"type": "text", "text": "Annotation:\n" + json.dumps(annotation)}]
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

    def _post(self, body: bytes) -> bytes:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        result: dict[str, Any] = {}

        def call() -> None:
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    result["body"] = response.read()
            except urllib.error.HTTPError as err:
                result["error"] = f"HTTP {err.code}"
            except (urllib.error.URLError, OSError) as err:
                reason = getattr(err, "reason", err)
                result["error"] = f"request failed: {type(reason).__name__}: {reason}"

        worker = threading.Thread(target=call, name="vlm-caption-request", daemon=True)
        worker.start()
        worker.join(self.timeout_s)
        if worker.is_alive() or "timed out" in str(result.get("error", "")):
            raise VlmAnswerError(f"timeout after {self.timeout_s:g} s")
        if "error" in result:
            raise VlmAnswerError(result["error"])
        return result["body"]

    def _ask(self, annotation: dict[str, Any], frames_jpeg: list[bytes], seed: str) -> dict[str, Any]:
        raw = self._post(self._request_body(annotation, frames_jpeg, seed))
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


def _short(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
