"""``bench validity``'s end-to-end figures of speech: genuine voiced frames kept as speaking (per source,
pooled, the lost ones by cause, the clips that gave none and why) and dubbed segments kept as speaking,
each under thresholds chosen per clip (shipped, held out, none) and read as a trainer gets it: every
segment the verdict keeps, or (``confirmed``) only those judged ``in_sync``."""

from collections import Counter
from collections.abc import Callable
from typing import Any

from annotators.speaking.sync_thresholds import SyncThresholds
from apps.bench.decision_figures import share
from apps.bench.speech_loss import lost_speech
from apps.bench.validity_records import ClipRecord, SpeakingSegment


def _judge(confirmed: bool) -> Callable[[SpeakingSegment, SyncThresholds, bool], bool]:
    """Kept as speaking (not ``out_of_sync``), or with ``confirmed`` judged ``in_sync``."""
    return SpeakingSegment.confirmed_by if confirmed else SpeakingSegment.kept_by


def kept_frames(record: ClipRecord, thresholds: SyncThresholds, held_out: bool = False, confirmed: bool = False) -> int:
    """``record``'s voiced speaking frames in segments kept (``confirmed``: judged ``in_sync``)."""
    judge = _judge(confirmed)
    return sum(s.weight for s in record.segments if judge(s, thresholds, held_out))


def kept_speech_report(records: list[ClipRecord], thresholds_of: Callable[[ClipRecord], SyncThresholds | None],
                       vad_threshold: float, held_out: bool = False, confirmed: bool = False) -> dict[str, Any]:
    """Voiced frames kept as speaking per source and pooled, and the pooled lost ones by cause
    (``apps.bench.speech_loss``); sources whose fold could not be fitted are listed apart and left out
    of the pool. ``confirmed``: only speech judged ``in_sync`` counts, and no loss is broken down by
    cause (a clip that gives none is named ``no speech judged in_sync``)."""
    by_source: dict[str, list[ClipRecord]] = {}
    for r in records:
        by_source.setdefault(r.source, []).append(r)
    per_source, not_fitted, rejected_whole = {}, [], []
    for source, group in sorted(by_source.items()):
        if thresholds_of(group[0]) is None:
            not_fitted.append(source)
            continue
        kept = [kept_frames(r, thresholds_of(r), held_out, confirmed) for r in group]
        per_source[source] = share(sum(kept), sum(r.voiced for r in group))
        rejected_whole += [r for r, k in zip(group, kept, strict=True) if r.voiced and k == 0]
    pooled = share(sum(v["n"] for v in per_source.values()), sum(v["of"] for v in per_source.values()))
    # Confirmed speech alone: a clip gives none when its speech was rejected or only uncertain.
    causes = {r.clip: "no speech judged in_sync" if confirmed else rejection_cause(r) for r in rejected_whole}
    lost: Counter[str] = Counter()
    for r in records:
        if r.source not in not_fitted and not confirmed:
            lost += lost_speech(r, thresholds_of(r), vad_threshold, held_out, causes.get(r.clip))
    total = pooled["of"] or 1
    return {"pooled": pooled, "per_source": per_source,
            "lost_by_cause": {cause: {"frames": n, "of_voiced": n / total} for cause, n in lost.most_common()},
            "rejected_whole": [r.clip for r in rejected_whole],
            "rejected_whole_count": len(rejected_whole), "rejected_whole_causes": causes,
            "rejected_whole_by_cause": dict(Counter(causes.values()).most_common()), "not_fitted": not_fitted}


def rejection_cause(record: ClipRecord) -> str:
    """Why a clip with voiced speech gave a trainer none of it: the lip-sync verdict where it had
    speaking segments with voiced frames (all judged out of sync), else the rule that stopped it
    first ("stage: reason" of the whole clip's rejection, or the reason code of its commonest
    rejection), else no speaking segment labelled."""
    if any(s.weight for s in record.segments):
        return "states: out_of_sync (every speaking segment)"
    if record.segments:
        return "states: no voiced frame labelled speaking"
    if record.video_rejection:
        return record.video_rejection
    if record.rejections:
        return max(record.rejections.items(), key=lambda kv: (kv[1], kv[0]))[0]
    return "states: no speaking segment labelled"


def segments_kept(records: list[ClipRecord], thresholds_of: Callable[[ClipRecord], SyncThresholds | None],
                  held_out: bool = False, confirmed: bool = False) -> dict[str, Any]:
    """Dubbed segments kept as speaking (``confirmed``: judged ``in_sync``), pooled."""
    judged = [(s, thresholds_of(r)) for r in records for s in r.segments if thresholds_of(r) is not None]
    judge = _judge(confirmed)
    kept = sum(judge(s, t, held_out) for s, t in judged)
    not_fitted = sorted({r.source for r in records if thresholds_of(r) is None})
    return {**share(kept, len(judged)), "clips": len(records), "not_fitted": not_fitted}
