"""How a run-scope stage runs: per video its summarize and apply steps (``SummarizeStep``,
``ApplyStep``, run by the executors like any stage), and between them its decision, made once as
a task and stored for every worker to read.

The decide task reads the summaries from the run store (parts of many videos each, written by the
workers: ``summary_parts``), decides, and stores the decision
(``work/decisions/<stage>``) with the plan it was made for (the sorted ids of the videos it
covers, and of those among them that had failed, since a failed video has no summary), so a
resumed run reuses it. A resumed run that ran a failed video again and got a summary this time
has another plan: the decision is made again, and what the next blocks made with the old one
(their records, outcomes and later decisions) is deleted first, so they are made again too.
Workers of the next block load it in ``setup`` through ``StoredDecision``; the driver passes ids
and receives nothing larger than a count.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from curation.run.decision_parts import DecisionParts, save_parts
from curation.runtime.resources import Resources
from curation.runtime.run_scope_stage import RunScopeStage
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork
from curation.store import summary_parts
from curation.store.ledger import Ledger, block_dir
from curation.store.run_store import RunStore


@dataclass(frozen=True)
class DecideRequest:
    stage: RunScopeStage
    run_uri: str
    block: int
    video_ids: tuple[str, ...]
    failed_ids: tuple[str, ...] = ()  # videos failed by the end of the block: no summary
    later_blocks: tuple[int, ...] = ()  # blocks after this one: stale if the decision changes
    later_stages: tuple[str, ...] = ()  # run-scope stages after this one: their decisions too

    @property
    def plan(self) -> str:
        # Without failures, the plan of a run made before failures counted (its ledger reads on).
        covered: object = sorted(self.video_ids)
        if self.failed_ids:
            covered = {"videos": sorted(self.video_ids), "failed": sorted(self.failed_ids)}
        return hashlib.sha256(json.dumps(covered).encode()).hexdigest()[:16]


def decide_and_store(request: DecideRequest) -> int:
    """Decide (unless the same decision is already stored); returns how many summaries it read."""
    ledger = Ledger(RunStore(request.run_uri))
    stored = ledger.decision_plan(request.stage.name)
    if stored is not None and stored[0] == request.plan:
        return 0
    if stored is not None:
        # Made for other videos: whatever the next blocks built on it is stale. Deleted before the
        # new decision is stored, so a run killed in between still finds the plan changed.
        for block in request.later_blocks:
            ledger.store.remove(block_dir(block))
        for stage in request.later_stages:
            ledger.forget_decision(stage)
            ledger.forget_decision(index_name(stage))
    request.stage.setup_decision()
    summaries = ledger.summaries(sorted(request.video_ids), request.block, request.failed_ids,
                                 request.stage.summary_hint())
    decision = request.stage.decide(summaries)
    index = request.stage.run_index(summaries, decision)
    if index is not None:
        # Before the decision: a stored decision means its index is stored too.
        ledger.save_decision(index_name(request.stage.name), request.plan, index)
    parts = {video_id: request.stage.video_decision(decision, video_id, summary)
             for video_id, summary in summaries.items()}
    sliced = bool(parts) and all(part is not NotImplemented for part in parts.values())
    if sliced:
        save_parts(ledger, request.stage.name, request.plan, parts)  # before the decision, as the index
    del parts
    ledger.save_decision(request.stage.name, request.plan, decision, parts=sliced)
    return len(summaries)


def index_name(stage: str) -> str:
    """Where a run-scope stage's index for later runs is stored among the decisions."""
    return f"{stage}.index"


@dataclass(frozen=True)
class StoredDecision:
    """Loads a stored decision where it is needed (picklable: it travels to Ray workers)."""

    run_uri: str
    stage: str
    whole: bool = False  # the whole decision even when it is stored in parts (run-level manifest rows)
    hint: Any = Any  # what it decodes to: the stage's ``decision_hint`` (``of`` sets it)

    @classmethod
    def of(cls, run_uri: str, stage: RunScopeStage, whole: bool = False) -> "StoredDecision":
        """The loader of ``stage``'s decision, decoding to the decision type the stage declares
        (built from the stage, so no caller can forget the type and get plain mappings)."""
        return cls(run_uri, stage.name, whole, stage.decision_hint())

    def __call__(self) -> Any:
        """The decision, or its parts (``DecisionParts``) when it was stored cut by video."""
        ledger = Ledger(RunStore(self.run_uri))
        plan = ledger.decision_plan(self.stage)
        if plan is None:
            raise LookupError(f"no stored decision of {self.stage!r} in {self.run_uri}")
        if plan[1] and not self.whole:
            return DecisionParts(self.run_uri, self.stage, plan[0], self.hint)
        stored = ledger.decision(self.stage, self.hint)
        if stored is None:
            raise LookupError(f"no stored decision of {self.stage!r} in {self.run_uri}")
        return stored[1]


@dataclass
class SummarizeStep(Stage):
    """Per-video step that computes a run-scope stage's summary and stores it, from the worker,
    beside the video's record in the run store, and keeps it for the part of the block's summaries
    this worker writes (``summary_parts``), where the decide task reads it."""

    target: RunScopeStage | None = None
    block: int = 0

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.target.name}.summarize"

    def setup(self) -> None:
        self.target.setup()

    def worker_resources(self) -> Resources:
        return self.target.worker_resources()

    def process(self, work: VideoWork) -> VideoWork:
        summary = self.target.summarize(work)
        Ledger(RunStore(work.run_uri)).save_summary(work.video_id or "", self.block, summary)
        summary_parts.BUFFER.stage(work.run_uri, self.block, work.video_id or "", summary)
        return work


@dataclass
class ApplyStep(Stage):
    """Per-video step that applies a run-scope stage's decision, loaded once per worker, with the
    stage's ``apply_resources`` and no model."""

    target: RunScopeStage | None = None
    load_decision: Any = None  # () -> the decision; called in setup, on the worker

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.target.name

    def setup(self) -> None:
        self.target.setup_decision()
        self._decision = self.load_decision()

    def worker_resources(self) -> Resources:
        return self.target.apply_resources

    def process(self, work: VideoWork) -> VideoWork:
        # A decision stored in parts is read a bucket at a time (``decision_parts``)
        for_video = getattr(self._decision, "for_video", None)
        return self.target.apply(work, for_video(work.video_id) if for_video else self._decision)


def split_blocks(stages: list[Stage]) -> list[tuple[list[Stage], RunScopeStage | None]]:
    """Per-video stage runs separated by run-scope stages: [(video stages, run stage after)]."""
    blocks: list[tuple[list[Stage], RunScopeStage | None]] = []
    current: list[Stage] = []
    for stage in stages:
        if isinstance(stage, RunScopeStage):
            blocks.append((current, stage))
            current = []
        else:
            current.append(stage)
    blocks.append((current, None))
    return blocks
