"""Node-local copies of remote inputs, so ffmpeg only ever opens local files.

On a cluster a later stage may run on another node than the one that hashed the input:
``ensure_local`` fetches the object again there (once per node), keyed by its content id.
"""

import os
import tempfile
from pathlib import Path
from typing import Any

import fsspec

from curation.ingest.discovery import is_remote


def cache_dir() -> Path:
    env = os.environ.get("LPM_CACHE_DIR")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lpm-curation"
    return base / "inputs"


def local_copy_path(video_id: str, uri: str) -> Path:
    suffix = Path(uri.split("?", 1)[0]).suffix[:8] or ".bin"
    return cache_dir() / f"{video_id}{suffix}"


def local_media(work: Any) -> str:
    """The one way a stage opens a video's media: a path on this node, fetched here when remote.

    Stages may run on any node of a cluster, so none may assume the file another stage fetched
    is on its disk; the copy is kept per node, keyed by content id, so it is fetched once a node.
    """
    return ensure_local(work.uri, work.video_id or "")


def ensure_local(uri: str, video_id: str) -> str:
    """A local path holding the input's bytes on this node."""
    if not is_remote(uri):
        return uri
    target = local_copy_path(video_id, uri)
    if target.exists():
        return str(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".fetch-")
    with os.fdopen(fd, "wb") as dst, fsspec.open(uri, "rb") as src:
        for block in iter(lambda: src.read(4 << 20), b""):
            dst.write(block)
    os.replace(tmp, target)
    return str(target)
