"""The shared book of a node cache: which entries it holds, how big, how recently used, pinned by whom.

Every process of a node (Ray actors, tasks, the driver) uses one cache folder, so the book lives
in that folder, as ``.index.json``, read and written only under an exclusive ``flock`` on
``.lock`` (a lock the kernel drops when its holder dies, so a killed worker never leaves the
cache locked). It is replaced atomically (a temporary file, then a rename): a process killed
while writing it leaves the previous version.

Pins and fetches name the process (its pid) that holds them. A process that died (the
out-of-memory killer, the watchdog, a lost node's restart) cannot release its pins, so a pin whose
process is gone does not count.
"""

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

INDEX_FILE = ".index.json"
LOCK_FILE = ".lock"
FETCH_PREFIX = ".fetch-"  # a download in progress: .fetch-<pid>-<random>


@dataclass
class CacheEntry:
    size: int  # bytes on disk once fetched; while fetching, the bytes reserved for it
    used: int  # the index's clock when last handed out: the least recently used is evicted first
    pins: list[int] = field(default_factory=list)  # processes using the file now
    fetching: int | None = None  # the process downloading it (the file is not there yet)


@dataclass
class CacheIndex:
    clock: int = 0
    peak_bytes: int = 0  # the most bytes ever held or reserved at once: what the bound is checked on
    evictions: int = 0
    entries: dict[str, CacheEntry] = field(default_factory=dict)

    def held_bytes(self) -> int:
        """Bytes the entries hold or have reserved (a fetch reserves its size before writing)."""
        return sum(entry.size for entry in self.entries.values())

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    def note_peak(self) -> None:
        self.peak_bytes = max(self.peak_bytes, self.held_bytes())


def process_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process on this node (a zombie, killed but not reaped, is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (not Linux): trust the signal check
    return state not in ("Z", "X")


def live_pins(entry: CacheEntry) -> list[int]:
    return [pid for pid in entry.pins if process_alive(pid)]


@contextlib.contextmanager
def locked_index(root: Path) -> Iterator[CacheIndex]:
    """The index, under the node-wide lock; what the block changes is saved when it ends."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            index = _read(root)
            yield index
            _write(root, index)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read(root: Path) -> CacheIndex:
    try:
        data = json.loads((root / INDEX_FILE).read_bytes())
    except FileNotFoundError:
        return _adopt(root)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _adopt(root)  # never written half (renamed into place), but a person may edit it
    entries = {name: CacheEntry(**entry) for name, entry in data.pop("entries").items()}
    return CacheIndex(**data, entries=entries)


def _write(root: Path, index: CacheIndex) -> None:
    temporary = root / f".index-{os.getpid()}.tmp"
    temporary.write_bytes(json.dumps(asdict(index)).encode())
    os.replace(temporary, root / INDEX_FILE)


def _adopt(root: Path) -> CacheIndex:
    """A fresh index over what the folder holds: files of an earlier version of the toolkit (which
    never cleaned its copies) become entries, used least recently of all; abandoned downloads
    (their process gone) are removed."""
    index = CacheIndex()
    for item in root.iterdir():
        if item.name.startswith(FETCH_PREFIX):
            pid = item.name.removeprefix(FETCH_PREFIX).split("-", 1)[0]
            if not pid.isdigit() or not process_alive(int(pid)):
                item.unlink(missing_ok=True)
        elif not item.name.startswith(".") and item.is_file():
            index.entries[item.name] = CacheEntry(size=item.stat().st_size, used=0)
    index.note_peak()
    return index
