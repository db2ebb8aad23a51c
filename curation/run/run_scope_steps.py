"""A run-scope stage's decision, made once as a task and stored for every worker to read.

The decide task reads each video's summary from the run store, decides, and stores the decision
(``work/decisions/<stage>``) with the plan it was made for (the sorted ids of the videos it
covers), so a resumed run reuses it. Workers of the next block load it in ``setup`` through
``StoredDecision``; the driver passes ids and receives nothing larger than a count.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from curation.run.ledger import Ledger
from curation.run.run_store import RunStore
from curation.runtime.run_scope_stage import RunScopeStage


@dataclass(frozen=True)
class DecideRequest:
    stage: RunScopeStage
    run_uri: str
    block: int
    video_ids: tuple[str, ...]

    @property
    def plan(self) -> str:
        return hashlib.sha256(json.dumps(sorted(self.video_ids)).encode()).hexdigest()[:16]


def decide_and_store(request: DecideRequest) -> int:
    """Decide (unless the same decision is already stored); returns how many summaries it read."""
    ledger = Ledger(RunStore(request.run_uri))
    stored = ledger.decision(request.stage.name)
    if stored is not None and stored[0] == request.plan:
        return 0
    request.stage.setup_decision()
    summaries = {video_id: ledger.summary(video_id, request.block) for video_id in sorted(request.video_ids)}
    decision = request.stage.decide(summaries)
    index = request.stage.run_index(summaries, decision)
    if index is not None:
        # Before the decision: a stored decision means its index is stored too.
        ledger.save_decision(index_name(request.stage.name), request.plan, index)
    ledger.save_decision(request.stage.name, request.plan, decision)
    return len(summaries)


def index_name(stage: str) -> str:
    """Where a run-scope stage's index for later runs is stored among the decisions."""
    return f"{stage}.index"


@dataclass(frozen=True)
class StoredDecision:
    """Loads a stored decision where it is needed (picklable: it travels to Ray workers)."""

    run_uri: str
    stage: str

    def __call__(self) -> Any:
        stored = Ledger(RunStore(self.run_uri)).decision(self.stage)
        if stored is None:
            raise LookupError(f"no stored decision of {self.stage!r} in {self.run_uri}")
        return stored[1]
