"""Barrier reads go out many at once, and each costs as few requests as the object needs."""

import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from curation.store.concurrent_reads import read_concurrently, store_readers
from curation.store.ledger import Ledger
from curation.store.run_store import RunStore
from tests.curation.run.faulty_proxy import FaultPlan, faulty_proxy
from tests.curation.runtime.s3_endpoint import s3_endpoint, s3_filesystem


def test_reads_are_bounded_and_overlap_and_give_every_key() -> None:
    lock, in_flight, peak = threading.Lock(), [0], [0]
    release = threading.Event()

    def read(key: int) -> int:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
            if in_flight[0] == 8:
                release.set()  # the pool is full: let everyone go
        release.wait(timeout=30)
        with lock:
            in_flight[0] -= 1
        return key * key

    assert read_concurrently(read, range(100), readers=8) == {k: k * k for k in range(100)}
    assert peak[0] == 8  # never more than the bound, and the bound was reached


def test_the_first_failed_read_is_raised() -> None:
    def read(key: int) -> int:
        if key == 7:
            raise OSError("store gone")
        return key

    with pytest.raises(OSError, match="store gone"):
        read_concurrently(read, range(20), readers=4)


def test_readers_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert store_readers(remote=True) > store_readers(remote=False) >= 1
    monkeypatch.setenv("LPM_STORE_READERS", "64")
    assert store_readers(remote=False) == 64
    monkeypatch.setenv("LPM_STORE_READERS", "lots")
    assert store_readers(remote=True) == 32


@pytest.fixture
def slow_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultPlan]:
    """moto behind a proxy that delays every request by 50 ms, as a distant object store does."""
    with s3_endpoint() as env:
        s3_filesystem(env).mkdir("runs")
        plan = FaultPlan(slow_fraction=1.0, slow_s=0.05)
        with faulty_proxy(env["AWS_ENDPOINT_URL"], plan) as proxy:
            for key, value in {**env, "AWS_ENDPOINT_URL": proxy.url}.items():
                monkeypatch.setenv(key, value)
            yield plan


def test_summaries_over_a_slow_store_cost_one_request_each_and_overlap(slow_s3: FaultPlan) -> None:
    ledger = Ledger(RunStore("s3://runs/r"))
    ids = [f"v{i:03d}" for i in range(40)]
    for i, video_id in enumerate(ids):
        summary = {"n": i, "vector": np.arange(3, dtype=np.float32) + i} if i % 4 == 0 else {"n": i}
        ledger.save_summary(video_id, 0, summary)

    before = slow_s3.seen["requests"]
    started = time.perf_counter()
    summaries = ledger.summaries([*ids, "missing"], 0)
    elapsed = time.perf_counter() - started
    requests = slow_s3.seen["requests"] - before

    assert summaries["missing"] is None
    for i, video_id in enumerate(ids):
        assert summaries[video_id]["n"] == i
        if i % 4 == 0:
            np.testing.assert_array_equal(summaries[video_id]["vector"], np.arange(3, dtype=np.float32) + i)
    # Written per video (a run from before summary parts): the listing of the block's parts folder
    # (one request: an empty listing answers for a missing folder), then a JSON each (41, the
    # missing one included) and an npz for the 10 that hold arrays: no exists() per video
    assert requests == 1 + 41 + 10
    # Read concurrently: the proxy holds each request 50 ms, and saw many of them at once (in series
    # it would never see two). Not a ratio of wall times: those failed under a loaded machine.
    assert slow_s3.seen["most_open"] >= 8, (slow_s3.seen, elapsed)
    assert ledger.outcome("missing", 0) is None
