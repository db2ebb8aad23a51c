"""Node-local copies of remote inputs, so ffmpeg only ever opens local files.

On a cluster a stage may run on any node: ``local_media`` fetches the object into that node's
cache (``node_cache``), keyed by its content id, so it is fetched once a node while it stays
cached. The copy is pinned for this process while the video's block runs (``holding_media``)
and released when the block is done, so the cache may evict it for the next videos.
"""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from curation.ingest.discovery import is_remote
from curation.ingest.node_cache import NodeCache

_bound_bytes: int | None = None  # set per video by ``holding_media``; None: a share of the free disk
_held: dict[str, set[str]] = {}  # video_id -> cache entries this process pinned for it


def cache_dir() -> Path:
    env = os.environ.get("LPM_CACHE_DIR")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lpm-curation"
    return base / "inputs"


def node_cache() -> NodeCache:
    return NodeCache(cache_dir(), _bound_bytes)


def local_copy_name(video_id: str, uri: str) -> str:
    suffix = Path(uri.split("?", 1)[0]).suffix[:8] or ".bin"
    return f"{video_id}{suffix}"


def local_media(work: Any) -> str:
    """The one way a stage opens a video's media: a path on this node, fetched here when remote.

    Stages may run on any node of a cluster, so none may assume the file another stage fetched
    is on its disk; the copy is kept per node, keyed by content id, so it is fetched once a node.
    """
    return ensure_local(work.uri, work.video_id or "")


def ensure_local(uri: str, video_id: str) -> str:
    """A local path holding the input's bytes on this node, pinned until the video is released."""
    if not is_remote(uri):
        return uri
    name = local_copy_name(video_id, uri)
    path = node_cache().fetch(name, uri)
    _held.setdefault(video_id, set()).add(name)
    return str(path)


def release_media(video_id: str) -> None:
    """Unpin what this process fetched for the video: its block is done here."""
    names = _held.pop(video_id, set())
    if names:
        cache = node_cache()
        for name in names:
            cache.release(name)


@contextlib.contextmanager
def holding_media(video_id: str, node_cache_bytes: int | None) -> Iterator[None]:
    """Run a video's block with its node copy pinned, released at the end whatever happens.
    ``node_cache_bytes`` is the run's ``--node-cache-gb`` (None: the default share of the disk)."""
    global _bound_bytes
    earlier, _bound_bytes = _bound_bytes, node_cache_bytes
    try:
        yield
    finally:
        release_media(video_id)
        _bound_bytes = earlier  # the bound is this block's, not the process's from now on
