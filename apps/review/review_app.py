"""The review web app (Starlette): items, their media, and verdicts, for one run directory.

Everything the browser can ask for is addressed by the position of an item in this session's
sample (``/api/items/3/clip.mp4``) and a member name checked against the sample's shard index,
never by a path: no request can name a file, inside the run or outside it. Media is read through
the shard index (byte offsets, SHA-256 checked); a prepared clip is cached for the session.
"""

import uuid
from collections import OrderedDict
from dataclasses import asdict
from importlib import resources
from threading import Lock

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from apps.review.byte_ranges import ranged_response
from apps.review.item_media import CONTEXT_S, playable_clip, reference_names, sample_members, source_window, timeline
from apps.review.request_guard import LOCAL_HOSTS, RequestGuard
from apps.review.review_items import ReviewItem
from apps.review.verdict_body import BodyError, posted_fields, read_bounded
from curation.manifests.review_verdicts import (
    Verdict,
    VerdictError,
    latest_verdicts,
    now_utc,
    read_verdicts,
    record_verdict,
)
from curation.manifests.verdict_files import UnsafeReviewsPathError
from curation.store.run_store import RunStore
from schemas.review_verdict import REVIEW_REASON_DESCRIPTIONS

_CACHE_ITEMS = 16


class ReviewSession:
    """The run, the sampled items and a small cache of prepared clips."""

    def __init__(self, out: str, items: list[ReviewItem], reviewer: str) -> None:
        self.store = RunStore(out)
        self.items = items
        self.by_id = {item.item: item for item in items}
        self.reviewer = reviewer
        self._clips: OrderedDict[int, bytes | None] = OrderedDict()
        self._lock = Lock()

    def item(self, request: Request) -> ReviewItem:
        index = request.path_params["index"]
        if not 0 <= index < len(self.items):
            raise LookupError(f"no item {index}")
        return self.items[index]

    def clip(self, index: int) -> bytes | None:
        with self._lock:
            if index in self._clips:
                self._clips.move_to_end(index)
                return self._clips[index]
        data = playable_clip(self.store, self.items[index])
        with self._lock:
            self._clips[index] = data
            while len(self._clips) > _CACHE_ITEMS:
                self._clips.popitem(last=False)
        return data


def create_app(session: ReviewSession, hosts: tuple[str, ...] = LOCAL_HOSTS, token: str | None = None) -> Starlette:
    """The app; ``hosts`` are the Host names it answers to, ``token`` the access token (remote review)."""
    page = resources.files("apps.review") / "page"

    def index(_: Request) -> Response:
        return Response((page / "review.html").read_bytes(), media_type="text/html; charset=utf-8")

    def script(_: Request) -> Response:
        return Response((page / "review.js").read_bytes(), media_type="text/javascript; charset=utf-8")

    def items(_: Request) -> JSONResponse:
        reasons = [{"code": r.value, "description": d} for r, d in REVIEW_REASON_DESCRIPTIONS.items()]
        return JSONResponse({"items": [i.public() for i in session.items], "reasons": reasons,
                             "reviewer": session.reviewer, "run": session.store.uri})

    def clip(request: Request) -> Response:
        item = session.item(request)
        data = session.clip(request.path_params["index"])
        if data is None:
            return PlainTextResponse(f"nothing to play for {item.item}", status_code=404)
        return ranged_response(request, data, "video/mp4")

    def reference(request: Request) -> Response:
        members = sample_members(session.store, session.item(request))
        names = reference_names(members)
        n = request.path_params["n"]
        if not 0 <= n < len(names):
            return PlainTextResponse("no such reference", status_code=404)
        return Response(members[names[n]], media_type="image/jpeg")

    def item_timeline(request: Request) -> JSONResponse:
        item = session.item(request)
        members = sample_members(session.store, item)
        data = timeline(members)
        data["references"] = len(reference_names(members))
        data["span"] = [item.t_start, item.t_end]
        # where a rejection's clip starts and ends in its source, so the page can mark the span itself
        data["window"] = list(source_window(item)) if item.kind == "rejected" else [item.t_start, item.t_end]
        data["marked"] = [item.t_start, data["window"][1] - CONTEXT_S] if item.kind == "rejected" else data["span"]
        return JSONResponse(data)

    def verdicts(_: Request) -> JSONResponse:
        """Each reviewer's standing verdict per item of this session (undone ones withdrawn)."""
        standing = latest_verdicts(read_verdicts(session.store))
        return JSONResponse([asdict(v) for v in standing if v.item in session.by_id])

    async def post_verdict(request: Request) -> JSONResponse:
        try:
            posted = posted_fields(await read_bounded(request))
            if not isinstance(posted["item"], str) or posted["item"] not in session.by_id:
                raise VerdictError(f"item {str(posted['item'])[:80]!r} is not one of this session's items")
            item = session.by_id[posted["item"]]
            verdict_id = uuid.uuid4().hex if posted.get("verdict_id") is None else posted["verdict_id"]
            verdict = Verdict(
                verdict_id=verdict_id, reviewer=posted["reviewer"], time=now_utc(), item=item.item,
                item_kind=item.kind, stratum=item.stratum,
                verdict=posted["verdict"], reason=posted.get("reason"), note=_blank_to_none(posted.get("note")),
            )
            stored = record_verdict(session.store, verdict)
        except BodyError as err:
            # a body too large is not read on: close the connection rather than drain the rest
            close = {"connection": "close"} if err.status == 413 else None
            return JSONResponse({"error": f"bad verdict: {err}"}, status_code=err.status, headers=close)
        except VerdictError as err:
            return JSONResponse({"error": f"bad verdict: {err}"}, status_code=400)
        except UnsafeReviewsPathError as err:
            return JSONResponse({"error": f"not stored: {err}"}, status_code=409)
        return JSONResponse({"stored": stored, "verdict_id": verdict.verdict_id}, status_code=201 if stored else 200)

    routes = [
        Route("/", index),
        Route("/review.js", script),
        Route("/api/items", items),
        Route("/api/items/{index:int}/clip.mp4", clip),
        Route("/api/items/{index:int}/ref/{n:int}.jpg", reference),
        Route("/api/items/{index:int}/timeline", item_timeline),
        Route("/api/verdicts", verdicts, methods=["GET"]),
        Route("/api/verdicts", post_verdict, methods=["POST"]),
    ]

    async def not_found(_: Request, err: Exception) -> Response:
        return PlainTextResponse(str(err) or "not found", status_code=404)

    return Starlette(routes=routes, middleware=[Middleware(RequestGuard, hosts=hosts, token=token)],
                     exception_handlers={LookupError: not_found})


def _blank_to_none(note: object) -> object:
    """An empty note is no note; any other value goes to the verdict's type check as it is."""
    return None if isinstance(note, str) and not note.strip() else note


def strata_counts(session: ReviewSession) -> dict[str, int]:
    strata: dict[str, int] = {}
    for item in session.items:
        strata[f"{item.kind}: {item.stratum}"] = strata.get(f"{item.kind}: {item.stratum}", 0) + 1
    return strata
