"""A node whose cache disk is full fails no input for good: the video that does not fit is started
over on new workers, then recorded as failed with kind ``infra`` (never rejected, never
``unreadable``), and the same command run again once there is room keeps it.

The full disk is real: the cache lives on a 1 MB tmpfs and one input is 1.5 MB, so the kernel
answers ``ENOSPC`` while the worker copies it (the cache's bound, 1 GB, would allow it)."""

import json
from pathlib import Path

import pytest
from pipeline_runs import cli_env, rows_by_name, run_cli
from served_files import served_files
from tiny_disk import tiny_disk

from curation.faults import fault_counts
from curation.store.ledger import Ledger
from curation.store.run_store import RunStore

BIG = "panda_1rKiSD4A1K4.28.mp4"  # 1.48 MB
SMALL = ("panda_UaQKCrszICw.16.mp4", "panda_ITKgZZcTpzE.5.mp4")  # about 0.1 and 0.2 MB


@pytest.mark.slow
@pytest.mark.ci_core
def test_a_full_node_disk_is_an_infrastructure_failure_that_resume_runs_again(
    shared_media: Path, tmp_path: Path
) -> None:
    clips = [shared_media / name for name in (BIG, *SMALL)]
    assert (shared_media / BIG).stat().st_size > 1 << 20 > sum((shared_media / n).stat().st_size for n in SMALL)
    out, listing = tmp_path / "run", tmp_path / "inputs.txt"
    with served_files(clips, tmp_path / "bucket") as urls:
        listing.write_text("".join(f"{url}\n" for url in urls))
        command = ("run", "--input", str(listing), "--out", str(out), "--workflow", "ingest", "--workers", "2",
                   "--node-cache-gb", "1")  # fmt: skip
        with tiny_disk(tmp_path / "small_disk", 1 << 20) as disk:
            full = run_cli(*command, env=cli_env(LPM_CACHE_DIR=str(disk)))
        assert full.returncode == 0, full.stdout + full.stderr
        rows = rows_by_name(out)
        big = rows[BIG]
        assert (big["state"], big["reason"]) == ("failed", "error")
        assert "No space left on device" in big["detail"] and "infrastructure fault" in big["detail"]
        assert [rows[name]["state"] for name in SMALL] == ["kept", "kept"]
        assert Ledger(RunStore(str(out))).outcome(big["video_id"], 0).failure_kind == "infra"
        faults = json.loads((out / "run.json").read_text())["faults"]
        assert faults[fault_counts.VIDEO_RESTARTS] == 2  # two new workers tried it before it failed

        roomy = run_cli(*command, env=cli_env(LPM_CACHE_DIR=str(tmp_path / "roomy")))
    assert roomy.returncode == 0, roomy.stdout + roomy.stderr
    rows = rows_by_name(out)
    assert [rows[clip.name]["state"] for clip in clips] == ["kept", "kept", "kept"]
    run_json = json.loads((out / "run.json").read_text())
    assert run_json["accounting"]["failed"] == 0
    assert run_json["faults"][fault_counts.FAILED_RETRIED] == 1
