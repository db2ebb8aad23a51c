"""Stages that need every video at once (identity clustering, dedup, reference choice).

They work in three steps so the driver never holds the videos themselves:
``summarize`` runs per video (at the end of the block before) and returns something small, which
the worker stores beside the video's record; ``decide`` runs once, as a task, over all summaries
read from the run store, and its decision is stored there too; ``apply`` runs per video (at the
start of the next block) with the decision, read by each worker from the run store. ``decide``
must be deterministic: a resumed run recomputes it.

Only ``summarize`` runs the stage's models (ArcFace, OpenCLIP) and so only it gets ``setup`` and
the stage's resources, GPUs included. ``decide`` (clustering stored vectors) and ``apply`` (looking
each video's ids up in the decision) get ``setup_decision``, which loads no model, and ask for no
GPU: ``decide`` for the stage's CPUs, ``apply`` for ``apply_resources``, a small CPU share by
default. So the next block's apply step joins that block's CPU pool, instead of holding a GPU
actor, with a model loaded, for dictionary look-ups.

A stage is generic over its summary and decision types, ``RunScopeStage[SummaryT, DecisionT]``:
the run store decodes what it stored into those types (``summary_hint``, ``decision_hint``), so a
summary or decision is read by attribute like any row, and a renamed field fails loudly.
"""

import typing
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Generic, TypeVar

from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork

SummaryT = TypeVar("SummaryT")  # what one video sends to the decide task
DecisionT = TypeVar("DecisionT")  # the run-wide decision, and one video's part of it


@dataclass
class RunScopeStage(Stage, Generic[SummaryT, DecisionT]):
    # What one worker of the apply step asks for: a share of a CPU, no GPU (module docstring).
    apply_resources: ClassVar[Resources] = Resources(cpus=0.25)

    def setup_decision(self) -> None:
        """What ``decide`` and ``apply`` need on a worker; never a model (``setup`` loads those)."""

    def decide_resources(self) -> Resources:
        """The decide task's resources: the stage's CPUs and memory, no GPU."""
        return replace(self.worker_resources(), gpus=0.0)

    @classmethod
    def summary_hint(cls) -> Any:
        """The declared summary type (``None`` allowed: a video with nothing to send)."""
        return typing.Optional[_type_arguments(cls)[0]]  # noqa: UP045 - Any has no `|`

    @classmethod
    def decision_hint(cls) -> Any:
        return _type_arguments(cls)[1]

    def summarize(self, work: VideoWork) -> SummaryT | None:
        raise NotImplementedError

    def decide(self, summaries: dict[str, SummaryT | None]) -> DecisionT:
        raise NotImplementedError

    def apply(self, work: VideoWork, decision: DecisionT) -> VideoWork:
        raise NotImplementedError

    def video_decision(self, decision: DecisionT, video_id: str, summary: SummaryT | None) -> Any:
        """What ``apply`` needs of ``decision`` for one video (the decision's own shape, cut down),
        or ``NotImplemented``: the stage's actors then load the whole decision. Cutting it lets an
        actor read its video's part alone (``curation.run.decision_parts``)."""
        return NotImplemented

    def run_index(self, summaries: dict[str, SummaryT | None], decision: DecisionT) -> Any:
        """What a later run matches against (``match_run``), stored beside the decision; None: nothing."""
        return None

    def manifest_rows(self, decision: DecisionT) -> dict[str, list[Any]]:
        """Run-level manifest rows this stage's decision produces (e.g. the identities table)."""
        return {}

    def process(self, work: VideoWork) -> VideoWork:
        raise TypeError(f"{self.name} is a run-scope stage: use summarize/decide/apply")


def _type_arguments(cls: type) -> tuple[Any, Any]:
    """(SummaryT, DecisionT) as ``cls`` or a class it derives from bound them; (Any, Any) when
    none did (a stage that declares no types is read as plain data, as before they were typed)."""
    for klass in cls.__mro__:
        for base in getattr(klass, "__orig_bases__", ()):
            if typing.get_origin(base) is RunScopeStage:
                summary, decision = typing.get_args(base)
                if not isinstance(summary, TypeVar):
                    return summary, decision
    return Any, Any
