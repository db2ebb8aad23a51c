"""The node cache: bounded in bytes, least recently used evicted first, pinned copies kept, writes
atomic, several processes of a node sharing it, and a full disk an infrastructure fault."""

import errno
import hashlib
import http.server
import json
import multiprocessing
import os
import random
import signal
import threading
import time
from pathlib import Path

import pytest
from tiny_disk import tiny_disk

from curation.faults.infra_fault import is_infrastructure_fault
from curation.ingest.node_cache import NodeCache, NodeCacheFullError
from curation.ingest.node_cache_index import FETCH_PREFIX


def _sources(folder: Path, sizes: dict[str, int]) -> dict[str, str]:
    """Files of distinct, random bytes; their ``file://`` URIs by name (the cache fetches any URI)."""
    folder.mkdir(parents=True, exist_ok=True)
    uris = {}
    for name, size in sizes.items():
        (folder / name).write_bytes(random.Random(name).randbytes(size))
        uris[name] = f"file://{folder / name}"
    return uris


def _cached(root: Path) -> set[str]:
    return {p.name for p in root.iterdir() if not p.name.startswith(".")}


def _fetch_and_release(cache: NodeCache, name: str, uri: str) -> bytes:
    data = cache.fetch(name, uri).read_bytes()
    cache.release(name)
    return data


def test_bound_holds_and_the_least_recently_used_copy_goes_first(tmp_path: Path) -> None:
    uris = _sources(tmp_path / "src", dict.fromkeys("abcd", 1000))
    cache = NodeCache(tmp_path / "cache", bound_bytes=3000)
    for name in "abc":
        assert _fetch_and_release(cache, name, uris[name]) == (tmp_path / "src" / name).read_bytes()
    _fetch_and_release(cache, "a", uris["a"])  # a used again: b is now the least recent
    _fetch_and_release(cache, "d", uris["d"])
    assert _cached(cache.root) == {"a", "c", "d"}
    stats = cache.stats()
    assert (stats.held_bytes(), stats.peak_bytes, stats.evictions) == (3000, 3000, 1)
    # a hit is not fetched again: the copy on disk is handed out as it is
    (cache.root / "a").write_bytes(b"x" * 1000)
    assert _fetch_and_release(cache, "a", uris["a"]) == b"x" * 1000


def test_a_pinned_copy_is_never_evicted_and_a_fetch_waits_for_a_release(tmp_path: Path) -> None:
    uris = _sources(tmp_path / "src", dict.fromkeys("abcd", 1000))
    cache = NodeCache(tmp_path / "cache", bound_bytes=2000, wait_s=0.6)
    cache.fetch("a", uris["a"])  # pinned: its video's block is running
    _fetch_and_release(cache, "b", uris["b"])
    cache.fetch("c", uris["c"])  # b, unpinned, makes room; a stays although older
    assert _cached(cache.root) == {"a", "c"}
    started = time.monotonic()
    with pytest.raises(NodeCacheFullError, match="every entry stayed in use") as raised:
        cache.fetch("d", uris["d"])
    assert time.monotonic() - started >= 0.6 and is_infrastructure_fault(raised.value)
    assert _cached(cache.root) == {"a", "c"} and cache.stats().held_bytes() == 2000
    # released while another fetch waits: that fetch goes on
    cache.wait_s = 30
    threading.Timer(0.5, cache.release, args=("a",)).start()
    assert cache.fetch("d", uris["d"]).read_bytes() == (tmp_path / "src" / "d").read_bytes()
    assert _cached(cache.root) == {"c", "d"}


def _pin_and_exit(root: str, uri: str) -> None:
    NodeCache(Path(root), bound_bytes=2000).fetch("a", uri)  # exits without releasing


def test_the_pins_of_a_process_that_died_do_not_count(tmp_path: Path) -> None:
    uris = _sources(tmp_path / "src", dict.fromkeys("abc", 1000))
    root = tmp_path / "cache"
    child = multiprocessing.get_context("spawn").Process(target=_pin_and_exit, args=(str(root), uris["a"]))
    child.start()
    child.join(60)
    cache = NodeCache(tmp_path / "cache", bound_bytes=2000, wait_s=0.5)
    assert cache.stats().entries["a"].pins == [child.pid]
    _fetch_and_release(cache, "b", uris["b"])
    _fetch_and_release(cache, "c", uris["c"])  # a, pinned only by a dead process, is evicted
    assert _cached(cache.root) == {"b", "c"}


def test_an_object_bigger_than_the_bound_is_an_infrastructure_fault(tmp_path: Path) -> None:
    uris = _sources(tmp_path / "src", {"big": 5000})
    cache = NodeCache(tmp_path / "cache", bound_bytes=4000)
    with pytest.raises(NodeCacheFullError, match="bigger than the node cache's bound") as raised:
        cache.fetch("big", uris["big"])
    assert is_infrastructure_fault(raised.value)
    assert _cached(cache.root) == set() and cache.stats().entries == {}


class _SlowObject:
    """A local HTTP server (a stand-in for the object store) sending ``payload`` without a
    Content-Length: its first ``split`` bytes at once, the rest when ``go_on`` is set."""

    def __init__(self, payload: bytes, split: int) -> None:
        self.go_on = threading.Event()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the body ends when the connection closes

            def do_GET(self) -> None:
                self.send_response(200)
                self.end_headers()
                self.wfile.write(payload[:split])
                self.wfile.flush()
                owner.go_on.wait(60)
                self.wfile.write(payload[split:])

            def do_HEAD(self) -> None:
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}/slow.mp4"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.go_on.set()
        self.server.shutdown()


def _wait_for_temporary(root: Path, pid: int) -> None:
    deadline = time.monotonic() + 60
    while not (root.is_dir() and any(p.name.startswith(f"{FETCH_PREFIX}{pid}-") for p in root.iterdir())):
        assert time.monotonic() < deadline, "the download never started"
        time.sleep(0.05)


def test_a_copy_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    """While bytes arrive they go to a temporary name of the fetching process; the copy's own name
    appears only once they are all there. The object's size is not announced: the reservation
    grows as its bytes arrive."""
    payload = random.Random(1).randbytes(300_000)
    slow = _SlowObject(payload, 100_000)
    cache = NodeCache(tmp_path / "cache", bound_bytes=64 << 20)
    result: dict[str, Path] = {}
    fetching = threading.Thread(target=lambda: result.update(path=cache.fetch("v", slow.uri)))
    try:
        fetching.start()
        _wait_for_temporary(cache.root, os.getpid())
        assert not (cache.root / "v").exists()
        assert cache.stats().entries["v"].fetching == os.getpid()
        slow.go_on.set()
        fetching.join(30)
    finally:
        slow.close()
    assert result["path"].read_bytes() == payload
    assert sorted(p.name for p in cache.root.iterdir()) == [".index.json", ".lock", "v"]
    assert cache.stats().entries["v"].size == len(payload)  # the reservation, now the real size


def _fetch_slowly(root: str, uri: str) -> None:
    NodeCache(Path(root), bound_bytes=64 << 20).fetch("v", uri)


def test_a_fetch_killed_halfway_leaves_nothing_that_is_used(tmp_path: Path) -> None:
    slow = _SlowObject(b"partial" * 10_000, 70_000 - 7)
    root = tmp_path / "cache"
    child = multiprocessing.get_context("spawn").Process(target=_fetch_slowly, args=(str(root), slow.uri))
    try:
        child.start()
        _wait_for_temporary(root, child.pid)
        os.kill(child.pid, signal.SIGKILL)
        child.join(30)
    finally:
        slow.close()
    assert cache_entry_fetching(root) == child.pid  # the book still names the dead fetcher
    uris = _sources(tmp_path / "src", {"v": 2000})
    cache = NodeCache(root, bound_bytes=64 << 20)
    assert cache.fetch("v", uris["v"]).read_bytes() == (tmp_path / "src" / "v").read_bytes()
    assert sorted(p.name for p in root.iterdir()) == [".index.json", ".lock", "v"]


def cache_entry_fetching(root: Path) -> int | None:
    return json.loads((root / ".index.json").read_bytes())["entries"]["v"]["fetching"]


def _churn(root: str, uris: dict[str, str], seed: int, rounds: int) -> None:
    cache = NodeCache(Path(root), bound_bytes=3 * 20_000)
    rng = random.Random(seed)
    for _ in range(rounds):
        name = rng.choice(sorted(uris))
        data = cache.fetch(name, uris[name]).read_bytes()
        expected = Path(uris[name].removeprefix("file://")).read_bytes()
        if data != expected:
            raise AssertionError(f"{name}: {hashlib.sha256(data).hexdigest()} is not the source's")
        cache.release(name)


def test_processes_of_one_node_share_the_cache_without_corrupting_it(tmp_path: Path) -> None:
    uris = _sources(tmp_path / "src", {f"v{i}": 20_000 for i in range(10)})
    root = tmp_path / "cache"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_churn, args=(str(root), uris, seed, 40)) for seed in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(240)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    stats = NodeCache(root).stats()
    assert stats.peak_bytes <= 3 * 20_000 and stats.evictions > 0
    assert _cached(root) == set(stats.entries) and len(stats.entries) <= 3
    assert not any(p.name.startswith(FETCH_PREFIX) for p in root.iterdir())
    for name in stats.entries:
        assert (root / name).read_bytes() == (tmp_path / "src" / name).read_bytes()


def test_a_full_disk_is_an_infrastructure_fault_and_leaves_no_partial_copy(tmp_path: Path) -> None:
    uris = _sources(tmp_path / "src", {"big": 3 << 20})
    with tiny_disk(tmp_path / "disk", 1 << 20) as disk:
        cache = NodeCache(disk / "cache", bound_bytes=100 << 20)  # the bound allows it; the disk does not
        with pytest.raises(OSError) as raised:
            cache.fetch("big", uris["big"])
        assert raised.value.errno == errno.ENOSPC and "node cache" in str(raised.value)
        assert is_infrastructure_fault(raised.value)
        assert _cached(cache.root) == set() and cache.stats().entries == {}
        assert not any(p.name.startswith(FETCH_PREFIX) for p in cache.root.iterdir())


def test_a_full_disk_evicts_unused_copies_and_tries_again(tmp_path: Path) -> None:
    uris = _sources(tmp_path / "src", {"old": 1_200_000, "new": 1_200_000})
    with tiny_disk(tmp_path / "disk", 2 << 20) as disk:
        cache = NodeCache(disk / "cache", bound_bytes=100 << 20)
        _fetch_and_release(cache, "old", uris["old"])
        assert cache.fetch("new", uris["new"]).read_bytes() == (tmp_path / "src" / "new").read_bytes()
        assert _cached(cache.root) == {"new"}


def test_without_a_bound_the_cache_takes_half_the_free_disk(tmp_path: Path) -> None:
    uris = _sources(tmp_path / "src", {"small": 400_000, "large": 1_200_000})
    with tiny_disk(tmp_path / "disk", 2 << 20) as disk:
        cache = NodeCache(disk / "cache")
        _fetch_and_release(cache, "small", uris["small"])
        assert 0.9 * (1 << 20) < cache.bound(cache.stats()) <= 1 << 20
        with pytest.raises(NodeCacheFullError, match="bigger than the node cache's bound"):
            cache.fetch("large", uris["large"])
