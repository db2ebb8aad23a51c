"""Give every input a stable ``video_id`` from its bytes, and a clear reason when it has none.

The id is the first 16 hex digits of the SHA-256 of the content, so one file under two names is
one video. Hashing reads the file once; for remote inputs the same pass stores a local copy
(the one later stages decode), so an object is downloaded once per node.
"""

import errno
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import fsspec

from curation.ingest.discovery import is_remote
from curation.ingest.local_copy import local_copy_path
from schemas.reasons import Reason

_CHUNK = 4 << 20


@dataclass(frozen=True)
class InputIdentity:
    uri: str
    video_id: str | None
    size_bytes: int | None
    local_path: str | None
    reason: Reason | None = None  # set when the input cannot be read at all
    detail: str | None = None


def identify_input(uri: str) -> InputIdentity:
    try:
        if is_remote(uri):
            return _identify_remote(uri)
        return _identify_local(uri)
    except FileNotFoundError:
        return InputIdentity(uri, None, None, None, Reason.MISSING_FILE, "file not found when read")
    except PermissionError as err:
        return InputIdentity(uri, None, None, None, Reason.PERMISSION_DENIED, str(err))
    except IsADirectoryError:
        return InputIdentity(uri, None, None, None, Reason.NOT_A_FILE, "a directory, not a file")
    except OSError as err:
        if err.errno == errno.ELOOP:
            return InputIdentity(uri, None, None, None, Reason.NOT_A_FILE, "symbolic link loop")
        return InputIdentity(uri, None, None, None, Reason.UNREADABLE, f"read error: {err}")


def _identify_local(path: str) -> InputIdentity:
    stat = os.stat(path)  # follows links; raises ELOOP for a loop
    if not Path(path).is_file():
        return InputIdentity(path, None, None, None, Reason.NOT_A_FILE, "not a regular file")
    if stat.st_size == 0:
        return InputIdentity(path, None, 0, None, Reason.EMPTY_FILE, "zero bytes")
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return InputIdentity(path, digest.hexdigest()[:16], stat.st_size, path)


def _identify_remote(uri: str) -> InputIdentity:
    digest = hashlib.sha256()
    staging = local_copy_path(f"pending-{hashlib.sha1(uri.encode()).hexdigest()}", uri)
    staging.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with fsspec.open(uri, "rb") as src, open(staging, "wb") as dst:
        for block in iter(lambda: src.read(_CHUNK), b""):
            digest.update(block)
            dst.write(block)
            size += len(block)
    if size == 0:
        staging.unlink(missing_ok=True)
        return InputIdentity(uri, None, 0, None, Reason.EMPTY_FILE, "zero bytes")
    video_id = digest.hexdigest()[:16]
    final = local_copy_path(video_id, uri)
    os.replace(staging, final)
    return InputIdentity(uri, video_id, size, str(final))

