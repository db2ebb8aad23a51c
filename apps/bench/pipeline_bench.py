"""``lpm-curate bench pipeline``: how accurate and how fast the whole pipeline is, in one table.

Runs the workflow on the inputs (a fresh run directory), measures the ffmpeg decode floor on the
same files, and, when ground truth is given (``truth/<name>.json`` in ``lpm-synth-truth/1``), scores
shots, performer tracks, per-frame states, pairs, identities and reference leakage.
"""

import tempfile
import time
from pathlib import Path
from typing import Any, TypeVar

from apps.bench.channel_scoring import score_channels
from apps.bench.floors import measure_floor
from apps.bench.rss_sampler import RssSampler
from apps.bench.truth_matching import (
    StateTally,
    boundary_matches,
    boundary_tolerances,
    match_tracks,
    pairwise_precision_recall,
    performer_tracks,
    truth_boundaries,
)
from apps.synth.truth import VideoTruth, load_truth
from curation.config.workflow import Workflow
from curation.execution.ray_executor import start_ray
from curation.ingest.discovery import discover_inputs
from curation.manifests.manifest_writer import has_manifest, read_rows
from curation.media.probe import probe_media
from curation.models.model_store import resolve
from curation.run.pipeline import RunRequest, run_pipeline
from curation.store.run_store import RunStore
from schemas.performer_states import frame_state_codes
from schemas.tables import PairRow, ReferenceRow, SegmentRow, ShotRow, TrackRow, VideoRow

SHOT_TOLERANCE_S = 0.08  # two frames at 25 fps


def run_pipeline_bench(
    input_dir: str, truth_dir: str | None, workflow: Workflow, workers: int, out: str | None = None
) -> dict[str, Any]:
    import ray

    files = discover_inputs(input_dir)
    infos = {f: probe_media(f) for f in files}
    visual = workflow.stage("visual_analysis")
    decode_s, _ = measure_floor(
        "decode",
        infos,
        visual.analysis_short_side,
        visual.analysis_fps,
        visual.decode_threads,
        workers,
        resolve("face_landmarker"),
    )
    if ray.is_initialized():
        ray.shutdown()
    start_ray(None, workers)
    out = out or tempfile.mkdtemp(prefix="lpm-bench-pipeline-")
    with RssSampler() as rss:
        started = time.perf_counter()
        result = run_pipeline(RunRequest(input=input_dir, out=out, workflow=workflow, workers=workers))
        wall = time.perf_counter() - started
    video_seconds = sum(i.duration_s for i in infos.values())
    report: dict[str, Any] = {
        "out": out,
        "files": len(files),
        "workers": workers,
        "video_seconds": video_seconds,
        "wall_seconds": wall,
        "decode_floor_seconds": decode_s,
        "ratio_to_floor": wall / decode_s,
        "realtime_per_core": video_seconds / wall / workers,
        "hours_per_hour_per_core": video_seconds / wall / workers,
        "peak_rss_mb": rss.peak_process_mb,
        "peak_total_rss_mb": rss.peak_total_mb,
        "accounting": result.accounting.__dict__,
        "stage_seconds": result.stage_seconds,
    }
    if truth_dir:
        report.update(score_against_truth(out, truth_dir))
    return report


def score_against_truth(out: str, truth_dir: str) -> dict[str, Any]:
    """Score a run from its manifests alone, as a user of the dataset would read it: shots and
    tracks (with each track's per-frame states, ``frame_states``), segments, pairs, references."""
    store = RunStore(out)
    videos = read_rows(store, VideoRow)
    segments = read_rows(store, SegmentRow)
    pairs = read_rows(store, PairRow)
    references = (
        {r.reference_id: r for r in read_rows(store, ReferenceRow)} if has_manifest(store, "references") else {}
    )
    shots_of = _rows_by_video(sorted(read_rows(store, ShotRow), key=lambda s: s.shot_index or 0))
    tracks_of = _rows_by_video(sorted(read_rows(store, TrackRow), key=lambda t: t.track_id or ""))
    shot_hits = shot_pred = shot_true = gradual_hits = gradual_true = 0
    text = {"subtitled": 0, "caught": 0, "clean": 0, "clean_rejected": 0}
    recalled = performers = 0
    tally = StateTally()
    identity_pred: list[str] = []
    identity_true: list[str] = []
    truth_person_of_track: dict[str, str] = {}
    truth_speaker: dict[str, list[str | None]] = {}
    truth_of_video: dict[str, VideoTruth] = {}
    for row in videos:
        truth_path = Path(truth_dir) / f"{Path(row.uri or '').stem}.json"
        if not truth_path.exists() or row.duplicate_of or row.video_id is None:
            continue
        truth = load_truth(truth_path)
        truth_of_video[row.video_id] = truth
        shots = shots_of.get(row.video_id, [])
        tracks = tracks_of.get(row.video_id, [])
        predicted_bounds = [s.t_start for s in shots[1:]]
        shot_true += len(truth_boundaries(truth))
        shot_pred += len(predicted_bounds)
        tolerances = boundary_tolerances(truth, SHOT_TOLERANCE_S)
        shot_hits += boundary_matches(predicted_bounds, truth_boundaries(truth), tolerances)
        gradual = [(t, tol) for t, tol, s in zip(truth_boundaries(truth), tolerances, truth.shots[1:], strict=True)
                   if s.transition_in != "cut"]
        gradual_true += len(gradual)
        gradual_hits += boundary_matches(predicted_bounds, [t for t, _ in gradual], [tol for _, tol in gradual])
        for key, count in _text_overlay_counts(shots, truth).items():
            text[key] += count
        fps = truth.fps
        truth_speaker[row.video_id] = truth.speaker
        usable = [t for t in tracks if t.usable]
        matches = match_tracks(usable, truth, fps)
        wanted = performer_tracks(truth, min_frames=int(2 * fps))
        matched_truth = {id(m.truth) for m in matches}
        performers += len(wanted)
        recalled += sum(id(t) in matched_truth for t in wanted)
        for m in matches:
            track_id = m.predicted.track_id or ""
            truth_person_of_track[track_id] = m.truth.person_id
            identity_pred.append(m.predicted.identity_id or track_id)
            identity_true.append(m.truth.person_id)
            if not m.predicted.frame_states:
                continue
            shot = next(s for s in shots if s.shot_id == m.predicted.shot_id)
            first = int(round(shot.t_start * fps))
            for i, code in enumerate(frame_state_codes(m.predicted.frame_states)):
                frame = first + i
                if code is not None and m.truth.first_frame <= frame <= m.truth.last_frame:
                    tally.add(max(0, int(m.truth.states[frame - m.truth.first_frame])), code)
    precision_pairs = _pair_precision(
        pairs, {s.segment_id: s for s in segments}, truth_person_of_track, truth_speaker
    )
    id_precision, id_recall = pairwise_precision_recall(identity_pred, identity_true)
    leaks = 0
    for s in segments:
        for rid in s.reference_ids or []:
            ref = references.get(rid)
            if ref and ref.video_id == s.video_id and s.t_start <= ref.t <= s.t_end:
                leaks += 1
    shot_precision = shot_hits / shot_pred if shot_pred else 1.0
    shot_recall = shot_hits / shot_true if shot_true else 1.0
    return {
        "shot_f1": 2 * shot_precision * shot_recall / (shot_precision + shot_recall) if shot_hits else 0.0,
        "shot_precision": shot_precision,
        "shot_recall": shot_recall,
        "gradual_transition_recall": gradual_hits / gradual_true if gradual_true else None,
        "track_recall": recalled / performers if performers else None,
        "state_accuracy": tally.accuracy,
        "state_f1": tally.f1(),
        "state_confusion": tally.confusion.tolist(),
        "pair_precision": precision_pairs,
        "n_pairs": len(pairs),
        "identity_precision": id_precision,
        "identity_recall": id_recall,
        "reference_leaks": leaks,
        "text_overlay_recall": text["caught"] / text["subtitled"] if text["subtitled"] else None,
        "text_overlay_false_rejections": text["clean_rejected"] / text["clean"] if text["clean"] else None,
        "text_overlay_counts": text,
        "voice_channels": score_channels(out, truth_of_video, truth_person_of_track),
    }


RowOfVideo = TypeVar("RowOfVideo", ShotRow, TrackRow)


def _rows_by_video(rows: list[RowOfVideo]) -> dict[str, list[RowOfVideo]]:
    by_video: dict[str, list[RowOfVideo]] = {}
    for row in rows:
        by_video.setdefault(row.video_id or "", []).append(row)
    return by_video


def _text_overlay_counts(shots: list[ShotRow], truth: VideoTruth) -> dict[str, int]:
    """Truth shots flagged ``subtitled`` whose predicted shot (the one overlapping it most) was
    rejected as ``text_overlay``, and unflagged shots rejected so."""
    counts = {"subtitled": 0, "caught": 0, "clean": 0, "clean_rejected": 0}
    for shot in truth.shots:
        overlap = [(min(p.t_end, shot.t_end) - max(p.t_start, shot.t_start), p) for p in shots]
        best = max(overlap, key=lambda o: o[0], default=(0.0, None))[1]
        rejected = best is not None and best.reason == "text_overlay"
        flagged = "subtitled" in shot.flags
        counts["subtitled" if flagged else "clean"] += 1
        counts["caught" if flagged else "clean_rejected"] += rejected
    return counts


def _pair_precision(
    pairs: list[PairRow], segments: dict[str, SegmentRow], person_of: dict[str, str], speaker_frames: dict[str, list]
) -> float | None:
    """A pair is right when the speaking segment's person is the voice heard (per the truth) over
    most of both segments, and the listening segment shows somebody else."""
    if not pairs:
        return None
    correct = 0
    for pair in pairs:
        speaking = segments[pair.speaking_segment_id or ""]
        listening = segments[pair.listening_segment_id or ""]
        speaker = person_of.get(speaking.track_id or "")
        listener = person_of.get(listening.track_id or "")
        # a pair across the recordings of one conversation: each segment on its own video's truth
        video = pair.video_id or ""
        listened = pair.listener_video_id or video
        correct += bool(
            speaker
            and listener
            and speaker != listener
            and _majority(speaker_frames.get(video, []), speaking) == speaker
            and _majority(speaker_frames.get(listened, []), listening) == speaker
        )
    return correct / len(pairs)


def _majority(frames: list, segment: SegmentRow) -> Any:
    first = segment.first_frame or 0
    window = [v for v in frames[first : first + (segment.n_frames or 0)] if v is not None]
    return max(set(window), key=window.count) if window else None
