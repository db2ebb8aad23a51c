"""``lpm-curate bench speaking``: how well the pipeline tells speaking, listening and idle apart.

Three figures, each from the pipeline's own stages (probe, visual and audio analysis, performer
filter, speech, states, with the default workflow's parameters and any ``--set`` overrides) run
in-process on real clips of the shared media:

1. Spliced conversations (``apps.bench.spliced_conversations``): frame-level state accuracy,
   per-state precision/recall/F1 and the confusion matrix against the splice's known labels, with
   coverage (frames that got any label) reported beside it.
2. On every ``talking_head`` clip: of the frames with voice activity (VAD probability at or above
   the states stage's ``vad_threshold``), the fraction labelled ``speaking``; frames without a
   usable track count as not speaking.
3. On the same clips: offset recovery when the audio is shifted by known amounts
   (``apps.bench.offset_recovery``).
"""

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from apps.bench.conversation_plan import PART_STATES
from apps.bench.offset_recovery import SHIFTS, offset_cases, offset_summary
from apps.bench.spliced_conversations import SplicedTruth, build_spliced_set
from apps.bench.state_scoring import NO_LABEL, FrameStateScore, predicted_frame_states, timeline
from apps.bench.talking_head_sources import load_talking_heads
from apps.bench.truth_matching import boundary_matches, expand_runs
from curation.config.workflow import load_workflow
from curation.ingest.content_id import identify_input
from curation.runtime.run_scope_stage import RunScopeStage
from curation.runtime.stage import Stage
from curation.runtime.stage_runner import run_stage
from curation.runtime.video_work import VideoWork
from schemas.performer_states import PerformerState

BENCH_STAGES = ("probe", "visual_analysis", "performer_filter", "audio_analysis", "speech", "states")
# The spliced conversations of one benchmark are one run, as an ingestion of one show would be:
# identities across them, then voices matched to faces on all of their evidence.
RUN_STAGES = ("identity", "voice_identities")
TARGETS = {"state_accuracy": 0.90, "talking_head_speaking_rate": 0.95, "offset_recovery_rate": 0.80}
CUT_TOLERANCE_FRAMES = 1


def bench_stages(overrides: list[str] | None = None, names: tuple[str, ...] = BENCH_STAGES) -> list[Stage]:
    from stages.workflow_stages import WORKFLOW_STAGES

    workflow = load_workflow("default", WORKFLOW_STAGES, overrides)
    stages = [workflow.stage(name) for name in names]
    for stage in stages:
        stage.setup()
    return stages


def analyse(path: Path, stages: list[Stage], store: Path | None = None) -> VideoWork:
    """The stages on one file, in this process, as the local executor runs them; the artefacts
    (audio, crops) go to ``store`` (default: a new temporary folder)."""
    run_uri = str(store or tempfile.mkdtemp(prefix="lpm-analyse-"))
    work = VideoWork(uri=str(path), video_id=identify_input(str(path)).video_id, run_uri=run_uri)
    for stage in stages:
        work = run_stage(stage, work)
    if work.state == "failed":
        # A crash is a bug to fix, not a frame to score as missed.
        raise RuntimeError(f"{path.name}: {work.stage} failed: {work.detail}")
    return work


def apply_run_stages(works: list[VideoWork], run_stages: list[RunScopeStage]) -> None:
    """The run-scope stages over ``works`` as a run applies them (a summary per video, one
    decision, applied to each video still going), in this process."""
    for stage in run_stages:
        going = [w for w in works if not w.finished]
        decision = stage.decide({w.video_id: stage.summarize(w) for w in going})
        for work in going:
            stage.apply(work, decision)


def run_speaking_bench(
    media_dir: Path,
    workdir: Path | None = None,
    n_videos: int = 6,
    seed: int = 0,
    overrides: list[str] | None = None,
    talking_heads: list[str] | None = None,
    one_run: bool = True,
) -> dict[str, Any]:
    """Build the spliced set in ``workdir`` and score all three figures; ``talking_heads`` limits
    figures 2 and 3 to those clip names (the spliced set always draws on every talking head).
    ``one_run``: the conversations are one run (``RUN_STAGES`` over all of them); else each is
    scored as its own video's stages left it. The report is also written to
    ``workdir/speaking_report.json``."""
    started = time.perf_counter()
    workdir = workdir or Path(tempfile.mkdtemp(prefix="lpm-bench-speaking-"))
    stages = bench_stages(overrides)
    states_stage = stages[BENCH_STAGES.index("states")]
    clips = load_talking_heads(media_dir)
    truths = build_spliced_set(clips, workdir / "spliced", n_videos, seed)
    report: dict[str, Any] = {
        "workdir": str(workdir),
        "media": str(media_dir),
        "seed": seed,
        "overrides": overrides or [],
        "one_run": one_run,
    }
    report.update(score_spliced(truths, stages, bench_stages(overrides, RUN_STAGES) if one_run else []))
    names = talking_heads or [c.name for c in clips]
    works = {name: analyse(media_dir / name, stages, workdir / "store") for name in names}
    report.update(speaking_rate(works, states_stage.vad_threshold))
    cases = [c for name, work in works.items() for c in offset_cases(work, name, states_stage.sync_max_offset_frames)]
    report.update(offset_summary(cases, names))
    report["offset_shifts"] = list(SHIFTS)
    report["targets"] = {
        key: {"target": target, "measured": report[key], "met": report[key] is not None and report[key] >= target}
        for key, target in TARGETS.items()
    }
    report["wall_seconds"] = time.perf_counter() - started
    # Everything, timelines and per-clip estimates included, for reading after a table-only run.
    (workdir / "speaking_report.json").write_text(json.dumps(report, indent=1, default=str))
    return report


def score_spliced(
    truth_paths: list[Path], stages: list[Stage], run_stages: list[RunScopeStage] | None = None
) -> dict[str, Any]:
    """Frame-state scores of the spliced conversations: ``stages`` on each, then ``run_stages``
    (default: none) over all of them as over the videos of one run."""
    score = FrameStateScore()
    by_kind: dict[str, np.ndarray] = {kind: np.zeros(4, dtype=np.int64) for kind in PART_STATES}
    videos = []
    truths = [SplicedTruth.read(path) for path in truth_paths]
    works = [
        analyse(path.parent / truth.video, stages, path.parent / "store")
        for path, truth in zip(truth_paths, truths, strict=True)
    ]
    apply_run_stages(works, run_stages or [])
    for truth, work in zip(truths, works, strict=True):
        n = truth.n_frames
        expected = np.asarray(expand_runs(truth.state, n), dtype=np.int8)
        predicted = predicted_frame_states(work, n)
        score.add(expected, predicted)
        for part in truth.parts:
            span = predicted[part.first_frame : part.first_frame + part.n_frames]
            by_kind[part.kind] += np.bincount(np.where(span == NO_LABEL, 3, span), minlength=4)
        fps = truth.fps
        detected_cuts = [s.t_start for s in work.shots[1:]]
        truth_cuts = [c / fps for c in truth.cuts]
        videos.append(
            {
                "name": truth.name,
                "n_frames": n,
                "accuracy_all_frames": float(np.mean(predicted == expected)),
                "coverage": float(np.mean(predicted != NO_LABEL)),
                "cuts_found": boundary_matches(detected_cuts, truth_cuts, (CUT_TOLERANCE_FRAMES + 0.5) / fps),
                "cuts": len(truth_cuts),
                "shots_detected": len(work.shots),
                "rejected_shots": [s.reason for s in work.shots if not s.usable],
                # Whose voice is whose: the video's own answer, the run's (voice_identities), and
                # whether the run's foreign spans differ from the video's own (labelled again).
                "voice_owners": work.voice_faces.owners if work.voice_faces else {},
                "run_voice_owners": work.voice_faces.run_owners if work.voice_faces else {},
                "relabelled_by_run": bool(work.voice_faces and work.voice_faces.relabelled),
                "truth_timeline": timeline(expected),
                "predicted_timeline": timeline(predicted),
            }
        )
    report = score.as_dict()
    report["n_videos"] = len(videos)
    report["by_part_kind"] = {kind: _kind_row(counts, PART_STATES[kind]) for kind, counts in by_kind.items()}
    report["videos"] = videos
    return report


def _kind_row(counts: np.ndarray, state: PerformerState) -> dict[str, Any]:
    total = int(counts.sum())
    row: dict[str, Any] = {"frames": total, "truth": state.name.lower()}
    row.update({name: int(c) for name, c in zip(("idle", "speaking", "listening", "none"), counts, strict=True)})
    row["accuracy_all_frames"] = float(counts[int(state)] / total) if total else None
    return row


def speaking_rate(works: dict[str, VideoWork], vad_threshold: float) -> dict[str, Any]:
    rows = []
    for name, work in works.items():
        speech = work.speech
        n = work.analysis.n_frames if work.analysis is not None else 0
        voiced = np.asarray(speech.vad_prob, dtype=np.float32)[:n] >= vad_threshold if speech else np.zeros(0, bool)
        predicted = predicted_frame_states(work, len(voiced))
        speaking = int(np.sum(predicted[voiced] == PerformerState.SPEAKING))
        rows.append(
            {
                "clip": name,
                "voiced_frames": int(voiced.sum()),
                "speaking_frames": speaking,
                "rate": speaking / int(voiced.sum()) if voiced.any() else None,
                "voiced_labels": {
                    label: int(np.sum(predicted[voiced] == code))
                    for code, label in ((0, "idle"), (2, "listening"), (NO_LABEL, "none"))
                },
            }
        )
    voiced_total = sum(r["voiced_frames"] for r in rows)
    return {
        "talking_head_speaking_rate": sum(r["speaking_frames"] for r in rows) / voiced_total if voiced_total else None,
        "talking_head_voiced_frames": voiced_total,
        "talking_head_by_clip": rows,
    }
