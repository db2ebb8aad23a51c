"""Give every input a stable ``video_id`` from its bytes, and a clear reason when it has none.

The id is the first 16 hex digits of the SHA-256 of the content, so one file under two names is
one video. Hashing streams the bytes through the hash in chunks, local file or remote object
alike: identify keeps no copy (the node that analyses a video fetches it into its bounded cache,
``node_cache``). Object stores' own checksums cannot stand in: S3's ETag is an MD5, or a hash of
part hashes for multipart uploads, and the id must stay the same function of the bytes.

A disk or network that fails while reading is the machine's fault, not the input's: it is raised
(the identify task fails, nothing is recorded, a resumed run identifies the input again), never
recorded as ``unreadable``.
"""

import errno
import hashlib
import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import fsspec

from curation.faults.infra_fault import is_infrastructure_fault
from curation.faults.store_retry import with_retries
from curation.ingest.discovery import is_remote
from schemas.reasons import Reason

_CHUNK = 4 << 20


@dataclass(frozen=True)
class InputIdentity:
    uri: str
    video_id: str | None
    size_bytes: int | None
    local_path: str | None  # a local input's path; None for a remote one (no copy is made to identify it)
    reason: Reason | None = None  # set when the input cannot be read at all
    detail: str | None = None

    def to_json(self) -> bytes:
        return json.dumps({**asdict(self), "reason": str(self.reason) if self.reason else None}).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> "InputIdentity":
        identity = cls(**json.loads(data))
        # the reason is stored as its code: read back as the Reason it names
        return replace(identity, reason=Reason(identity.reason)) if identity.reason else identity


def identify_input(uri: str) -> InputIdentity:
    try:
        if is_remote(uri):
            # a dropped connection or a 5xx starts the hash over after a pause (store_retry)
            return with_retries(lambda: _identify_remote(uri), f"reading input {uri}")
        return _identify_local(uri)
    except FileNotFoundError:
        return InputIdentity(uri, None, None, None, Reason.MISSING_FILE, "file not found when read")
    except PermissionError as err:
        return InputIdentity(uri, None, None, None, Reason.PERMISSION_DENIED, str(err))
    except IsADirectoryError:
        return InputIdentity(uri, None, None, None, Reason.NOT_A_FILE, "a directory, not a file")
    except OSError as err:
        if is_infrastructure_fault(err):
            raise  # a full or failing disk, a store beyond its retries: not this input's fault
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
    size = 0
    with fsspec.open(uri, "rb") as src:
        for block in iter(lambda: src.read(_CHUNK), b""):
            digest.update(block)
            size += len(block)
    if size == 0:
        return InputIdentity(uri, None, 0, None, Reason.EMPTY_FILE, "zero bytes")
    return InputIdentity(uri, digest.hexdigest()[:16], size, None)
