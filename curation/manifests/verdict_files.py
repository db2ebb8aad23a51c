"""The files under ``OUT/reviews/<reviewer>/``, read and written without following a symbolic link.

A review server may run for hours on a shared machine next to other people's files; a link
planted as ``reviews/bob`` or ``reviews/bob/<id>.json`` must not make it write (or the readers
read) anywhere else. Every step opens the next folder relative to the one before with
``O_NOFOLLOW`` (no check-then-use gap), and a verdict is created with ``O_EXCL`` then linked to
its final name, which never replaces an existing entry. A link found is reported, never used.

Object stores (fsspec URIs) have no links: there a PUT is atomic and an existence check keeps a
retried verdict from being written twice.
"""

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from curation.store.run_store import TEMP_PREFIX, RunStore

REVIEWS_DIR = "reviews"
# A verdict is a few hundred bytes; anything much larger was not written by this toolkit.
MAX_VERDICT_FILE_BYTES = 65_536
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


class UnsafeReviewsPathError(OSError):
    """A folder on the way to a verdict is a symbolic link (or not a folder): nothing is written."""


@dataclass(frozen=True)
class VerdictFile:
    relative: str  # reviews/<reviewer>/<name>
    reviewer: str
    name: str
    data: bytes | None  # None when the file could not be read safely
    problem: str | None = None


def write_once(store: RunStore, reviewer: str, name: str, data: bytes) -> bool:
    """Create ``reviews/<reviewer>/<name>`` with ``data``; ``False`` when that name already exists."""
    relative = f"{REVIEWS_DIR}/{reviewer}/{name}"
    if store.remote:
        if store.exists(relative):
            return False
        store.write_bytes(relative, data)
        return True
    os.makedirs(store.root, exist_ok=True)
    reviews_fd = _open_folder(None, store.local_path(REVIEWS_DIR), REVIEWS_DIR, create=True)
    try:
        folder_fd = _open_folder(reviews_fd, reviewer, f"{REVIEWS_DIR}/{reviewer}", create=True)
    finally:
        os.close(reviews_fd)
    try:
        return _link_new_file(folder_fd, name, data)
    finally:
        os.close(folder_fd)


def _open_folder(parent_fd: int | None, name: str | os.PathLike, shown: str, create: bool) -> int:
    if create:
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o755, dir_fd=parent_fd)
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except FileNotFoundError:
        raise
    except OSError as err:  # ELOOP for a link, ENOTDIR for a file
        message = f"{shown} is a symbolic link or not a folder: verdicts are not written there"
        raise UnsafeReviewsPathError(message) from err


def _link_new_file(folder_fd: int, name: str, data: bytes) -> bool:
    tmp = f"{TEMP_PREFIX}{secrets.token_hex(8)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=folder_fd)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            # atomic create-if-absent: never replaces a stored verdict (nor a link planted under its name)
            os.link(tmp, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd, follow_symlinks=False)
        except FileExistsError:
            return False
        os.fsync(folder_fd)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=folder_fd)


def verdict_files(store: RunStore) -> Iterator[VerdictFile]:
    """Every committed entry under ``reviews/``, each with its bytes or the reason it was not read."""
    if store.remote:
        for reviewer in store.list(REVIEWS_DIR):
            for name in store.list(f"{REVIEWS_DIR}/{reviewer}"):
                relative = f"{REVIEWS_DIR}/{reviewer}/{name}"
                data = store.read_bytes(relative)
                too_big = len(data) > MAX_VERDICT_FILE_BYTES
                yield VerdictFile(relative, reviewer, name, None if too_big else data, "too large" if too_big else None)
        return
    try:
        reviews_fd = os.open(store.local_path(REVIEWS_DIR), _DIR_FLAGS)
    except FileNotFoundError:
        return
    except OSError:
        yield VerdictFile(REVIEWS_DIR, "", "", None, "a symbolic link or not a folder: not read")
        return
    try:
        for reviewer in _entries(reviews_fd):
            relative = f"{REVIEWS_DIR}/{reviewer}"
            try:
                folder_fd = os.open(reviewer, _DIR_FLAGS, dir_fd=reviews_fd)
            except OSError:
                yield VerdictFile(relative, reviewer, "", None, "a symbolic link or not a folder: not read")
                continue
            try:
                for name in _entries(folder_fd):
                    data, problem = _read_regular(folder_fd, name)
                    yield VerdictFile(f"{relative}/{name}", reviewer, name, data, problem)
            finally:
                os.close(folder_fd)
    finally:
        os.close(reviews_fd)


def _entries(folder_fd: int) -> list[str]:
    return sorted(n for n in os.listdir(folder_fd) if not n.startswith(TEMP_PREFIX))


def _read_regular(folder_fd: int, name: str) -> tuple[bytes | None, str | None]:
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder_fd)
    except OSError:
        return None, "a symbolic link or unreadable: not read"
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None, "not a regular file: not read"
        if info.st_size > MAX_VERDICT_FILE_BYTES:
            return None, f"too large ({info.st_size} bytes): not read"
        return f.read(MAX_VERDICT_FILE_BYTES + 1), None
