"""Every fault of issue 36's model in one run of the smoke workflow on a two-node cluster (the real
`ray start` command lines, token auth on: two_node_driver.py) with inputs and the run on S3:

- the S3 endpoint (moto's server) sits behind a proxy that answers 503 SlowDown, drops the
  connection or answers late on a seeded tenth of the requests of every process;
- the worker node's media cache is a real 256 KiB tmpfs, smaller than the two largest inputs: the
  kernel answers ``ENOSPC`` when that node fetches one (``--node-cache-gb 1`` leaves the cache's own
  bound out of the way);
- the worker node is killed (SIGKILL to its process group) as soon as a second worker process of
  it is seen holding a video (the first is the actor that met ``ENOSPC`` on its first video, one
  of the two largest), so it dies with a video in flight;
- one read of the run store stalls for longer than ``--video-timeout-s``: the answer to the first
  read of the smallest video's block-0 record (made by the actor that starts that video's block 1)
  trickles in over ``STALL_S``, so the watchdog stops that video. When that read falls on the worker
  node and the node dies while it waits, the stall was never met: the proxy stalls the next read of
  the record instead (the video's restart on the head node), so the watchdog meets it on every run.

The run completes with every input accounted and none failed, and its manifests and samples equal
a clean run's (a local run of the same clips, no faults); each injected kind shows in ``run.json``
and in the summary: store retries, a node fault, a worker death, a watchdog timeout, restarts.

Why a timed-out video may end equal to a clean run: a stage runs past the watchdog because
something it waits for stalls (a read, a slow node), which is the machine's fault, not the video's.
So the design treats the timeout as an infrastructure fault, like a dead worker: the video starts
over on a new actor within the same run and the next try meets no stall. Only a video that runs
past the limit on every try (a decoder that hangs on its bytes) ends ``failed`` with ``timeout``
(kind ``infra``, run again on resume): ``test_actor_pool_faults.py`` covers that case. The stall
here is transient (first request only), as a slow response of a real store is.
"""

import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pipeline_runs import cli_env, run_cli
from run_contents import comparable_samples, comparable_tables
from s3_endpoint import clips_on_s3
from tiny_disk import tiny_disk

from apps.bench.faulty_proxy import FaultPlan, faulty_proxy
from apps.bench.local_s3 import environment
from apps.cli.run_summary import FAULT_LABELS
from curation.faults import fault_counts
from curation.ingest.node_cache import NodeCache
from curation.store.run_store import RunStore

DRIVER = Path(__file__).with_name("two_node_driver.py")
# Two talking heads bigger than the worker's cache disk (the first two videos handed out, largest
# first: one of them is the worker's first), and four small clips that fit it, so the worker's
# next actor has work it can hold while the head is busy.
CLIPS = ("fantasy_end0.1.mp4", "talkvid_tys_gt.mp4", "panda_uguibLEdeCU.12.mp4", "panda_aQApNfoJ4ls.12.mp4",
         "panda_UaQKCrszICw.16.mp4", "nemo_test_video.mp4")  # fmt: skip
WORKER_DISK_BYTES = 256 << 10
STALLED = "nemo_test_video.mp4"
# The watchdog's limit leaves room for a video's block on this loaded 2-core machine; the stalled
# answer trickles in over longer than that (in pieces, each within s3fs's 15 s read timeout, so
# the client waits instead of retrying: only the watchdog can end it).
VIDEO_TIMEOUT_S = 40
STALL_S = 60
OUT = "s3://lpm-out/faults"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


@pytest.fixture
def endpoint(shared_media: Path) -> Iterator[dict[str, str]]:
    """The S3 endpoint, its variables set for this process too, and the clips in s3://lpm-in/clips."""
    with clips_on_s3([shared_media / name for name in CLIPS]) as env, environment(env):
        yield env


@pytest.fixture
def clean_run(shared_media: Path, tmp_path: Path) -> tuple[Path, str]:
    """The same clips run locally without a fault: (its run folder, its accounting line)."""
    folder = tmp_path / "clips"
    folder.mkdir()
    for name in CLIPS:
        (folder / name).symlink_to(shared_media / name)
    out = tmp_path / "clean"
    done = run_cli("run", "--input", str(folder), "--out", str(out), "--workflow", "smoke", "--executor", "local",
                   timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return out, next(line for line in done.stdout.splitlines() if line.startswith("accounting: "))


def test_a_run_through_every_injected_fault_equals_a_clean_run(
    endpoint: dict[str, str], clean_run: tuple[Path, str], shared_media: Path, tmp_path: Path
) -> None:
    sizes = {name: (shared_media / name).stat().st_size for name in CLIPS}
    assert sorted(sizes.values())[-2] > WORKER_DISK_BYTES > sorted(sizes.values())[-3]
    stalled_id = hashlib.sha256((shared_media / STALLED).read_bytes()).hexdigest()[:16]
    # The faults drawn depend on the order of the run's requests, which any change to the workflow's
    # fingerprint moves, and so does which node meets the stalled read. When it falls on the worker
    # node and the node is killed while the read waits, the proxy draws the stall again for the next
    # read of the record (the video's restart on the head node): a stall counts once met, so the
    # watchdog meets it on every run (before, one run in three at seed 37 counted no timeout).
    plan = FaultPlan(
        error_fraction=0.07, reset_fraction=0.01, slow_fraction=0.02, slow_s=0.5, seed=37,
        stall_path=f"GET /lpm-out/faults/work/block0/{stalled_id}.json", stall_times=1, stall_s=STALL_S,
    )  # fmt: skip
    caches = tmp_path / "cache"
    with tiny_disk(caches / "worker", WORKER_DISK_BYTES), faulty_proxy(endpoint["AWS_ENDPOINT_URL"], plan) as proxy:
        args = [
            sys.executable, str(DRIVER), "s3://lpm-in/clips", OUT, "--workflow", "smoke",
            "--cache-root", str(caches),
            "--kill-worker-on-run", "2", "--after-kill-s", "600",
            "--video-timeout-s", str(VIDEO_TIMEOUT_S), "--node-cache-gb", "1",
        ]  # fmt: skip
        driven = subprocess.run(args, capture_output=True, text=True, timeout=1200, stdin=subprocess.DEVNULL,
                                env=cli_env(**{**endpoint, "AWS_ENDPOINT_URL": proxy.url}))  # fmt: skip
        worker_cache = NodeCache(caches / "worker" / "inputs").stats()
    print(f"worker cache: peak {worker_cache.peak_bytes} bytes, entries {sorted(worker_cache.entries)}")
    assert driven.returncode == 0, driven.stderr[-3000:]
    report = json.loads(driven.stdout.strip().splitlines()[-1])
    print(f"proxy saw {dict(plan.seen)}, stalled clients' parents {plan.stalled_parents}\n{report['stdout']}")
    assert report["returncode"] == 0, report["stdout"] + report["stderr"]
    assert report["killed_worker"], report["titles"]["worker"]

    _, clean_accounting = clean_run
    assert "+ failed 0" in clean_accounting, clean_accounting
    assert clean_accounting in report["stdout"], report["stdout"]
    run_json = json.loads(RunStore(OUT).read_bytes("run.json"))
    assert run_json["accounting"]["failed"] == 0 and run_json["accounting"]["inputs"] == len(CLIPS)
    faults = run_json["faults"]
    print(f"run.json faults: {faults}")
    assert plan.seen["errors"] > 0 and plan.seen["slow"] > 0 and plan.seen["stalls"] == 1, plan.seen
    assert faults[fault_counts.STORE_RETRIES] > 0
    assert faults[fault_counts.NODE_FAULTS] >= 1  # ENOSPC on the worker's cache:
    assert worker_cache.peak_bytes > WORKER_DISK_BYTES  # it reserved a clip its disk could not hold
    assert faults[fault_counts.WORKER_DEATHS] >= 1  # the video in flight on the killed node
    assert faults[fault_counts.VIDEO_TIMEOUTS] == 1  # the stalled read, and nothing else
    assert faults[fault_counts.VIDEO_RESTARTS] >= 3
    for name in (fault_counts.STORE_RETRIES, fault_counts.NODE_FAULTS, fault_counts.WORKER_DEATHS,
                 fault_counts.VIDEO_TIMEOUTS, fault_counts.VIDEO_RESTARTS):  # fmt: skip
        row = next(line for line in report["stdout"].splitlines() if FAULT_LABELS[name] in line)
        assert re.findall(r"\d+", row)[-1] == str(faults[name]), row

    clean = str(clean_run[0])
    assert comparable_tables(OUT) == comparable_tables(clean)
    assert comparable_samples(OUT) == comparable_samples(clean)
