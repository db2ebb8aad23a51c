"""The performer filter's thresholds, refitted leaving one source out.

The filter keeps a shot when one face dominates it and the picture is good enough
(``stages.performer_filter``). Its thresholds on a shot's quality and its performer track
(``FITTED``) were set on the shared clips and the synthetic corpus; the corpus has talking heads to
keep and almost nothing the filter must reject (one ``no_face`` clip), so a fit from it can only
say how far a threshold must give way to keep real talking heads, never how far to tighten it.

Fitting rule (deterministic): start from the shipped thresholds; if they keep at least ``KEEP``
of the training sources' talking-head shots, they are the fit. Otherwise every threshold of
``FITTED`` moves to the ``q``-quantile of the training talking heads' values (lower bounds to the
lower ``q``-quantile, upper bounds to the upper one) wherever that is looser than shipped, ``q``
being the largest of ``LEVELS`` at which the filter so loosened keeps at least ``KEEP`` of them
(``q`` = 0, every training talking head's value inside, when none does). The values are the
likeliest performer track's (``PerformerFilterStage.faces``) and the shot's quality means. The
other settings (shot and track lengths, competing faces, split screens, burned-in text) are
definitions, not fitted, and stay as shipped.

Rows are shots of the genuine clips: ``talking_head`` shots are positives (a performer to keep),
``no_face`` shots negatives; ``face_other`` and ``multi_person`` shots are reported apart (the
former show one face with no voice of its own, which the filter rightly keeps; the latter mix
shots with one and several faces, with no per-shot truth). A shot is judged by the filter's own
``judge`` on the recorded shot and track rows (a shot the cascade did not landmark by its coarse
evidence, as in the run).
"""

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from apps.bench.decision_figures import decision_figures, share
from apps.bench.fold_rows import JudgedShot
from apps.bench.sync_folds import FoldRule
from apps.bench.validity_records import ClipRecord
from stages.performer_filter import PerformerFilterStage

KEEP = 0.98
LEVELS = tuple(round(0.02 - 0.001 * i, 3) for i in range(21))  # 0.02, 0.019, ..., 0.0
# threshold -> (row: the shot or its performer track, field, whether the threshold is a lower bound)
FITTED: dict[str, tuple[str, str, bool]] = {
    "min_face_px": ("track", "face_height_px", True),
    "min_coverage": ("track", "coverage", True),
    "min_frontal_frac": ("track", "frontal_frac", True),
    "min_sharpness": ("shot", "sharpness", True),
    "min_brightness": ("shot", "brightness", True),
    "max_brightness": ("shot", "brightness", False),
    "max_border_frac": ("shot", "border_frac", False),
    "max_frozen_frac": ("shot", "frozen_frac", False),
    "max_noise": ("shot", "noise", False),
}
TRUTH = {"talking_head": True, "no_face": False, "face_other": None, "multi_person": None}


def rows_of(records: Sequence[ClipRecord]) -> list[JudgedShot]:
    return [
        JudgedShot(clip=record.clip, label=record.label, picture_source=record.source, voice_source=record.source,
                   shot=shot, tracks=[t for t in record.tracks if t.shot_id == shot.shot_id], fps=record.fps,
                   positive=TRUTH[record.label])
        for record in records if record.label in TRUTH for shot in record.shots
    ]  # fmt: skip


def judge_shot(stage: PerformerFilterStage, row: JudgedShot) -> bool:
    """True when ``stage`` finds a usable performer in the shot (the row is not changed)."""
    reason, _detail, _performers = stage.judge(replace(row.shot), [replace(t) for t in row.tracks], row.fps)
    return reason is None


def fit(rows: Sequence[JudgedShot], shipped: PerformerFilterStage) -> PerformerFilterStage:
    """The shipped filter, loosened as far as the training talking heads need (module docstring)."""
    positives = [r for r in rows if r.positive]
    if not positives:
        raise ValueError("fitting the performer filter needs talking-head shots")
    if _kept(shipped, positives) >= KEEP * len(positives):
        return shipped
    loosened = shipped
    for q in LEVELS:
        loosened = replace(shipped, **_loosened(shipped, positives, q))
        if _kept(loosened, positives) >= KEEP * len(positives):
            return loosened
    return loosened


def figures(judged: Sequence[tuple[JudgedShot, bool]]) -> dict[str, Any]:
    """Over shots (precision and recall of "usable"), and over clips per label: a clip is kept when
    one of its shots is."""
    out = decision_figures(judged)
    kept_clip: dict[str, bool] = {}
    label_of: dict[str, str] = {}
    for row, kept in judged:
        kept_clip[row.clip] = kept_clip.get(row.clip, False) or kept
        label_of[row.clip] = row.label
    for label in TRUTH:
        clips = [c for c in kept_clip if label_of[c] == label]
        out[f"{label}_clips_kept"] = share(sum(kept_clip[c] for c in clips), len(clips))
    out["talking_heads_rejected"] = sorted(c for c in kept_clip if label_of[c] == "talking_head" and not kept_clip[c])
    return out


def fold_rule(shipped: PerformerFilterStage) -> FoldRule[JudgedShot, PerformerFilterStage]:
    return FoldRule(fit=lambda rows: fit(rows, shipped), judge=judge_shot, describe=describe)


def describe(stage: PerformerFilterStage) -> dict[str, Any]:
    return {name: getattr(stage, name) for name in FITTED}


def _kept(stage: PerformerFilterStage, rows: Sequence[JudgedShot]) -> int:
    return sum(judge_shot(stage, r) for r in rows)


def _loosened(shipped: PerformerFilterStage, positives: Sequence[JudgedShot], q: float) -> dict[str, float]:
    """Each fitted threshold at the ``q``-quantile of the positives' values, where looser than shipped."""
    out = {}
    for name, (where, column, lower) in FITTED.items():
        values = sorted(v for v in (_value(shipped, r, where, column) for r in positives) if v is not None)
        if not values:
            continue
        # The value at that rank is kept (the filter rejects strictly below a lower bound, above an upper one).
        rank = int(np.floor(q * len(values)))
        current = getattr(shipped, name)
        out[name] = min(current, values[rank]) if lower else max(current, values[len(values) - 1 - rank])
    return out


def _value(stage: PerformerFilterStage, row: JudgedShot, where: str, column: str) -> float | None:
    if where == "shot":
        return getattr(row.shot, column)
    faces = stage.faces(row.tracks, row.fps)
    return getattr(faces[0], column) if faces else None
