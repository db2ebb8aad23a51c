"""A resumed run runs again every video that failed for an infrastructure reason; ``--retry-failed``
runs content failures again too; a decision that covered a video that failed is made again once
that video succeeds, and the blocks after it are redone with it. Old ledgers (outcomes without a
failure kind) read on, their failures counted as content."""

import errno
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from curation.config.workflow import Workflow
from curation.faults import fault_counts
from curation.run.pipeline import RunRequest, run_pipeline
from curation.runtime.run_scope_stage import RunScopeStage
from curation.runtime.stage import Stage
from curation.runtime.video_outcome import VideoOutcome
from curation.runtime.video_work import VideoWork
from curation.store.ledger import OUTCOME_SUFFIX, Ledger, block_dir
from curation.store.run_store import RunStore
from schemas.reasons import Reason


@dataclass
class BrokenWhileMarked(Stage):
    """Raises on a video while a marker file says so: ``<name>.io`` an I/O error of the machine
    (EIO), ``<name>.bad`` an error about the video's data (ValueError)."""

    name: ClassVar[str] = "broken_while_marked"
    marker_dir: str = ""

    def process(self, work: VideoWork) -> VideoWork:
        stem = Path(self.marker_dir) / Path(work.uri).stem
        if stem.with_suffix(".io").exists():
            raise OSError(errno.EIO, "Input/output error", str(stem))
        if stem.with_suffix(".bad").exists():
            raise ValueError("the frames do not decode")
        return work


@dataclass
class CountLive(RunScopeStage):
    """A run-wide decision that depends on which videos reached it: how many have a summary."""

    name: ClassVar[str] = "count_live"

    def summarize(self, work: VideoWork) -> Any:
        return 1

    def decide(self, summaries: dict[str, Any]) -> Any:
        return sum(1 for s in summaries.values() if s is not None)

    def apply(self, work: VideoWork, decision: Any) -> VideoWork:
        work.reject(self.name, Reason.NO_SEGMENTS, f"decided over {decision}")
        return work


def _inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in "abcd":
        (folder / f"{name}.mp4").write_bytes(f"video {name}".encode() * 50)
    return folder


def _run(inputs: Path, out: Path, markers: Path, retry_failed: bool = False) -> dict[str, dict[str, Any]]:
    workflow = Workflow("retries", "test", [BrokenWhileMarked(marker_dir=str(markers)), CountLive()], "test")
    request = RunRequest(str(inputs), str(out), workflow, executor="local", retry_failed=retry_failed)
    result = run_pipeline(request)
    assert result.accounting.inputs == 4
    run_json = json.loads((out / "run.json").read_text())
    assert run_json["faults"] == result.faults
    ledger = Ledger(RunStore(str(out)))
    # each input's final outcome, by its file's name
    names = {ledger.record(v, 1).uri.rsplit("/", 1)[-1][0]: ledger.outcome(v, 1) for v in ledger.finished_video_ids(1)}
    return {"faults": result.faults, **{k: vars(o) for k, o in names.items()}}


def test_infra_failures_are_retried_on_resume_content_ones_with_retry_failed(tmp_path: Path) -> None:
    inputs, out, markers = _inputs(tmp_path), tmp_path / "out", tmp_path / "markers"
    markers.mkdir()
    (markers / "a.io").touch()
    (markers / "b.bad").touch()

    first = _run(inputs, out, markers)
    assert (first["a"]["state"], first["a"]["failure_kind"]) == ("failed", "infra")
    assert (first["b"]["state"], first["b"]["failure_kind"]) == ("failed", "content")
    assert first["c"]["detail"] == first["d"]["detail"] == "decided over 2"

    # the disk is healthy again; the video still does not decode
    (markers / "a.io").unlink()
    second = _run(inputs, out, markers)
    assert second["faults"][fault_counts.FAILED_RETRIED] == 1
    assert second["a"]["state"] == "rejected"
    assert (second["b"]["state"], second["b"]["failure_kind"]) == ("failed", "content")
    # a reached the decision this time: it was made again, and every video's next block with it
    assert {second[v]["detail"] for v in "acd"} == {"decided over 3"}

    # a plain resume leaves the content failure alone (nothing changes, nothing is redone)
    third = _run(inputs, out, markers)
    assert third["faults"][fault_counts.FAILED_RETRIED] == 0
    assert third["b"]["state"] == "failed"

    (markers / "b.bad").unlink()  # fixed decoder
    fourth = _run(inputs, out, markers, retry_failed=True)
    assert fourth["faults"][fault_counts.FAILED_RETRIED] == 1
    assert {fourth[v]["detail"] for v in "abcd"} == {"decided over 4"}


def test_an_old_ledger_outcome_without_a_kind_reads_and_counts_as_content(tmp_path: Path) -> None:
    old = {"video_id": "v1", "state": "failed", "stage": "probe", "reason": "error", "detail": "boom"}
    outcome = VideoOutcome.from_json(json.dumps(old).encode())
    assert outcome.failure_kind is None
    assert not outcome.retried_on_resume(retry_failed=False)
    assert outcome.retried_on_resume(retry_failed=True)
    store = RunStore(str(tmp_path))
    store.write_bytes(f"{block_dir(0)}/v1{OUTCOME_SUFFIX}", json.dumps(old).encode())
    assert Ledger(store).outcome("v1", 0) == outcome
