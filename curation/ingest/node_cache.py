"""A node's copies of remote inputs: an LRU cache bounded in bytes, shared by every process there.

ffmpeg opens local files, so a remote input is copied to the node that analyses it. Kept without
a bound, the copies filled node disks near 10^3 hours of input (issue 36); here they are bounded:

- the bound is ``bound_bytes`` (``--node-cache-gb``), or by default ``DEFAULT_FREE_FRACTION`` of
  what the cache folder's disk has free plus what the cache already holds there;
- a fetch first reserves the object's size (learnt from the store), evicting the least recently
  used entries that no process has pinned; when pinned entries leave no room it waits for a
  release (up to ``wait_s``), so the bytes held and reserved never exceed the bound;
- the process that fetched or found an entry pins it until it calls ``release`` (the pipeline
  releases a video's copy when its block is done), and an entry pinned by a live process is never
  evicted;
- a download goes to a temporary name of its process (``.fetch-<pid>-...``), is flushed to disk
  and renamed into place: no reader ever sees half a file, and two processes fetching at once
  never write the same file (the second waits for the first and uses its copy).

A full disk (``ENOSPC``, or ``EDQUOT`` over a quota) while copying is the node's fault, not the
input's: the cache evicts what it can and tries once more, then raises the ``OSError`` with its
errno, which ``curation.faults.infra_fault`` classifies as an infrastructure fault (the video is
run again on another worker or on resume; it is never rejected for it). An object bigger than
the whole bound, or no room freed within ``wait_s``, raises ``NodeCacheFullError`` (infra too).
"""

import errno
import os
import shutil
import tempfile
import time
from pathlib import Path

import fsspec

from curation.faults.infra_fault import InfrastructureFaultError
from curation.ingest.node_cache_index import (
    FETCH_PREFIX,
    CacheEntry,
    CacheIndex,
    live_pins,
    locked_index,
    process_alive,
)

DEFAULT_FREE_FRACTION = 0.5  # of the disk's free space (plus the cache's own bytes) when no bound is set
WAIT_FOR_ROOM_S = 900.0  # pinned entries are released when their video's block ends: minutes at most
_POLL_S = 0.2
_CHUNK = 4 << 20
_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


class NodeCacheFullError(InfrastructureFaultError):
    """The node cache cannot make room for an object: it is bigger than the bound, or every byte
    stayed pinned for ``wait_s``. The node's limit, not the input's fault."""


class NodeCache:
    def __init__(self, root: Path, bound_bytes: int | None = None, wait_s: float = WAIT_FOR_ROOM_S) -> None:
        self.root = root
        self.bound_bytes = bound_bytes
        self.wait_s = wait_s

    def fetch(self, name: str, uri: str) -> Path:
        """A local path holding ``uri``'s bytes under ``name``, pinned for this process until
        ``release(name)``; downloaded unless this node has it."""
        for attempt in (1, 2):
            try:
                return self._fetch_once(name, uri)
            except OSError as err:
                if err.errno not in _DISK_FULL:
                    raise
                freed = self.evict_unpinned()
                if attempt == 2 or not freed:
                    raise OSError(
                        err.errno,
                        f"{err.strerror}: the node cache at {self.root} could not hold {name} "
                        f"(a node fault: the video is run again elsewhere or on resume)",
                        err.filename,
                    ) from err
        raise AssertionError("unreachable")

    def release(self, name: str) -> None:
        """This process no longer uses ``name``: it may be evicted once nobody else does."""
        pid = os.getpid()
        with locked_index(self.root) as index:
            entry = index.entries.get(name)
            if entry is not None:
                entry.pins = [p for p in entry.pins if p != pid]

    def evict_unpinned(self) -> int:
        """Remove every entry that no live process uses; returns the bytes freed."""
        with locked_index(self.root) as index:
            return self._evict(index, excess=None)

    def stats(self) -> CacheIndex:
        with locked_index(self.root) as index:
            return index

    def bound(self, index: CacheIndex) -> int:
        if self.bound_bytes is not None:
            return self.bound_bytes
        on_disk = sum(entry.size for entry in index.entries.values() if entry.fetching is None)
        return int(DEFAULT_FREE_FRACTION * (shutil.disk_usage(self.root).free + on_disk))

    def _fetch_once(self, name: str, uri: str) -> Path:
        target = self.root / name
        if self._pin_if_present(name):
            return target
        fs, path = fsspec.core.url_to_fs(uri)
        expected = int(fs.size(path) or 0)  # unknown (0): reserved while the bytes arrive
        if not self._claim(name, expected):
            return target  # another process of this node fetched it meanwhile; pinned for us now
        temporary = None
        try:
            fd, temporary = tempfile.mkstemp(dir=self.root, prefix=f"{FETCH_PREFIX}{os.getpid()}-")
            written, reserved = 0, expected
            with os.fdopen(fd, "wb") as dst, fs.open(path, "rb") as src:
                for block in iter(lambda: src.read(_CHUNK), b""):
                    if written + len(block) > reserved:
                        reserved = self._grow(name, written + len(block))
                    dst.write(block)
                    written += len(block)
                dst.flush()
                os.fsync(dst.fileno())  # renamed only once its bytes are on disk
            with locked_index(self.root) as index:
                os.replace(temporary, target)
                entry = index.entries[name]
                entry.size, entry.fetching, entry.used = written, None, index.tick()
                index.note_peak()
        except BaseException:
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)
            with locked_index(self.root) as index:
                entry = index.entries.get(name)
                if entry is not None and entry.fetching == os.getpid():
                    del index.entries[name]
            raise
        return target

    def _pin_if_present(self, name: str) -> bool:
        with locked_index(self.root) as index:
            entry = self._settled(index, name)
            if entry is None or entry.fetching is not None:
                return False
            self._pin(index, entry)
            return True

    def _claim(self, name: str, size: int) -> bool:
        """Reserve ``size`` bytes for fetching ``name`` (True), or pin the copy another process
        made while this one waited (False). Waits while pinned entries leave no room."""
        deadline = time.monotonic() + self.wait_s
        while True:
            with locked_index(self.root) as index:
                entry = self._settled(index, name)
                if entry is not None and entry.fetching is None:
                    self._pin(index, entry)
                    return False
                if entry is None and self._make_room(index, size):
                    index.entries[name] = CacheEntry(size, index.tick(), [os.getpid()], os.getpid())
                    index.note_peak()
                    return True
            self._wait_or_give_up(deadline, name, size)

    def _grow(self, name: str, needed: int) -> int:
        """Reserve more for a download whose object turned out bigger than announced (or had no
        announced size): ``needed`` and a chunk ahead, within the bound."""
        deadline = time.monotonic() + self.wait_s
        while True:
            with locked_index(self.root) as index:
                entry = index.entries[name]
                bound = self.bound(index)
                if needed > bound:
                    raise NodeCacheFullError(self._too_big(name, needed, bound))
                size = min(needed + _CHUNK, bound)
                if self._make_room(index, size - entry.size):
                    entry.size = size
                    index.note_peak()
                    return size
            self._wait_or_give_up(deadline, name, needed)

    def _make_room(self, index: CacheIndex, extra: int) -> bool:
        """Evict least recently used unpinned entries until ``extra`` more bytes fit the bound."""
        bound = self.bound(index)
        if extra > bound:
            raise NodeCacheFullError(self._too_big("an input", extra, bound))
        excess = index.held_bytes() + extra - bound
        if excess > 0:
            excess -= self._evict(index, excess)
        return excess <= 0

    def _too_big(self, name: str, size: int, bound: int) -> str:
        return (f"{name} ({size} bytes) is bigger than the node cache's bound of {bound} bytes at "
                f"{self.root} (raise --node-cache-gb)")

    def _evict(self, index: CacheIndex, excess: int | None) -> int:
        """Remove unpinned entries, least recently used first, until ``excess`` bytes are freed
        (all of them for None); returns the bytes freed."""
        freed = 0
        for name in sorted(index.entries, key=lambda n: index.entries[n].used):
            if excess is not None and freed >= excess:
                break
            entry = self._settled(index, name)
            if entry is None or entry.fetching is not None or entry.pins:
                continue
            (self.root / name).unlink(missing_ok=True)
            del index.entries[name]
            index.evictions += 1
            freed += entry.size
        return freed

    def _settled(self, index: CacheIndex, name: str) -> CacheEntry | None:
        """The entry with the pins of dead processes dropped; a download whose process died is
        either complete (renamed into place: kept) or forgotten with its temporary files."""
        entry = index.entries.get(name)
        if entry is None:
            return None
        entry.pins = live_pins(entry)
        if entry.fetching is not None and not process_alive(entry.fetching):
            for leftover in self.root.glob(f"{FETCH_PREFIX}{entry.fetching}-*"):
                leftover.unlink(missing_ok=True)
            entry.fetching = None
            if not (self.root / name).is_file():
                del index.entries[name]
                return None
            entry.size = (self.root / name).stat().st_size
        if entry.fetching is None and not (self.root / name).is_file():
            del index.entries[name]  # removed by hand: fetched again
            return None
        return entry

    def _pin(self, index: CacheIndex, entry: CacheEntry) -> None:
        if os.getpid() not in entry.pins:
            entry.pins.append(os.getpid())
        entry.used = index.tick()

    def _wait_or_give_up(self, deadline: float, name: str, size: int) -> None:
        if time.monotonic() >= deadline:
            raise NodeCacheFullError(
                f"no room for {name} ({size} bytes) in the node cache at {self.root} after "
                f"{self.wait_s:g} s: every entry stayed in use (raise --node-cache-gb)"
            )
        time.sleep(_POLL_S)
