"""``lpm-curate bench store-reads``: what a run-wide barrier waits for on a distant object store.

For each N, N videos' summaries (the identity stage's: five tracks, a 512-d vector each, so a JSON
and an npz per video) are written to moto's S3 server on 127.0.0.1, then read back through a proxy
that delays every request by ``latency_ms``, as a decide task does: all N with the run's
concurrent reader, and a sample of ``serial_sample`` videos one after another (the floor this
replaces; its per-video time times N is reported as the serial estimate). Requests are counted at
the proxy. Needs moto's server (``pip install 'moto[server]'``, in the dev extra).
"""

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from apps.bench.faulty_proxy import FaultPlan, faulty_proxy
from apps.bench.local_s3 import environment, s3_endpoint, s3_filesystem
from curation.store.concurrent_reads import store_readers
from curation.store.ledger import Ledger
from curation.store.run_store import RunStore

TRACKS, VECTOR = 5, 512


def _summary(index: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(index)
    return [
        {"track_id": f"t{t}", "seconds": float(rng.uniform(2, 20)),
         "vector": rng.standard_normal(VECTOR).astype(np.float32)}
        for t in range(TRACKS)
    ]


def _write_summaries(uri: str, ids: list[str]) -> None:
    """Straight to moto, many at once: writing is not what is measured."""
    writer = Ledger(RunStore(uri))
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: writer.save_summary(ids[i], 0, _summary(i)), range(len(ids))))


def run_store_reads_bench(counts: list[int], latency_ms: float, serial_sample: int = 200) -> dict[str, Any]:
    per_n: dict[str, Any] = {}
    with s3_endpoint() as env, environment(env):
        s3_filesystem(env).mkdir("runs")
        for n in sorted(counts):
            uri = f"s3://runs/n{n}"
            ids = [f"video{i:07d}" for i in range(n)]
            _write_summaries(uri, ids)
            plan = FaultPlan(slow_fraction=1.0, slow_s=latency_ms / 1000)
            with faulty_proxy(env["AWS_ENDPOINT_URL"], plan) as proxy, environment({"AWS_ENDPOINT_URL": proxy.url}):
                ledger = Ledger(RunStore(uri))
                started = time.perf_counter()
                summaries = ledger.summaries(ids, 0)
                concurrent_s = time.perf_counter() - started
                requests = plan.seen["requests"]
                sample = ids[: min(serial_sample, n)]
                started = time.perf_counter()
                for video_id in sample:
                    ledger.summary(video_id, 0)
                serial_per_video = (time.perf_counter() - started) / len(sample)
            assert all(len(s) == TRACKS for s in summaries.values())
            per_n[str(n)] = {
                "barrier_read_seconds": round(concurrent_s, 2),
                "serial_read_seconds_estimate": round(serial_per_video * n, 2),
                "speedup": round(serial_per_video * n / concurrent_s, 1),
                "store_requests": requests,
                "requests_per_video": round(requests / n, 2),
            }
    return {"latency_ms": latency_ms, "readers": store_readers(remote=True), "serial_sample": serial_sample,
            "per_n": per_n}
