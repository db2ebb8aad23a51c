"""A workflow runs on a two-node Ray cluster joined through --ray-address, work lands on both nodes,
and the manifests equal the in-process executor's."""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from pipeline_runs import cli_env, comparable, manifest, run_ingest

DRIVER = Path(__file__).with_name("two_node_driver.py")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_ingest_on_two_nodes_matches_local(small_clip_folder: Path, tmp_path: Path) -> None:
    (small_clip_folder / "empty.mp4").write_bytes(b"")
    (small_clip_folder / "notes.mp4").write_text("not a video\n" * 40)
    # A private Ray temp dir: the cluster's sockets, logs and address file stay out of /tmp/ray,
    # so no other Ray on this machine can find it, and it finds no other. Ray turns 127.0.0.1 in
    # an address into the machine's network IP unless told that this is a single-host "cluster"
    # (the flag Ray uses for laptops); the nodes listen on 127.0.0.1 only.
    with tempfile.TemporaryDirectory(prefix="lpm-ray-", dir="/tmp") as ray_tmp:
        done = subprocess.run(
            [sys.executable, str(DRIVER), str(small_clip_folder), str(tmp_path / "cluster")],
            capture_output=True,
            text=True,
            timeout=540,
            stdin=subprocess.DEVNULL,
            env=cli_env(RAY_TMPDIR=ray_tmp, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0"),
        )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["address"].startswith("127.0.0.1:")
    assert report["nodes"] == 2
    assert report["returncode"] == 0, report["stdout"] + report["stderr"]
    assert "inputs 8 = kept 6 + rejected 2 + failed 0" in report["stdout"]
    for node in ("head", "worker"):
        assert any("MapBatches" in t for t in report["titles"][node]), report["titles"]

    run_ingest(small_clip_folder, tmp_path / "local", executor="local")
    for table in ("videos", "rejections"):
        clustered = comparable(manifest(tmp_path / "cluster", table), tmp_path / "cluster")
        assert clustered == comparable(manifest(tmp_path / "local", table), tmp_path / "local")
    info = json.loads((tmp_path / "cluster" / "run.json").read_text())
    assert info["executor"] == "ray" and info["state"] == "complete"
