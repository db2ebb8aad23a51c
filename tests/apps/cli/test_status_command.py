"""``lpm-curate status`` tells a complete run from an interrupted one and from no run at all."""

import json
from pathlib import Path

import pytest

from apps.cli.main import main
from curation.run.run_info import RunInfo
from curation.store.run_store import RunStore
from tests.curation.pipeline_runs import ingest_workflow, run_ingest


def _status(capsys: pytest.CaptureFixture[str], out: Path) -> tuple[int, dict]:
    code = main(["status", str(out), "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_complete_run(small_clip_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (small_clip_folder / "empty.mp4").write_bytes(b"")
    run_ingest(small_clip_folder, tmp_path / "run")
    code, status = _status(capsys, tmp_path / "run")
    assert code == 0
    assert (status["complete"], status["state"], status["workflow"]) == (True, "complete", "ingest")
    assert status["states"] == {"kept": 6, "rejected": 1}
    assert (status["inputs_identified"], status["videos_finished"]) == (7, 6)
    assert status["accounting"]["inputs"] == 7 and status["tables"]["videos"] == 7
    assert status["workflow_fingerprint"] == ingest_workflow().fingerprint()


def test_interrupted_run_is_incomplete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    RunInfo.open_or_create(RunStore(str(tmp_path / "run")), ingest_workflow(), "/in")  # as a run starts
    code, status = _status(capsys, tmp_path / "run")
    assert code == 1 and (status["exists"], status["complete"], status["state"]) == (True, False, "running")
    assert status["tables"] == {} and status["videos_finished"] == 0


def test_no_run_at_all(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", str(tmp_path / "nothing")]) == 1
    assert "not a run directory (no run.json)" in " ".join(capsys.readouterr().out.split())  # rich wraps lines


def test_status_counts_bad_verdict_files_and_still_reads_the_run(small_clip_folder: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    run_ingest(small_clip_folder, tmp_path / "run")
    folder = tmp_path / "run" / "reviews" / "mallory"
    folder.mkdir(parents=True)
    (folder / f"{'a' * 32}.json").write_text('{"note": ["x"]')  # broken JSON
    (folder / f"{'b' * 32}.json").write_text(json.dumps({"verdict_id": "b" * 32, "note": ["x"]}))  # wrong types
    code, status = _status(capsys, tmp_path / "run")
    assert code == 0 and status["states"] == {"kept": 6}
    assert (status["verdicts"], status["bad_verdict_files"]) == (0, 2)
    assert [line.split(":")[0] for line in status["bad_verdict_file_list"]] == [
        f"reviews/mallory/{'a' * 32}.json", f"reviews/mallory/{'b' * 32}.json"]
    assert main(["status", str(tmp_path / "run")]) == 0
    assert "bad verdict files: 2 (skipped by every reader)" in " ".join(capsys.readouterr().out.split())


def test_the_script_answers_in_full_and_exits_with_the_commands_code(smoke_run, tmp_path: Path) -> None:
    """Through the script's own exit (``console_main``: no interpreter teardown for read-only
    commands), the whole answer is out and the exit code is the command's."""
    import subprocess
    import sys

    from tests.curation.pipeline_runs import cli_env

    for out, code in ((smoke_run.out, 0), (tmp_path / "nothing", 1)):
        done = subprocess.run([sys.executable, "-m", "apps.cli.main", "status", str(out), "--verify", "--json"],
                              capture_output=True, text=True, timeout=300, env=cli_env())
        assert done.returncode == code, done.stderr[-2000:]
        status = json.loads(done.stdout)  # flushed whole before the process left
        assert status["complete"] is (code == 0) and ("verify" in status) is True
