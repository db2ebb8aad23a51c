"""The lip-sync verdict's rows for ``bench validity``: the speaking segments of the corpus's talking
heads and of their dubbed copies, refitted by ``sync_folds`` (``annotators.speaking.sync_thresholds``:
the reject threshold keeps >= 0.98 of the training sources' genuine speech, the accept threshold
admits <= 0.02 of their dubbed speech; a fold never sees a row whose picture or voice is the
held-out source's)."""

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from annotators.speaking.sync_thresholds import SyncThresholds
from apps.bench.decision_figures import decision_figures
from apps.bench.fold_rows import ScoredSegment
from apps.bench.sync_folds import verdict_figures
from apps.bench.validity_records import ClipRecord


def rows_of(records: Sequence[ClipRecord], held_out: bool = False) -> list[ScoredSegment]:
    """Each speaking segment of a talking head (genuine) or of a dubbed copy, weighted by its voiced
    speaking frames; a dubbed copy's rows carry its picture's and its voice's sources. ``held_out``:
    the scores of networks that never saw the segment's source (``held_out_sync``)."""
    return [
        ScoredSegment(picture=r.clip, picture_source=r.source, voice_source=r.voice_source,
                      genuine=r.genuine, score=s.score_of(held_out), weight=s.weight)
        for r in records if r.label in ("talking_head", "dubbed") for s in r.segments
    ]  # fmt: skip


def figures(judged: Sequence[tuple[ScoredSegment, str]]) -> dict[str, Any]:
    """``verdict_figures`` (shares by verdict), and precision and recall of "kept" (not
    ``out_of_sync``) with Wilson intervals over speech frames and over segments: recall is genuine
    speech kept, ``negatives_yes`` dubbed speech kept."""
    kept = [(row, verdict != "out_of_sync") for row, verdict in judged]
    return {**verdict_figures(judged), "frames": decision_figures(kept),
            "segments": decision_figures([(replace(row, weight=1), yes) for row, yes in kept])}


def thresholds_of(fold: dict[str, Any]) -> SyncThresholds | None:
    """A fold's fitted thresholds (None where the fold could not be fitted)."""
    return None if "error" in fold else SyncThresholds(fold["reject_below"], fold["accept_from"])
