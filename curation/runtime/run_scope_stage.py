"""Stages that need every video at once (identity clustering, dedup, reference choice).

They work in three steps so the driver never holds the videos themselves:
``summarize`` runs per video (at the end of the block before) and returns something small;
``decide`` runs once on the driver over all summaries; ``apply`` runs per video (at the start of
the next block) with the decision. ``decide`` must be deterministic: a resumed run recomputes it.
"""

from dataclasses import dataclass
from typing import Any, ClassVar

from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork


@dataclass
class RunScopeStage(Stage):
    scope: ClassVar[str] = "run"

    def summarize(self, work: VideoWork) -> Any:
        raise NotImplementedError

    def decide(self, summaries: dict[str, Any]) -> Any:
        raise NotImplementedError

    def apply(self, work: VideoWork, decision: Any) -> VideoWork:
        raise NotImplementedError

    def manifest_rows(self, decision: Any) -> dict[str, list[dict[str, Any]]]:
        """Run-level manifest rows this stage's decision produces (e.g. the identities table)."""
        return {}

    def process(self, work: VideoWork) -> VideoWork:
        raise TypeError(f"{self.name} is a run-scope stage: use summarize/decide/apply")


@dataclass
class SummarizeStep(Stage):
    """Per-video step that stores a run-scope stage's summary on the work record."""

    target: RunScopeStage | None = None

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.target.name}.summarize"

    def setup(self) -> None:
        self.target.setup()

    def process(self, work: VideoWork) -> VideoWork:
        work.extras.setdefault("summaries", {})[self.target.name] = self.target.summarize(work)
        return work


@dataclass
class ApplyStep(Stage):
    """Per-video step that applies a run-scope stage's decision."""

    target: RunScopeStage | None = None
    decision: Any = None

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.target.name

    def setup(self) -> None:
        self.target.setup()

    def process(self, work: VideoWork) -> VideoWork:
        return self.target.apply(work, self.decision)


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
