"""A remote run's logs reach ``OUT/logs/`` on the S3 endpoint (moto's server): each node's upload takes
its own workers' files only (two nodes may share one folder), the driver's its own, rotated files
included, and a store that refuses is reported, never raised. The whole path on a real two-node
cluster is in tests/curation/runtime/test_two_node_s3.py."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from apps.bench.local_s3 import environment, s3_endpoint, s3_filesystem
from curation.execution.log_upload import LogUpload, problem, upload_driver_log, upload_files
from curation.runtime.output_capture import worker_log_prefix
from curation.store.run_store import RunStore

NODE_A = "a1" * 28
NODE_B = "b2" * 28


@pytest.fixture(scope="module")
def endpoint() -> Iterator[dict[str, str]]:
    with s3_endpoint() as env, environment(env):
        s3_filesystem(env).mkdir("lpm-out")
        yield env


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A node's log folder as two nodes sharing it leave it."""
    names = ["driver.log", "driver.log.1", f"worker-{NODE_A[:12]}-11.log", f"worker-{NODE_A[:12]}-11.log.1",
             f"worker-{NODE_B[:12]}-12.log"]
    for name in names:
        (tmp_path / name).write_text(f"lines of {name}\n")
    return tmp_path


def test_each_node_uploads_its_own_workers_files_and_the_driver_its_own(endpoint, folder, tmp_path):
    store = RunStore("s3://lpm-out/run-a")
    assert upload_files(store.uri, str(folder), worker_log_prefix(NODE_A)) == 2
    upload = LogUpload()
    upload_driver_log(store, folder, upload)
    assert upload.files == {"driver": 2} and not upload.problems
    fs = s3_filesystem(endpoint)
    names = sorted(p.rsplit("/", 1)[-1] for p in fs.find("lpm-out/run-a/logs"))
    assert names == ["driver.log", "driver.log.1", f"worker-{NODE_A[:12]}-11.log", f"worker-{NODE_A[:12]}-11.log.1"]
    assert fs.cat_file("lpm-out/run-a/logs/driver.log.1") == b"lines of driver.log.1\n"


def test_a_store_that_refuses_is_reported_not_raised(endpoint, folder):
    upload = LogUpload()
    upload_driver_log(RunStore("s3://no-such-bucket/run"), folder, upload)
    assert "driver" not in upload.files and upload.uploaded == 0
    assert len(upload.problems) == 1 and upload.problems[0].startswith("driver: "), upload.problems


def test_the_worker_files_of_a_node_start_with_its_id():
    assert worker_log_prefix(NODE_A) == f"worker-{NODE_A[:12]}-"
    assert not f"worker-{NODE_B[:12]}-12.log".startswith(worker_log_prefix(NODE_A))


def test_a_problem_names_where_and_what_even_without_a_message():
    assert problem("node ab12", TimeoutError()) == "node ab12: TimeoutError"
    assert problem("driver", OSError("no route\nsecond line")) == "driver: OSError: no route"
