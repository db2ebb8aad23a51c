"""The full smoke workflow on a two-node Ray cluster (started with the real `ray start` command
lines, token auth on: two_node_driver.py) with inputs and outputs on S3: each node
fetches the media it works on into its own cache, workers write records, shards and manifests to
the bucket, and the result equals a local single-node run. A worker node killed mid-run costs
nothing: the same command run again completes with the identical result. Two unreadable inputs
(an empty file and a text file named .mp4) end rejected on the cluster as they do locally."""

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pipeline_runs import cli_env, run_cli
from run_contents import comparable_samples, comparable_tables
from s3_endpoint import clips_on_s3, s3_filesystem

from apps.bench.local_s3 import environment

DRIVER = Path(__file__).with_name("two_node_driver.py")
# Two people talking (kept) and a two-frames-a-second clip without a face (rejected): one kept
# video per node at least, and a rejection.
CLIPS = ("talkvid_tys_gt.mp4", "fantasy_end1.0.mp4", "nemo_test_video.mp4")
UNREADABLE = {"empty.mp4": b"", "notes.mp4": b"not a video\n" * 40}
ACCOUNTING = "inputs 5 = kept 2 + rejected 3 + failed 0"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


@pytest.fixture(scope="module")
def endpoint(shared_media: Path) -> Iterator[dict[str, str]]:
    """The S3 endpoint, its variables set for this process too, and the clips in s3://lpm-in/clips."""
    with clips_on_s3([shared_media / name for name in CLIPS], UNREADABLE) as env, environment(env):
        yield env


@pytest.fixture(scope="module")
def local_reference(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clips")
    for name in CLIPS:
        (folder / name).symlink_to(shared_media / name)
    for name, data in UNREADABLE.items():
        (folder / name).write_bytes(data)
    out = tmp_path_factory.mktemp("local") / "run"
    result = run_cli(
        "run", "--input", str(folder), "--out", str(out), "--workflow", "smoke", "--executor", "local", timeout=900
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return out


def _drive(out: str, env: dict[str, str], cache_root: Path, kill_after: float | None = None) -> dict:
    args = [
        sys.executable,
        str(DRIVER),
        "s3://lpm-in/clips",
        out,
        "--workflow",
        "smoke",
        "--cache-root",
        str(cache_root),
    ]
    if kill_after is not None:
        args += ["--kill-worker-after", str(kill_after)]
    # The driver starts the nodes with `ray start` and a private Ray temp dir (ray_start_nodes.py):
    # no other Ray on this machine can find them, and they find no other.
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=1200, stdin=subprocess.DEVNULL, env=cli_env(**env)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_smoke_workflow_on_two_nodes_with_s3_input_and_output(endpoint, local_reference, tmp_path):
    report = _drive("s3://lpm-out/run", endpoint, tmp_path / "cache")
    assert report["returncode"] == 0, report["stdout"] + report["stderr"]
    assert ACCOUNTING in report["stdout"], report["stdout"]
    for node in ("head", "worker"):
        assert any(t.startswith("ray::Stages[") for t in report["titles"][node]), report["titles"]
    # each node fetched what it worked on into its own cache; nothing was read across nodes
    fetched = {
        node: sorted(p.name for p in (tmp_path / "cache" / node / "inputs").glob("*.mp4"))
        for node in ("head", "worker")
    }
    assert fetched["worker"], fetched
    status = run_cli("status", "s3://lpm-out/run", "--verify", "--json", env=cli_env(**endpoint))
    assert status.returncode == 0 and json.loads(status.stdout)["verify"]["ok"], status.stdout + status.stderr
    assert comparable_tables("s3://lpm-out/run") == comparable_tables(str(local_reference))
    assert comparable_samples("s3://lpm-out/run") == comparable_samples(str(local_reference))
    fs = s3_filesystem(endpoint)
    assert not [p for p in fs.find("lpm-out/run") if p.endswith(".pkl")], "the ledger is plain data"
    # the logs of both nodes' workers and of the driver are in the bucket, not left on the nodes' disks
    logs = [p.rsplit("/", 1)[-1] for p in fs.find("lpm-out/run/logs")]
    nodes = {name.split("-")[1] for name in logs if name.startswith("worker-")}
    assert "driver.log" in logs and len(nodes) == 2, logs
    assert re.search(r"logs: \d+ files uploaded to s3://lpm-out/run/logs/ \(workers of 2 nodes and the driver\)",
                     report["stdout"]), report["stdout"][-2000:]
    assert "face_landmarker_graph" in "".join(fs.cat_file(f"lpm-out/run/logs/{name}").decode()
                                              for name in logs if name.startswith("worker-"))


def test_a_killed_worker_node_then_the_same_command_gives_the_identical_result(endpoint, local_reference, tmp_path):
    first = _drive("s3://lpm-out/killed", endpoint, tmp_path / "cache", kill_after=3.0)
    assert first["killed_worker"], first
    again = _drive("s3://lpm-out/killed", endpoint, tmp_path / "cache2")
    assert again["returncode"] == 0, again["stdout"] + again["stderr"]
    assert ACCOUNTING in again["stdout"], again["stdout"]
    assert comparable_tables("s3://lpm-out/killed") == comparable_tables(str(local_reference))
    assert comparable_samples("s3://lpm-out/killed") == comparable_samples(str(local_reference))
