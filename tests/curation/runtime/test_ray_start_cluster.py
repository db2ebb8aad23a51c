"""The path an operator takes on Ray 2.60: a head and a worker started with ``ray start --block``
and token authentication on, inputs and the run on S3, then

- ``lpm-curate run --ray-address`` without the token: one line that says what is missing, exit 2,
  no traceback, nothing written; with a wrong token: one line naming where that token came from;
- with the token (``RAY_AUTH_TOKEN`` alone: the driver turns token mode on itself), the run
  completes on both nodes and ``lpm-curate status --verify`` passes;
- ``ray job submit --address http://<dashboard> -- lpm-curate run ...``: the job's driver finds
  the cluster (``RAY_ADDRESS``, set by Ray) and the run store (the nodes' S3 variables), the job
  succeeds and the run verifies.

The nodes run in process groups this module owns and are stopped by those groups' ids."""

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pipeline_runs import REPO_ROOT, cli_command, cli_env
from ray_start_nodes import StartedCluster, ray_start_cluster
from s3_endpoint import clips_on_s3

# A talking head (kept) and a two-frames-a-second clip without a face (rejected).
CLIPS = ("talkvid_tys_gt.mp4", "nemo_test_video.mp4")
ACCOUNTING = "inputs 2 = kept 1 + rejected 1 + failed 0"
AUTH_VARS = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_ADDRESS")
AGENT_WAIT_S = 120
NO_AGENT = "No available agent to submit job"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


@pytest.fixture(scope="module")
def s3_env(shared_media: Path) -> Iterator[dict[str, str]]:
    with clips_on_s3([shared_media / name for name in CLIPS]) as env:
        yield env


@pytest.fixture(scope="module")
def caches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("caches")


@pytest.fixture(scope="module")
def cluster(s3_env: dict[str, str], caches: Path) -> Iterator[StartedCluster]:
    """Both nodes reach the S3 endpoint and each has its own media cache, as separate machines do."""
    node_env = {name: {**s3_env, "LPM_CACHE_DIR": str(caches / name)} for name in ("head", "worker")}
    base = {k: v for k, v in os.environ.items() if k not in AUTH_VARS}
    with ray_start_cluster(node_env, dashboard=True, base_env=base) as started:
        yield started


def client_env(cluster: StartedCluster, s3_env: dict[str, str], home: Path, **auth: str) -> dict[str, str]:
    """A user's shell: the S3 variables, an empty home (no ~/.ray/auth_token) and ``auth``."""
    env = {k: v for k, v in cli_env(**cluster.client_env, **s3_env).items() if k not in AUTH_VARS}
    home.mkdir(exist_ok=True)
    return {**env, "HOME": str(home), **auth}


def lpm_curate(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(cli_command(*args), env=env, capture_output=True, text=True, timeout=900,
                          stdin=subprocess.DEVNULL, cwd=REPO_ROOT)


def verified(out: str, env: dict[str, str]) -> dict:
    status = lpm_curate(env, "status", out, "--verify", "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    return json.loads(status.stdout)["verify"]


@pytest.mark.parametrize("token", [None, "not-the-clusters-token"])
def test_a_driver_without_the_clusters_token_gets_one_line(cluster, s3_env, tmp_path, token):
    auth = {"RAY_AUTH_TOKEN": token} if token else {}
    env = client_env(cluster, s3_env, tmp_path / "home", **auth)
    out = tmp_path / "run"
    done = lpm_curate(env, "run", "--input", "s3://lpm-in/clips", "--out", str(out), "--workflow", "smoke",
                      "--ray-address", cluster.address)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: the Ray cluster at "), lines
    assert "Traceback" not in done.stderr
    if token:
        assert "refused the token from RAY_AUTH_TOKEN" in lines[0], lines
    else:
        assert "no token was found here" in lines[0] and "ray get-auth-token" in lines[0], lines
    assert not out.exists()


def test_run_on_two_ray_start_nodes_with_the_token(cluster, s3_env, caches, tmp_path):
    # The token alone: the driver sees the cluster needs it and turns token mode on itself.
    env = client_env(cluster, s3_env, tmp_path / "home", RAY_AUTH_TOKEN=cluster.token)
    done = lpm_curate(env, "run", "--input", "s3://lpm-in/clips", "--out", "s3://lpm-out/direct",
                      "--workflow", "smoke", "--ray-address", cluster.address)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert ACCOUNTING in done.stdout, done.stdout
    assert verified("s3://lpm-out/direct", env)["ok"]
    # the worker node fetched what it worked on into its own cache: the work was spread
    assert list((caches / "worker").glob("inputs/*.mp4")), sorted(p.name for p in caches.rglob("*"))


def test_ray_job_submit_runs_lpm_curate_on_the_cluster(cluster, s3_env, tmp_path):
    assert cluster.dashboard_url, "the dashboard did not start"
    env = client_env(cluster, s3_env, tmp_path / "home", RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=cluster.token)
    lpm = str(Path(sys.executable).with_name("lpm-curate"))
    command = [str(Path(sys.executable).with_name("ray")), "job", "submit", "--address", cluster.dashboard_url,
               "--submission-id", "lpm-job-test", "--",
               lpm, "run", "--input", "s3://lpm-in/clips", "--out", "s3://lpm-out/job", "--workflow", "smoke"]
    deadline = time.monotonic() + AGENT_WAIT_S
    while True:
        submit = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900,
                                stdin=subprocess.DEVNULL)
        # The head's job agent registers a while after the dashboard answers (seconds; more on a
        # loaded machine): Ray refuses the submission meanwhile, saying to try again later.
        if NO_AGENT not in submit.stderr or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert submit.returncode == 0, submit.stdout[-3000:] + submit.stderr[-3000:]
    assert "Job 'lpm-job-test' succeeded" in submit.stdout, submit.stdout[-3000:]
    assert ACCOUNTING in submit.stdout, submit.stdout[-3000:]
    assert verified("s3://lpm-out/job", env)["ok"]
