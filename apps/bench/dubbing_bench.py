"""``lpm-curate bench dubbing``: are dubbed talking heads kept as speaking?

Each ``talking_head`` clip of the labelled media folder is muxed with the voice of every talking
head of another person (``talking_head_sources.person_key``: the four ``fantasy_*`` renders share
one recording, so they never dub each other): the video stream is copied, the other clip's audio
is looped to the video's length, all in a temporary folder. The pipeline's own stages (those of
``bench speaking``, default workflow plus ``--set`` overrides) run on the originals and on every
dubbed file, with ``states.reject_out_of_sync=false`` so every speaking segment comes back with
its score and verdict. A frame counts as kept as speaking when its track's state is ``speaking``
and a segment whose verdict is not ``out_of_sync`` covers it. Figures:

- ``dubbed_segments_kept_speaking``: of the segments the states stage cut in the dubbed files
  whose dominant state was speaking, the fraction kept (target <= 0.10);
- ``dubbed_voiced_kept_speaking``: the same over voiced frames;
- ``genuine_voiced_kept_speaking``: of the originals' voiced frames, the fraction kept as
  speaking (target >= 0.90);
- ``*_voiced_kept_in_sync``: the same counting only ``in_sync`` segments (``uncertain`` ones are
  kept but flagged), what a trainer selecting ``sync_verdict = 'in_sync'`` gets.

Each figure is also given as it would be without the lip-sync verdict (out-of-sync rejections
counted as kept), which is what the pipeline did before.

``speaking_segments`` lists every speaking segment (score, verdict, voiced speaking frames, the
sources of its picture and voice); ``leave_one_source_out`` fits the verdict's two thresholds on
all sources but one and scores the one left out (``apps.bench.sync_folds``). ``refit_report``
recomputes that part from a saved report (``bench dubbing --refit REPORT.json``).
"""

import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from apps.bench.fold_rows import ScoredSegment
from apps.bench.speaking_bench import analyse, bench_stages
from apps.bench.state_scoring import predicted_frame_states
from apps.bench.sync_folds import leave_one_source_out
from apps.bench.talking_head_sources import TalkingHeadClip, load_talking_heads
from curation.media.ffmpeg_runner import run_media_tool, safe_input
from curation.runtime.video_work import VideoWork
from schemas.performer_states import PerformerState
from schemas.reasons import Reason
from schemas.tables import SegmentRow

TARGETS = {"dubbed_segments_kept_speaking": ("<=", 0.10), "genuine_voiced_kept_speaking": (">=", 0.90)}
# Every speaking segment comes back with its verdict; the bench applies the verdict itself.
SCORE_EVERY_SEGMENT = "states.reject_out_of_sync=false"


def dub(video: Path, voice: Path, out: Path, duration_s: float) -> Path:
    """``video``'s picture with ``voice``'s audio looped to ``duration_s`` (AAC), muxed by ffmpeg."""
    command = [
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        *safe_input(video), "-stream_loop", "-1", *safe_input(voice),
        "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac", "-ar", "48000",
        "-t", f"{duration_s:.3f}", str(out),
    ]  # fmt: skip
    run_media_tool(command, timeout=120)
    return out


def dubbing_pairs(clips: list[TalkingHeadClip]) -> list[tuple[TalkingHeadClip, TalkingHeadClip]]:
    """(picture, voice) for every two clips of different people."""
    return [(video, voice) for video in clips for voice in clips if voice.person != video.person]


def frame_outcome(work: VideoWork, vad_threshold: float) -> dict[str, np.ndarray]:
    """Per analysis frame: voiced, kept as speaking, and labelled speaking before the verdict."""
    n = work.analysis.n_frames if work.analysis is not None else 0
    voiced = np.asarray(work.speech.vad_prob, dtype=np.float32)[:n] >= vad_threshold
    speaking = predicted_frame_states(work, len(voiced)) == PerformerState.SPEAKING
    fps = work.analysis.fps if work.analysis is not None else 25.0
    kept = _covered(_spans(s for s in work.segments if s.sync_verdict != "out_of_sync"), len(voiced), fps)
    out_of_sync = _covered(_out_of_sync(work), len(voiced), fps)
    in_sync = _covered(_spans(s for s in work.segments if s.sync_verdict == "in_sync"), len(voiced), fps)
    return {"voiced": voiced, "speaking": speaking, "kept": speaking & kept, "in_sync": speaking & in_sync,
            "before": speaking & (kept | out_of_sync)}


def run_dubbing_bench(
    media_dir: Path, workdir: Path | None = None, overrides: list[str] | None = None, limit: int | None = None
) -> dict[str, Any]:
    """Dub, analyse and score; ``limit`` keeps the first N dubbed pairs (a quick look)."""
    started = time.perf_counter()
    workdir = workdir or Path(tempfile.mkdtemp(prefix="lpm-bench-dubbing-"))
    stages = bench_stages([*(overrides or []), SCORE_EVERY_SEGMENT])
    states = stages[-1]
    vad_threshold = states.vad_threshold
    clips = load_talking_heads(media_dir)
    genuine, segments = [], []
    for clip in clips:
        row, scored = _video_row(clip, None, analyse(clip.path, stages, workdir / "store"), vad_threshold)
        genuine.append(row)
        segments += scored
    dubbed = []
    for video, voice in dubbing_pairs(clips)[:limit]:
        out = workdir / f"{video.path.stem}__voice_{voice.path.stem}.mp4"
        path = dub(video.path, voice.path, out, video.duration_s)
        row, scored = _video_row(video, voice, analyse(path, stages, workdir / "store"), vad_threshold)
        dubbed.append(row)
        segments += scored
        path.unlink()
    report: dict[str, Any] = {
        "workdir": str(workdir),
        "media": str(media_dir),
        "overrides": overrides or [],
        "lip_sync_model": states.lip_sync.name,
        "lip_sync_threshold": states.lip_sync.threshold,
        "lip_sync_accept_threshold": states.lip_sync.accept_threshold,
        "genuine_videos": len(genuine),
        "dubbed_videos": len(dubbed),
    }
    for name, rows in (("genuine", genuine), ("dubbed", dubbed)):
        voiced = sum(r["voiced_frames"] for r in rows)
        report[f"{name}_voiced_frames"] = voiced
        report[f"{name}_voiced_kept_speaking"] = _ratio(sum(r["voiced_kept_speaking"] for r in rows), voiced)
        report[f"{name}_voiced_kept_speaking_without_verdict"] = _ratio(sum(r["voiced_before"] for r in rows), voiced)
        # Kept as confident speaking: what a trainer selecting sync_verdict = 'in_sync' gets.
        report[f"{name}_voiced_kept_in_sync"] = _ratio(sum(r["voiced_in_sync"] for r in rows), voiced)
        cut = sum(r["speaking_segments_kept"] + r["speaking_segments_out_of_sync"] for r in rows)
        report[f"{name}_speaking_segments"] = cut
        report[f"{name}_segments_kept_speaking"] = _ratio(sum(r["speaking_segments_kept"] for r in rows), cut)
    report["targets"] = {
        key: {"target": target, "op": op, "measured": report[key], "met": _met(report[key], op, target)}
        for key, (op, target) in TARGETS.items()
    }
    report["speaking_segments"] = [s.as_json() for s in segments]
    for name, genuine_ in (("genuine", True), ("dubbed", False)):
        mine = [s for s in segments if s.genuine == genuine_]
        frames = sum(s.weight for s in mine)
        report[f"{name}_speech_uncertain"] = _ratio(sum(s.weight for s in mine if s.verdict == "uncertain"), frames)
    report["leave_one_source_out"] = leave_one_source_out(segments)
    report["videos"] = genuine + dubbed
    report["wall_seconds"] = time.perf_counter() - started
    return report


def refit_report(report: dict[str, Any]) -> dict[str, Any]:
    """The leave-one-source-out part again, from a saved report's ``speaking_segments``."""
    segments = [ScoredSegment.from_json(s) for s in report["speaking_segments"]]
    return {"from": report.get("workdir"), "lip_sync_model": report.get("lip_sync_model"),
            "leave_one_source_out": leave_one_source_out(segments)}


def _video_row(
    video: TalkingHeadClip, voice: TalkingHeadClip | None, work: VideoWork, vad_threshold: float
) -> tuple[dict[str, Any], list[ScoredSegment]]:
    """The video's frame counts (a row of the report's ``videos``) and its speaking segments, scored."""
    frames = frame_outcome(work, vad_threshold)
    voiced = frames["voiced"]
    fps = work.analysis.fps if work.analysis is not None else 25.0
    speaking = [s for s in work.segments if s.state == "speaking"]
    voiced_speaking = voiced & frames["speaking"]
    segments = [
        ScoredSegment(picture=video.name, voice=(voice or video).name, picture_source=video.source,
                      voice_source=(voice or video).source, genuine=voice is None, segment_id=s.segment_id,
                      score=s.lip_sync_score, verdict=s.sync_verdict,
                      weight=int(voiced_speaking[_covered(_spans([s]), len(voiced), fps)].sum()))
        for s in speaking
    ]  # fmt: skip
    return {
        "video": video.name,
        "voice": None if voice is None else voice.name,
        "voiced_frames": int(voiced.sum()),
        "voiced_kept_speaking": int((frames["kept"] & voiced).sum()),
        "voiced_in_sync": int((frames["in_sync"] & voiced).sum()),
        "voiced_before": int((frames["before"] & voiced).sum()),
        "speaking_segments_kept": sum(s.verdict != "out_of_sync" for s in segments),
        "speaking_segments_out_of_sync": sum(s.verdict == "out_of_sync" for s in segments),
        "lip_sync_scores": [s.score for s in segments],
    }, segments


def _out_of_sync(work: VideoWork) -> list[tuple[float, float]]:
    """Spans of the speaking segments whose lips do not follow their audio: rejected ones (a
    pipeline that rejects them) and kept ones with that verdict (``reject_out_of_sync`` off, as here)."""
    rejected = [(r.t_start or 0.0, r.t_end or 0.0) for r in work.rejections if r.reason == Reason.OUT_OF_SYNC]
    return rejected + _spans(s for s in work.segments if s.sync_verdict == "out_of_sync")


def _spans(segments: Iterable[SegmentRow]) -> list[tuple[float, float]]:
    return [(segment.t_start, segment.t_end) for segment in segments]


def _covered(spans: list[tuple[float, float]], n: int, fps: float) -> np.ndarray:
    """Frames inside any of the ``(t_start, t_end)`` spans."""
    out = np.zeros(n, dtype=bool)
    for t_start, t_end in spans:
        out[int(round(t_start * fps)) : int(round(t_end * fps))] = True
    return out


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _met(value: float | None, op: str, target: float) -> bool:
    return value is not None and (value <= target if op == "<=" else value >= target)
