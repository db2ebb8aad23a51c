"""``--out`` may be absent, empty, or a run of this toolkit; anything else is refused, on local
folders and on an S3-protocol store alike."""

import json
from pathlib import Path

import pytest

from curation.run.run_folder import RunFolderError, check_run_folder
from curation.run.run_info import RUN_FILE, RunInfo
from curation.store.run_store import TEMP_PREFIX, RunStore
from tests.curation.pipeline_runs import ingest_workflow
from tests.curation.runtime.s3_endpoint import s3_endpoint, s3_filesystem


def test_absent_empty_and_started_folders_are_accepted(tmp_path: Path) -> None:
    check_run_folder(RunStore(str(tmp_path / "absent")))
    check_run_folder(RunStore(str(tmp_path)))
    (tmp_path / "logs").mkdir()  # the driver's log capture starts before run.json is written
    (tmp_path / "logs" / "driver.log").write_text("ray starting\n")
    (tmp_path / f"{TEMP_PREFIX}abc").write_bytes(b"half")
    check_run_folder(RunStore(str(tmp_path)))


def test_a_run_this_toolkit_started_is_accepted(tmp_path: Path) -> None:
    store = RunStore(str(tmp_path / "run"))
    RunInfo.open_or_create(store, ingest_workflow(), "clips/")
    store.write_bytes("work/ingest/x.json", b"{}")
    check_run_folder(store)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"shards/mine.tar": b"user data"}, "holds files that are not a run of lpm-curate (shards)"),
        ({"a.txt": b"", "b.txt": b"", "c.txt": b"", "d.txt": b""},
         "holds files that are not a run of lpm-curate (a.txt, b.txt, c.txt and 1 more)"),
        ({"run.json": b'{"name": "my project"}'}, "holds a run.json that lpm-curate did not write"),
        ({"run.json": b"not json"}, "holds a run.json that lpm-curate did not write"),
        ({"run.json": b"[1, 2]"}, "holds a run.json that lpm-curate did not write"),
        ({"run.json": json.dumps({"kind": "export", "schema_version": 1, "workflow_fingerprint": "f"}).encode()},
         "is an export made by lpm-curate export, not a run"),
    ],
)
def test_other_folders_are_refused_naming_what_they_hold(tmp_path: Path, files: dict[str, bytes], message: str) -> None:
    for relative, data in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(data)
    with pytest.raises(RunFolderError, match=r"^--out ") as refused:
        check_run_folder(RunStore(str(tmp_path)))
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RunFolderError, match="is a file, not a folder"):
        check_run_folder(RunStore(str(tmp_path / "notes.txt")))


@pytest.mark.slow
def test_an_object_store_prefix_is_checked_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    with s3_endpoint() as env:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        fs = s3_filesystem(env)
        fs.mkdir("lpm-out")
        check_run_folder(RunStore("s3://lpm-out/absent"))
        fs.pipe_file("lpm-out/user/shards/mine.tar", b"user data")
        with pytest.raises(RunFolderError, match="not a run of lpm-curate \\(shards\\)"):
            check_run_folder(RunStore("s3://lpm-out/user"))
        started = RunStore("s3://lpm-out/run")
        RunInfo.open_or_create(started, ingest_workflow(), "clips/")
        assert fs.cat_file(f"lpm-out/run/{RUN_FILE}")
        check_run_folder(started)
        with pytest.raises(RunFolderError, match="is a file, not a folder"):
            check_run_folder(RunStore("s3://lpm-out/user/shards/mine.tar"))
