"""The run directory (``--out``) as a small key/value store with atomic writes.

Local directories: write to a temporary name in the same folder, fsync, then rename, so a run
killed at any moment leaves either the old file or the new one, never a partial file under a
trusted name. Object stores (fsspec URIs): a single PUT is atomic by itself.

Every request is sent again while it fails for a passing reason (``store_retry``: 5xx,
throttling, resets, timeouts), with a jittered exponential backoff; a missing file is answered at
once. For S3, boto's and s3fs's own retry loops are off so that every retry is made, and counted,
here.

Nothing is written or removed through a symbolic link inside a local run directory, nor outside
it (``..``): a link planted in the run (``shards -> /home/me``) would otherwise have the run write
over, or delete, files that are not the run's. The run directory itself may be reached through a
link: the user chose that path.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import fsspec

from curation.atomic_file import write_atomically
from curation.faults.store_retry import with_retries
from curation.ingest.discovery import is_remote
from curation.store.remote_listing import folder_names

TEMP_PREFIX = ".tmp-"
# S3 without boto's retries (one attempt in all) nor s3fs's: ``with_retries`` makes them. Each store
# has its own client: fsspec's instance cache keys on these arguments only, not on the endpoint and
# credentials botocore reads from the environment, so a cached client could still point at an
# endpoint that has since gone (seen in CI: a test's moto server, closed, reused by the next test).
_S3_OPTIONS = {"config_kwargs": {"retries": {"total_max_attempts": 1, "mode": "standard"}},
               "skip_instance_cache": True}


class UnsafeRunPathError(PermissionError):
    """A write or removal that would leave the run directory, or pass through a link inside it."""


class RunStore:
    def __init__(self, uri: str) -> None:
        self.uri = uri.rstrip("/")
        self.remote = is_remote(uri)
        if self.remote:
            protocol = self.uri.split("://", 1)[0]
            self.fs, self.root = fsspec.core.url_to_fs(self.uri, **(_S3_OPTIONS if protocol in ("s3", "s3a") else {}))
            if protocol in ("s3", "s3a"):
                self.fs.retries = 1  # s3fs's loop: one try (this instance is the run store's own)
                # One GET per whole-object read: with more, s3fs first asks the object's size (a HEAD,
                # and a LIST when it is missing) to split large downloads, which triples the round
                # trips of the small JSON objects a barrier reads by the thousand.
                self.fs.max_concurrency = 1
        else:
            self.fs, self.root = None, os.path.abspath(uri.removeprefix("file://"))

    def path(self, relative: str) -> str:
        return f"{self.root}/{relative}" if self.remote else os.path.join(self.root, relative)

    def local_path(self, relative: str) -> Path:
        if self.remote:
            raise ValueError("the run directory is remote; use read/write")
        return Path(self.path(relative))

    def writable_path(self, relative: str) -> str:
        """The local path of ``relative`` for a write or a removal, refused through any link below the root."""
        parts = os.path.normpath(relative).split(os.sep)
        if os.path.isabs(relative) or parts[0] == "..":
            raise UnsafeRunPathError(f"{relative!r} is outside the run directory {self.root}")
        current = self.root
        for part in parts:
            current = os.path.join(current, part)
            if os.path.islink(current):
                raise UnsafeRunPathError(f"refusing to write through the link {current} in the run directory "
                                         f"(it points to {os.readlink(current)}); remove the link")
        return current

    def exists(self, relative: str) -> bool:
        if self.remote:
            return with_retries(lambda: self.fs.exists(self.path(relative)), f"checking {relative}")
        return os.path.exists(self.path(relative))

    def read_bytes(self, relative: str) -> bytes:
        return with_retries(lambda: self._read_bytes(relative), f"reading {relative}")

    def _read_bytes(self, relative: str) -> bytes:
        if self.remote:
            return self.fs.cat_file(self.path(relative))
        with open(self.path(relative), "rb") as f:
            return f.read()

    def open_read(self, relative: str) -> BinaryIO:
        """A binary file object for random access (shard reads by offset)."""
        if self.remote:
            return with_retries(lambda: self.fs.open(self.path(relative), "rb"), f"opening {relative}")
        return open(self.path(relative), "rb")  # returned open: the caller's with-block closes it

    def write_bytes(self, relative: str, data: bytes) -> None:
        with_retries(lambda: self._write_bytes(relative, data), f"writing {relative}")

    def _write_bytes(self, relative: str, data: bytes) -> None:
        if self.remote:
            self.fs.pipe_file(self.path(relative), data)
            return
        target = self.writable_path(relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        write_atomically(target, data, TEMP_PREFIX)

    def put_file(self, local: str, relative: str) -> None:
        """Upload the local file ``local`` to ``relative`` (remote stores only: a local run renames)."""
        with_retries(lambda: self.fs.put_file(local, self.path(relative)), f"uploading {relative}")

    def find(self, relative_dir: str, suffixes: tuple[str, ...]) -> list[str]:
        """Relative paths of every file below a folder of a remote store whose name ends with one of
        ``suffixes`` (none when the folder is absent)."""
        folder = self.path(relative_dir)

        def found() -> list[str]:
            try:  # no exists() first: the listing answers for a missing prefix too (see _list)
                paths = self.fs.find(folder)
            except FileNotFoundError:
                paths = []
            return [p.removeprefix(self.root + "/") for p in paths if p.endswith(suffixes)]

        return with_retries(found, f"listing {relative_dir}")

    def list(self, relative_dir: str, suffix: str = "") -> Iterator[str]:
        """Names (not paths) of committed files in a folder; temporary files are never listed."""
        yield from with_retries(lambda: self._list(relative_dir, suffix), f"listing {relative_dir}")

    def _list(self, relative_dir: str, suffix: str) -> tuple[str, ...]:
        folder = self.path(relative_dir)
        if self.remote:
            names = folder_names(self.fs, folder, suffix)  # a page at a time, the details never kept
        else:
            names = os.listdir(folder) if os.path.isdir(folder) else []
        return tuple(sorted(n for n in names if n.endswith(suffix) and not n.startswith(TEMP_PREFIX)))

    def remove(self, relative: str) -> None:
        """Delete a file or a whole folder (missing is fine): leftovers a rerun must not trust."""
        with_retries(lambda: self._remove(relative), f"removing {relative}")

    def _remove(self, relative: str) -> None:
        if self.remote:
            target = self.path(relative)
            if self.fs.exists(target):
                self.fs.rm(target, recursive=True)
            return
        target = self.writable_path(relative)
        if os.path.isdir(target):
            shutil.rmtree(target, ignore_errors=True)
        else:
            Path(target).unlink(missing_ok=True)

    def remove_temporaries(self) -> int:
        """Delete leftovers of writes a killed run did not finish; returns how many."""
        if self.remote or not os.path.isdir(self.root):
            return 0
        removed = 0
        for folder, _dirs, files in os.walk(self.root):
            for name in files:
                if name.startswith(TEMP_PREFIX):
                    os.unlink(os.path.join(folder, name))
                    removed += 1
        return removed
