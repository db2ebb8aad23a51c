"""A whole run (the smoke workflow on the embedded Ray) into an S3 run directory that answers 503
SlowDown, drops connections and stalls on a seeded tenth of requests: moto's S3 server behind a
fault-injecting proxy, so s3fs and boto meet real HTTP faults from every process (driver, actors,
tasks). The run completes with every input accounted and none rejected or failed for the faults,
its manifests equal an undisturbed run's, and the retries show in ``run.json`` and the summary."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pipeline_runs import cli_env, run_cli

from curation.faults import fault_counts
from curation.manifests.manifest_writer import read_manifest
from curation.store.run_store import RunStore
from tests.curation.run.faulty_proxy import FaultPlan, faulty_proxy
from tests.curation.runtime.s3_endpoint import s3_endpoint, s3_filesystem

CLIPS = ("fantasy_end0.1.mp4", "nemo_test_video.mp4", "talkvid_tys_gt.mp4")
TABLES = ("videos", "rejections", "shots", "tracks", "segments", "pairs", "identities", "references", "shards")
pytestmark = [pytest.mark.slow, pytest.mark.ci_core, pytest.mark.timeout(1500)]


@pytest.fixture
def clips(shared_media: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "clips"
    folder.mkdir()
    for name in CLIPS:
        (folder / name).symlink_to(shared_media / name)
    return folder


@pytest.fixture
def moto() -> Iterator[dict[str, str]]:
    with s3_endpoint() as env:
        s3_filesystem(env).mkdir("runs")
        yield env


def _tables(out: str, env: dict[str, str] | None = None) -> dict[str, list[str]]:
    """Every manifest row with the run directory's own prefix removed, sorted, for comparing runs."""
    store = RunStore(out)
    tables = {}
    for name in TABLES:
        rows = read_manifest(store, name).to_pylist()
        for row in rows:
            for key, value in row.items():
                if isinstance(value, str):
                    row[key] = value.replace(store.root, "OUT").replace(out, "OUT")
        tables[name] = sorted(repr(sorted(row.items())) for row in rows)
    return tables


def test_a_run_on_a_store_that_fails_one_request_in_ten_equals_an_undisturbed_run(
    clips: Path, moto: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = tmp_path / "reference"
    clean = run_cli("run", "--input", str(clips), "--out", str(reference), "--workflow", "smoke",
                    "--executor", "local", timeout=900)
    assert clean.returncode == 0, clean.stdout[-3000:] + clean.stderr[-3000:]

    plan = FaultPlan(error_fraction=0.07, reset_fraction=0.01, slow_fraction=0.02, slow_s=0.5, seed=36)
    with faulty_proxy(moto["AWS_ENDPOINT_URL"], plan) as proxy:
        env = cli_env(**{**moto, "AWS_ENDPOINT_URL": proxy.url})
        faulty = run_cli("run", "--input", str(clips), "--out", "s3://runs/faulty", "--workflow", "smoke",
                         "--workers", "2", timeout=1200, env=env)
    assert faulty.returncode == 0, faulty.stdout[-3000:] + faulty.stderr[-3000:]
    assert plan.seen["errors"] > 0 and plan.seen["resets"] > 0 and plan.seen["slow"] > 0, plan.seen
    assert f"accounting: inputs {len(CLIPS)} = " in faulty.stdout and "failed 0" in faulty.stdout, faulty.stdout

    for key, value in moto.items():
        monkeypatch.setenv(key, value)
    store = RunStore("s3://runs/faulty")
    run_json = json.loads(store.read_bytes("run.json"))
    assert run_json["accounting"]["failed"] == 0
    retries = run_json["faults"][fault_counts.STORE_RETRIES]
    # Every process's retries were gathered: each injected 503 cost one retry (boto's and s3fs's own
    # loops are off), a reset one at most (aiohttp resends on a reused connection by itself).
    # Measured: 16 retries for 16 errors and 3 resets in 327-330 requests. run.json is written
    # last but for the summary's reads and the metrics files, with the counts made before: an error
    # from its first write attempt on is retried but cannot be in it. (Reading only a trailing run
    # of run.json writes missed those: 15 for 16 whenever one landed there.)
    writes = [i for i, (request, _) in enumerate(plan.drawn) if request == "PUT /runs/faulty/run.json"]
    first = writes[-1]
    while first - 1 in writes:
        first -= 1
    after_counts = sum(fault == "errors" for _, fault in plan.drawn[first:])
    errors = plan.seen["errors"] - after_counts
    assert errors <= retries <= plan.seen["errors"] + plan.seen["resets"], (retries, after_counts, plan.seen)
    summary_row = next(line for line in faulty.stdout.splitlines() if "store requests retried" in line)
    assert str(retries) in summary_row
    assert _tables("s3://runs/faulty") == _tables(str(reference))
