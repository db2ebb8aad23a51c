"""``lpm-curate bench analysis --cpu``: what each variant of the analysis costs in CPU seconds.

Wall time on a shared machine moves by tens of percent with the other load; the CPU seconds a
process spends on the same work barely move. Here the analysis stages (probe to performer filter)
run in this one process on each file, each variant of ``--set`` overrides in turn, round after
round, and each figure is its best round. A stage's seconds include its ``setup`` (loading its
models, paid once per worker) and the CPU of the processes it starts and waits for (ffmpeg).

The text detector's own CPU seconds (its calls inside the visual analysis, the model loading on
the first one included) are also counted apart, on the calling thread (ONNX Runtime runs it there
with one thread): the difference between two variants' whole-stage seconds moves by a few
percent from round to round on a loaded machine, the detector's own seconds do not.

After the analysis of a variant, the identity embedding the ``states`` and ``identity`` stages
would compute (one vector per usable track, ``annotators.identity.track_identity``, with the
embedder and frame count of that variant's ``identity`` stage, set-up included) is timed the
same way: it is not part of the analysis workflow, but it is paid for every analysed track.

The lip-sync model of that variant's ``states`` stage is timed the same way, set-up included, over
every usable track cut into segments of the stage's ``max_segment_s``, each scored with its
``LIP_SYNC_CONTEXT_S`` of context as the stage scores a speaking segment: every frame taken as
speech, so an upper bound on what the stage pays (it scores only speaking segments).
``lip_sync_frac`` is that over the variant's analysis: what the sync model adds to it.

Each variant also reports what its analysis kept, the seconds of usable tracks (in all and per
file, with the files where they differ from the first variant's), and the share of analysis frames
the landmarker ran on: a variant of the analysis cascade (``visual_analysis.cascade_*``) is the
frames it saves against the track-seconds it loses.
"""

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from annotators.face.face_signals import HEAD_POSE, Signal
from annotators.face.mouth_track import MouthTrack
from annotators.identity.track_identity import face_embedder, track_identity_vector
from annotators.speaking.lip_sync import LIP_SYNC_CONTEXT_S, LipSyncModel, lip_sync_model
from curation.config.workflow import load_workflow
from curation.ingest.content_id import identify_input
from curation.runtime.products import TrackFeatures
from curation.runtime.stage_runner import run_stage
from curation.runtime.video_work import VideoWork
from curation.store.stored_audio import audio_samples

ANALYSIS_STAGES = ("probe", "visual_analysis", "performer_filter", "audio_analysis")  # the analysis workflow's
T = TypeVar("T")


@dataclass
class VariantCpu:
    """Best-round CPU seconds of one variant: per analysis stage, and the identity embedding."""

    name: str
    overrides: list[str]
    stage_cpu_s: dict[str, float] = field(default_factory=dict)
    identity_cpu_s: float = float("inf")
    text_detection_cpu_s: float = float("inf")
    tracks_embedded: int = 0
    lip_sync_model: str = ""
    lip_sync_cpu_s: float = float("inf")
    lip_sync_scored_s: float = 0.0  # seconds of track scored (segments, without their context)
    rounds: list[dict[str, float]] = field(default_factory=list)
    # what the analysis kept, by file (seconds of usable tracks), and the share of analysis frames
    # the landmarker ran on: what a variant of the cascade saves and what it loses
    usable_track_s: dict[str, float] = field(default_factory=dict)
    landmarked_frac: float = 0.0
    shot_s_by_reason: dict[str, float] = field(default_factory=dict)  # "kept" for usable shots

    @property
    def analysis_cpu_s(self) -> float:
        return sum(self.stage_cpu_s.values())


def cpu_seconds() -> float:
    """CPU seconds of this process and of the children it has waited for (ffmpeg)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(call: Callable[[], T]) -> tuple[T, float]:
    started = cpu_seconds()
    result = call()
    return result, cpu_seconds() - started


def run_cpu_variants(
    files: list[str], registry: dict, overrides: list[str], variants: dict[str, list[str]], repeat: int = 2
) -> list[VariantCpu]:
    """One result per variant, in the order given; variants interleaved in every round."""
    results = {name: VariantCpu(name, extra) for name, extra in variants.items()}
    for _ in range(max(1, repeat)):
        for name, extra in variants.items():
            measured = _one_round(files, registry, overrides + extra)
            result = results[name]
            result.usable_track_s = {Path(w.uri).name: usable_track_seconds(w) for w in measured.works}
            result.landmarked_frac = landmarked_frac(measured.works)
            result.shot_s_by_reason = shot_seconds_by_reason(measured.works)
            result.text_detection_cpu_s = min(result.text_detection_cpu_s, measured.text_cpu)
            for stage, seconds in measured.stage_cpu.items():
                result.stage_cpu_s[stage] = min(result.stage_cpu_s.get(stage, float("inf")), seconds)
            result.identity_cpu_s = min(result.identity_cpu_s, measured.identity_cpu)
            result.tracks_embedded = measured.tracks
            result.lip_sync_model = measured.lip_sync_model
            result.lip_sync_cpu_s = min(result.lip_sync_cpu_s, measured.lip_sync_cpu)
            result.lip_sync_scored_s = measured.lip_sync_scored_s
            result.rounds.append({**measured.stage_cpu, "text_detection": measured.text_cpu,
                                  "identity_embedding": measured.identity_cpu, "lip_sync": measured.lip_sync_cpu})
    return list(results.values())


class ThreadCpuMeter:
    """Wraps a callable and adds up the CPU seconds of the calling thread spent in it."""

    def __init__(self, call: Callable[..., Any]) -> None:
        self.call = call
        self.seconds = 0.0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return self.call(*args, **kwargs)
        finally:
            self.seconds += time.thread_time() - started


def usable_track_seconds(work: VideoWork) -> float:
    if work.state == "rejected":
        return 0.0
    return sum(t.t_end - t.t_start for t in work.tracks if t.usable)


def shot_seconds_by_reason(works: list[VideoWork]) -> dict[str, float]:
    """Seconds of shot per performer-filter verdict (``kept`` for a usable shot)."""
    seconds: dict[str, float] = {}
    for shot in (s for w in works for s in w.shots):
        reason = shot.reason or "kept"
        seconds[reason] = seconds.get(reason, 0.0) + shot.t_end - shot.t_start
    return dict(sorted(seconds.items()))


def landmarked_frac(works: list[VideoWork]) -> float:
    """The share of the analysis frames of ``works`` the landmarker ran on."""
    shots = [s for w in works for s in w.shots]
    frames = sum(s.n_frames for s in shots)
    landmarked = sum(s.n_frames * (s.landmarked_frac or 0.0) for s in shots)
    return landmarked / frames if frames else 0.0


@dataclass
class RoundCpu:
    """One round of one variant: CPU seconds per analysis stage, of the text detector inside the
    visual analysis, of the identity embedding and of the lip-sync scoring after it."""

    stage_cpu: dict[str, float]
    text_cpu: float
    identity_cpu: float
    tracks: int  # usable tracks embedded
    lip_sync_model: str
    lip_sync_cpu: float
    lip_sync_scored_s: float
    works: list[VideoWork]


def lip_sync_cost(works: list[VideoWork], model: LipSyncModel, segment_s: float) -> tuple[float, float]:
    """(CPU seconds, seconds of track scored): every usable track of the kept ``works`` cut into
    segments of ``segment_s``, each scored by ``model`` with its context (module docstring)."""
    cpu, scored = 0.0, 0.0
    # A verdict that reads the track's dlib vector (learned_av_face_voice) gets it as the states stage
    # does: kept on the record when the identity embedding (timed before, with dlib) computed it, else
    # computed here and counted.
    faces = None
    if getattr(model, "needs_face_vector", False):
        from annotators.models.dlib_face_embedder import DlibFaceEmbedder

        faces, cpu = timed(DlibFaceEmbedder)
    for work in works:
        if work.state == "rejected" or work.analysis is None:
            continue
        audio = audio_samples(work)
        fps = work.analysis.fps
        step, pad = max(1, round(segment_s * fps)), round(LIP_SYNC_CONTEXT_S * fps)
        shots = {s.shot_id: s for s in work.shots}
        for track in (t for t in work.tracks if t.usable):
            features = work.track_features[track.track_id]
            first = int(round(shots[track.shot_id].t_start * fps))
            face, face_cpu = timed(lambda w=work, t=track: _face_vector(w, t.track_id, faces))
            cpu += face_cpu
            for start in range(0, len(features), step):
                end = min(len(features), start + step)
                segment = _mouth(work, features, first, start, end, fps)
                context = _mouth(work, features, first, max(0, start - pad), min(len(features), end + pad), fps)
                mouth = replace(segment, context=context, face_vector=face)
                started = cpu_seconds()
                model.sync_score(mouth, audio)
                cpu += cpu_seconds() - started
                scored += (end - start) / fps
    return cpu, scored


def _face_vector(work: VideoWork, track_id: str, embedder: Any) -> np.ndarray | None:
    if embedder is None:
        return None
    vector = track_identity_vector(work, track_id, embedder)
    return None if vector is None else np.asarray(vector.vector, dtype=np.float32)


def _mouth(work: VideoWork, features: TrackFeatures, first: int, start: int, end: int, fps: float) -> MouthTrack:
    signals = features.signals[start:end].astype(np.float32)
    return MouthTrack(mouth_open=signals[:, Signal.MOUTH_OPEN], jaw_open=signals[:, Signal.JAW_OPEN],
                      mouth_dark=signals[:, Signal.MOUTH_DARK], first_frame=first + start, fps=fps, video_uri=work.uri,
                      face_boxes=features.face_box[start:end].astype(np.float32),
                      head_pose=signals[:, HEAD_POSE])


def _one_round(files: list[str], registry: dict, overrides: list[str]) -> RoundCpu:
    workflow = load_workflow("default", registry, overrides)
    stages = [workflow.stage(name) for name in ANALYSIS_STAGES]
    identity = workflow.stage("identity")
    stage_cpu = dict.fromkeys(ANALYSIS_STAGES, 0.0)
    works = []
    with tempfile.TemporaryDirectory(prefix="lpm-bench-cpu-") as store:
        for stage in stages:
            _, stage_cpu[stage.name] = timed(stage.setup)
        # The visual analysis holds its text detector as ``_text`` (None with OCR off); the meter
        # is this benchmark's instrument, the stage knows nothing of it.
        text = getattr(workflow.stage("visual_analysis"), "_text", None)
        meter = ThreadCpuMeter(text.boxes) if text is not None else None
        if meter is not None:
            text.boxes = meter
        for path in files:
            work = VideoWork(uri=path, video_id=identify_input(path).video_id, run_uri=store)
            for stage in stages:
                work, seconds = timed(lambda s=stage, w=work: run_stage(s, w))
                stage_cpu[stage.name] += seconds
            if work.state == "failed":
                raise RuntimeError(f"{path} failed during the benchmark: {work.reason} {work.detail}")
            works.append(work)
        # the embedder as the identity stage builds and sets it up (dlib loads its network there)
        embedder, identity_cpu = timed(lambda: face_embedder(identity.descriptor, identity.device))
        setup = getattr(embedder, "setup", None)
        if setup is not None:
            identity_cpu += timed(setup)[1]
        tracks = 0
        for work in works:
            for track in work.tracks:
                if work.state != "rejected" and track.usable:
                    _, seconds = timed(
                        lambda w=work, t=track: track_identity_vector(w, t.track_id, embedder, identity.max_frames)
                    )
                    identity_cpu += seconds
                    tracks += 1
        # the lip-sync model as the states stage builds it (the learned network loads its weights there)
        states = workflow.stage("states")
        model, lip_sync_cpu = timed(lambda: lip_sync_model(states.lip_sync_model, states.lip_sync_threshold,
                                                           states.lip_sync_accept_threshold))
        scoring_cpu, scored_s = lip_sync_cost(works, model, states.max_segment_s)
    return RoundCpu(stage_cpu, meter.seconds if meter is not None else 0.0, identity_cpu, tracks, model.name,
                    lip_sync_cpu + scoring_cpu, scored_s, works)


def cpu_summary(results: list[VariantCpu]) -> dict[str, Any]:
    """Per variant its CPU seconds, and what OCR and identity embedding add to the analysis:
    measured directly (the detector's and the embedding's own seconds over the analysis without
    the detector's), and as the difference to the first variant (the reference, e.g. without
    OCR): its own analysis minus the reference's, plus its identity embedding, over the
    reference's analysis."""
    reference = results[0].analysis_cpu_s
    rows = []
    for r in results:
        without_text = r.analysis_cpu_s - r.text_detection_cpu_s
        rows.append(
            {
                "variant": r.name,
                "overrides": r.overrides,
                "stage_cpu_s": r.stage_cpu_s,
                "analysis_cpu_s": r.analysis_cpu_s,
                "identity_cpu_s": r.identity_cpu_s,
                "tracks_embedded": r.tracks_embedded,
                "analysis_added_frac": (r.analysis_cpu_s - reference) / reference,
                "identity_frac": r.identity_cpu_s / reference,
                "added_frac": (r.analysis_cpu_s - reference + r.identity_cpu_s) / reference,
                "lip_sync_model": r.lip_sync_model,
                "lip_sync_cpu_s": r.lip_sync_cpu_s,
                "lip_sync_scored_s": r.lip_sync_scored_s,
                "lip_sync_frac": r.lip_sync_cpu_s / r.analysis_cpu_s if r.analysis_cpu_s else None,
                "text_detection_cpu_s": r.text_detection_cpu_s,
                "text_detection_own_frac": r.text_detection_cpu_s / without_text,
                "identity_own_frac": r.identity_cpu_s / without_text,
                "added_own_frac": (r.text_detection_cpu_s + r.identity_cpu_s) / without_text,
                "rounds": r.rounds,
                "landmarked_frac": r.landmarked_frac,
                "shot_s_by_reason": r.shot_s_by_reason,
                "usable_track_s": sum(r.usable_track_s.values()),
                "usable_track_s_vs_reference": sum(r.usable_track_s.values())
                / max(sum(results[0].usable_track_s.values()), 1e-9),
                "usable_track_s_differs": {
                    name: [results[0].usable_track_s.get(name, 0.0), seconds]
                    for name, seconds in r.usable_track_s.items()
                    if abs(seconds - results[0].usable_track_s.get(name, 0.0)) > 1e-6
                },
            }
        )
    return {"reference": results[0].name, "variants": rows}
