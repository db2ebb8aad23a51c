"""The full smoke workflow on a two-node Ray cluster (started with the real `ray start` command
lines, token auth on: two_node_driver.py) with inputs and outputs on S3: each node
fetches the media it works on into its own cache, workers write records, shards and manifests to
the bucket, and the result equals a local single-node run. A worker node killed mid-run costs
nothing: the same command run again completes with the identical result. Two unreadable inputs
(an empty file and a text file named .mp4) end rejected on the cluster as they do locally."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pipeline_runs import cli_env, run_cli
from s3_endpoint import s3_endpoint, s3_filesystem

from apps.bench.local_s3 import environment
from curation.dataset.shard_reader import read_sample
from curation.manifests.manifest_writer import read_manifest
from curation.store.run_store import RunStore

DRIVER = Path(__file__).with_name("two_node_driver.py")
# Two people talking (kept) and a two-frames-a-second clip without a face (rejected): one kept
# video per node at least, and a rejection.
CLIPS = ("talkvid_tys_gt.mp4", "fantasy_end1.0.mp4", "nemo_test_video.mp4")
UNREADABLE = {"empty.mp4": b"", "notes.mp4": b"not a video\n" * 40}
ACCOUNTING = "inputs 5 = kept 2 + rejected 3 + failed 0"
TABLES = ("videos", "rejections", "shots", "tracks", "segments", "pairs", "identities", "references", "shards")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


@pytest.fixture(scope="module")
def endpoint(shared_media: Path) -> Iterator[dict[str, str]]:
    """The S3 endpoint, its variables set for this process too, and the clips in s3://lpm-in/clips."""
    with s3_endpoint() as env, environment(env):
        fs = s3_filesystem(env)
        fs.mkdir("lpm-in")
        fs.mkdir("lpm-out")
        for name in CLIPS:
            fs.put(str(shared_media / name), f"lpm-in/clips/{name}")
        for name, data in UNREADABLE.items():
            fs.pipe(f"lpm-in/clips/{name}", data)
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


def _tables(out: str) -> dict[str, list[str]]:
    """Every manifest row, with input URIs reduced to file names and sorted, for comparing runs.

    An input identified by its URI (an empty file) has its id reduced too. A shard's checksum is
    left out: its samples' records name their source URI (s3://... here, a
    local path there); ``_samples`` compares the shards' contents instead."""
    store = RunStore(out)
    tables = {}
    for name in TABLES:
        rows = read_manifest(store, name).to_pylist()
        for row in rows:
            if row.get("uri"):
                row["uri"] = row["uri"].rsplit("/", 1)[-1]
            if str(row.get("entity_id")).startswith("uri-"):
                # An empty file has no content to identify it: its id hashes the full URI.
                row["entity_id"] = "uri-"
            if name == "shards":
                row.pop("sha256")
        tables[name] = sorted(repr(sorted(row.items())) for row in rows)
    return tables


def _samples(out: str) -> dict[str, dict[str, bytes]]:
    """Every sample's members read back from its shard; the record's source URI reduced to the file
    name: everything else must be the same bytes."""
    store = RunStore(out)
    samples = {}
    for segment in read_manifest(store, "segments").to_pylist():
        members = read_sample(store, segment["shard"], segment["key"])
        record = json.loads(members["json"])
        record["provenance"]["uri"] = record["provenance"]["uri"].rsplit("/", 1)[-1]
        samples[segment["key"]] = {**members, "json": json.dumps(record, sort_keys=True).encode()}
    return samples


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
    assert _tables("s3://lpm-out/run") == _tables(str(local_reference))
    assert _samples("s3://lpm-out/run") == _samples(str(local_reference))
    fs = s3_filesystem(endpoint)
    assert not [p for p in fs.find("lpm-out/run") if p.endswith(".pkl")], "the ledger is plain data"


def test_a_killed_worker_node_then_the_same_command_gives_the_identical_result(endpoint, local_reference, tmp_path):
    first = _drive("s3://lpm-out/killed", endpoint, tmp_path / "cache", kill_after=3.0)
    assert first["killed_worker"], first
    again = _drive("s3://lpm-out/killed", endpoint, tmp_path / "cache2")
    assert again["returncode"] == 0, again["stdout"] + again["stderr"]
    assert ACCOUNTING in again["stdout"], again["stdout"]
    assert _tables("s3://lpm-out/killed") == _tables(str(local_reference))
    assert _samples("s3://lpm-out/killed") == _samples(str(local_reference))
