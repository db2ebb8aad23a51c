"""The analysis cascade's ``cascade_skip_margin``, refitted leaving one source out.

The cascade landmarks a shot unless its coarse evidence fails the performer filter's thresholds
by the margin (``annotators.face.landmark_gate``); a shot never landmarked is judged on that
evidence, so a performer skipped is lost. The shipped 0.15 was chosen on the shared clips'
cost against usable track-seconds.

Replayed on the shot rows the one run recorded: a shot is landmarked at margin ``m`` when
``PerformerFilterStage.coarse_verdict(shot, m)`` finds nothing against it (the gate's rule at a
shot's end; a shot turned fine early passed with no margin, so it passes at any). Truth comes
from the landmarks of the same run: a landmarked shot is a positive when the filter found a usable
performer on its tracks, a negative when it did not. A shot the run skipped has no landmarks: its
truth is unknown (``unlabelled_yes`` says how many such shots a margin would landmark).

Fitting rule (deterministic): the smallest margin on ``MARGIN_GRID`` at which at least ``KEEP`` of
the training sources' positive shots are landmarked (smaller margins skip more, so cost less); the
largest grid value when none does. ``replay_check`` compares the replay at the shipped margin
with what the run did, shot by shot.
"""

from collections.abc import Sequence
from typing import Any

from apps.bench.decision_figures import decision_figures
from apps.bench.fold_rows import GatedShot
from apps.bench.sync_folds import FoldRule
from apps.bench.validity_records import ClipRecord
from stages.performer_filter import PerformerFilterStage

KEEP = 0.98
MARGIN_GRID = tuple(round(0.01 * i, 2) for i in range(51))  # 0.00 .. 0.50


def rows_of(records: Sequence[ClipRecord]) -> list[GatedShot]:
    """Every shot of the genuine clips that has coarse evidence (the gate decides on nothing else)."""
    rows = []
    for record in records:
        if not record.genuine:
            continue
        for shot in record.shots:
            if shot.coarse_face_frac is None:
                continue
            landmarked = (shot.landmarked_frac or 0.0) > 0.0
            rows.append(GatedShot(clip=record.clip, label=record.label, picture_source=record.source,
                                  voice_source=record.source, shot=shot, landmarked_in_run=landmarked,
                                  positive=bool(shot.usable) if landmarked else None))
    return rows


def fold_rule(judge: PerformerFilterStage) -> FoldRule[GatedShot, float]:
    """The margin as a rule; ``judge`` is the performer filter whose thresholds the margin loosens."""

    def landmarked(margin: float, row: GatedShot) -> bool:
        return judge.coarse_verdict(row.shot, margin) is None

    def fit(rows: Sequence[GatedShot]) -> float:
        positives = [r for r in rows if r.positive]
        if not positives:
            raise ValueError("fitting the skip margin needs landmarked shots with a usable performer")
        for margin in MARGIN_GRID:
            if sum(landmarked(margin, r) for r in positives) >= KEEP * len(positives):
                return margin
        return MARGIN_GRID[-1]

    return FoldRule(fit=fit, judge=landmarked, describe=lambda margin: {"cascade_skip_margin": margin})


def figures(judged: Sequence[tuple[GatedShot, bool]]) -> dict[str, Any]:
    """Precision and recall of "landmark this shot" over shots."""
    return {**decision_figures(judged), "shots": len(judged)}


def replay_check(rows: Sequence[GatedShot], rule: FoldRule[GatedShot, float], shipped_margin: float) -> dict[str, int]:
    """How often the replay at the shipped margin landmarks exactly the shots the run landmarked."""
    replayed = [rule.judge(shipped_margin, r) for r in rows]
    return {
        "shots": len(rows),
        "landmarked_in_run": sum(r.landmarked_in_run for r in rows),
        "landmarked_by_replay": sum(replayed),
        "agree": sum(r.landmarked_in_run == y for r, y in zip(rows, replayed, strict=True)),
    }
