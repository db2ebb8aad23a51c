"""Leave-one-source-out figures of the lip-sync verdict's two thresholds (``bench dubbing``).

Input: one row per speaking segment the states stage cut, in genuine and dubbed files, with its
score, its weight (voiced speaking frames) and the sources of its picture and of its voice (the
repository a clip came from: clips of one source share a pipeline, a camera or a person, so a
threshold fitted on one of them and scored on another is not a held-out figure).

Per source S: the thresholds are fitted (``annotators.speaking.sync_thresholds``) on the segments
whose picture and voice both come from other sources, then applied to every segment whose picture
comes from S (its genuine speech and its dubbed copies, whoever's voice they carry). Reported per
fold and pooled over the folds: the share of genuine and of dubbed speech (frames, and segments)
called ``in_sync``, ``uncertain`` and ``out_of_sync``. The same rule fitted on every source is
what the pipeline ships; its in-sample figures are reported apart and labelled so.

The fold loop is the same for every fitted rule (``FoldRule``: how to fit it on rows, how it
judges one row): ``bench validity`` passes the state labeller's, the performer filter's and the
cascade's rules through it too, their rows naming one source as both ``picture_source`` and
``voice_source``. With ``shipped`` (the rule as the pipeline ships it, fitted elsewhere), each
fold and the pool also carry that rule's figures on the very same held-out rows.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from annotators.speaking.sync_thresholds import ScoredSpeech, SyncThresholds, fit_sync_thresholds
from apps.bench.fold_rows import ScoredSegment, SourcedRow

VERDICTS = ("in_sync", "uncertain", "out_of_sync")

Row = TypeVar("Row", bound=SourcedRow)
Fitted = TypeVar("Fitted")


@dataclass(frozen=True)
class FoldRule(Generic[Row, Fitted]):
    """A fitted rule as the fold loop sees it: ``fit`` rows (ValueError when they cannot fit it),
    ``judge`` one row by the fitted rule, ``describe`` the fitted numbers (plain data)."""

    fit: Callable[[Sequence[Row]], Fitted]
    judge: Callable[[Fitted, Row], Any]
    describe: Callable[[Fitted], dict[str, Any]]


def leave_one_source_out(
    rows: Sequence[Row],
    figures: Callable[[Sequence[tuple[Row, Any]]], dict[str, Any]] | None = None,
    sources: Sequence[str] | None = None,
    rule: "FoldRule[Row, Any] | None" = None,
    shipped: Any = None,
) -> dict[str, Any]:
    """``rows``: typed rows (``apps.bench.fold_rows``) of what ``rule`` reads (the lip-sync
    verdict's, by default: ``ScoredSegment``). Per-fold and pooled held-out figures (``figures`` of
    the judged rows, by default ``verdict_figures``), and the fit on every source. ``sources``: the
    folds (by default every picture source of ``rows``). ``shipped``: a fitted rule whose figures on
    the same held-out rows go beside."""
    # The defaults are the lip-sync verdict's, whose rows are ScoredSegments.
    summarise: Callable[[Sequence[tuple[Row, Any]]], dict[str, Any]] = figures or verdict_figures  # type: ignore[assignment]
    fitted_rule: FoldRule[Row, Any] = rule or SYNC_RULE  # type: ignore[assignment]
    sources = sorted({r.picture_source for r in rows}) if sources is None else sources
    folds: list[dict[str, Any]] = []
    held_out: list[tuple[Row, Any]] = []
    by_shipped: list[tuple[Row, Any]] = []
    for source in sources:
        train = [r for r in rows if source not in (r.picture_source, r.voice_source)]
        test = [r for r in rows if r.picture_source == source]
        try:
            fitted = fitted_rule.fit(train)
        except ValueError as err:
            folds.append({"held_out_source": source, "error": str(err)})
            continue
        judged = [(r, fitted_rule.judge(fitted, r)) for r in test]
        held_out += judged
        fold = {"held_out_source": source, **fitted_rule.describe(fitted), "fitted_rows": len(train),
                **summarise(judged)}
        if shipped is not None:
            judged_shipped = [(r, fitted_rule.judge(shipped, r)) for r in test]
            by_shipped += judged_shipped
            fold["shipped"] = summarise(judged_shipped)
        folds.append(fold)
    try:
        everything = fitted_rule.fit(rows)
        in_sample = {**fitted_rule.describe(everything),
                     "in_sample": summarise([(r, fitted_rule.judge(everything, r)) for r in rows])}
    except ValueError as err:
        in_sample = {"error": str(err)}
    report: dict[str, Any] = {"folds": folds, "pooled_held_out": summarise(held_out), "fit_on_all_sources": in_sample}
    if shipped is not None:
        report["shipped"] = {**fitted_rule.describe(shipped), "pooled": summarise(by_shipped)}
    return report


def verdict_figures(judged: Sequence[tuple[ScoredSegment, str]]) -> dict[str, Any]:
    """Per class (genuine, dubbed): segments, speech frames, and the share of each by verdict;
    ``*_kept`` is the share not called out_of_sync."""
    out: dict[str, Any] = {}
    for name, genuine in (("genuine", True), ("dubbed", False)):
        mine = [(r, v) for r, v in judged if r.genuine == genuine]
        frames = sum(r.weight for r, _ in mine)
        out[f"{name}_segments"] = len(mine)
        out[f"{name}_frames"] = frames
        for verdict in VERDICTS:
            share = sum(r.weight for r, v in mine if v == verdict)
            out[f"{name}_frames_{verdict}"] = share / frames if frames else None
            out[f"{name}_segments_{verdict}"] = sum(v == verdict for _, v in mine)
        out[f"{name}_frames_kept"] = 1 - out[f"{name}_frames_out_of_sync"] if frames else None
    return out


def _score(row: ScoredSegment) -> float:
    return float("nan") if row.score is None else float(row.score)


def _speech(row: ScoredSegment) -> ScoredSpeech:
    return ScoredSpeech(_score(row), float(row.weight), row.genuine)


def _thresholds(thresholds: SyncThresholds) -> dict[str, float]:
    return {"reject_below": thresholds.reject_below, "accept_from": thresholds.accept_from}


# The lip-sync verdict's two thresholds (``annotators.speaking.sync_thresholds``), each row judged by its score.
SYNC_RULE: FoldRule[ScoredSegment, SyncThresholds] = FoldRule(
    fit=lambda rows: fit_sync_thresholds([_speech(r) for r in rows]),
    judge=lambda thresholds, row: thresholds.verdict(_score(row)),
    describe=_thresholds,
)
