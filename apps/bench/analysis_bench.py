"""``lpm-curate bench analysis``: analysis throughput against the decode and model floors.

For each worker count, on the same files in one invocation: the decode floor, the
decode-plus-landmarker floor (both in that many parallel processes), and the real pipeline
(probe + visual analysis + performer filter on the embedded Ray with that many CPUs). Peak RSS
is sampled over the pipeline's whole process tree.

A shared or virtual machine's speed drifts by tens of percent from minute to minute, so with
``repeat`` > 1 the measurements are interleaved (floor, floor, pipeline for each worker count in
turn, then again) and each figure is its best run: the least disturbed measurement of each,
taken in the same minutes for every worker count.
``workers`` = N confines everything (the floors, Ray, its actors and every ffmpeg they start) to
N CPUs with ``sched_setaffinity``: with one worker on a two-core machine the decoder would
otherwise run on the idle second core for free, flattering the per-core figure and hiding what
two workers really gain over one.

With ``variants`` (named lists of ``--set`` overrides, e.g. with and without OCR), every round
times the pipeline once per variant after the floors, so the variants are compared in the same
minutes; ``wall_seconds`` is the first variant's and ``variant_wall_seconds`` holds each one's
best. ``apps.bench.analysis_cpu`` measures the same variants in CPU seconds.

Two pairs of floors, in the same rounds: decoded as the stage decodes (``visual_analysis.decoder``,
in process by default: the stage's own decoder, the stricter floor), and decoded by ffmpeg's pipe,
the floor docs/design.md names ("ffmpeg decoding the same file at the same analysis settings")
and the one issue 17's targets were set against, before the stage decoded in process. A stage
that decodes through ffmpeg has one pair only.

Start-up is timed the same way on both sides: the floors start their worker processes (Python,
imports, the model) inside the clock, as the pipeline starts its actors inside its own; Ray
itself is up and has run one job before the clock, like a cluster that is already running.
"""

import csv
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apps.bench.floors import measure_floor
from apps.bench.rss_sampler import RssSampler
from curation.config.workflow import Workflow, load_workflow
from curation.execution.ray_executor import start_ray
from curation.ingest.discovery import discover_inputs
from curation.manifests.manifest_writer import read_rows
from curation.media.probe import MediaInfo, probe_media
from curation.models.model_store import resolve
from curation.run.pipeline import RunRequest, run_pipeline
from curation.store.run_store import RunStore
from schemas.tables import ShotRow


@dataclass
class AnalysisBenchResult:
    workers: int
    files: int
    video_seconds: float
    frames: int
    wall_seconds: float
    decode_floor_seconds: float
    model_floor_seconds: float
    peak_rss_mb: float
    peak_total_rss_mb: float
    repeat: int = 1
    all_wall_seconds: tuple[float, ...] = ()
    all_model_floor_seconds: tuple[float, ...] = ()
    landmarked_frac: float = 1.0  # the share of analysis frames the landmarker ran on (the reference variant's)
    variant_wall_seconds: dict[str, float] = field(default_factory=dict)
    variant_all_wall_seconds: dict[str, tuple[float, ...]] = field(default_factory=dict)
    # the floors decoded by ffmpeg's pipe (the same as the two above when the stage decodes so)
    ffmpeg_decode_floor_seconds: float = 0.0
    ffmpeg_model_floor_seconds: float = 0.0
    all_ffmpeg_model_floor_seconds: tuple[float, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["ratio_to_floor"] = self.wall_seconds / self.decode_floor_seconds
        data["ratio_to_model_floor"] = self.wall_seconds / self.model_floor_seconds
        data["ratio_to_ffmpeg_floor"] = self.wall_seconds / self.ffmpeg_decode_floor_seconds
        data["ratio_to_ffmpeg_model_floor"] = self.wall_seconds / self.ffmpeg_model_floor_seconds
        data["realtime"] = self.video_seconds / self.wall_seconds
        data["realtime_per_core"] = self.video_seconds / self.wall_seconds / self.workers
        return data


@dataclass(frozen=True)
class RoundFigures:
    """One round of one worker count: the floors' and the pipeline's seconds, peak memory."""

    decode_floor: float
    model_floor: float
    ffmpeg_decode_floor: float
    ffmpeg_model_floor: float
    wall: float
    peak_rss_mb: float
    peak_total_rss_mb: float


def summarise_runs(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The last worker count's figures, every count's under ``by_workers``, and with two or more
    counts the throughput gain from the first to the last, for the pipeline and for the model floor
    (what the machine itself gives the unavoidable work on these files: two vCPUs are not two whole
    cores, and a few files of unequal length never split evenly between workers)."""
    summary = dict(results[-1])
    summary["by_workers"] = results
    if len(results) > 1:
        first, last = results[0], results[-1]
        summary["scaling_speedup"] = first["wall_seconds"] / last["wall_seconds"]
        summary["model_floor_scaling_speedup"] = first["model_floor_seconds"] / last["model_floor_seconds"]
        if first.get("ffmpeg_model_floor_seconds") and last.get("ffmpeg_model_floor_seconds"):
            summary["ffmpeg_model_floor_scaling_speedup"] = (
                first["ffmpeg_model_floor_seconds"] / last["ffmpeg_model_floor_seconds"]
            )
    return summary


def select_files(input_dir: str, label: str | None, limit: int | None) -> list[str]:
    """The folder's videos; with ``label`` (one label or a comma-separated list) only those that
    its MANIFEST.csv gives one of these labels."""
    files = discover_inputs(input_dir)
    manifest = Path(input_dir) / "MANIFEST.csv"
    if label:
        labels = {part.strip() for part in label.split(",") if part.strip()}
        if not manifest.exists():
            raise FileNotFoundError(f"--label needs {manifest}")
        with manifest.open() as f:
            rows = list(csv.DictReader(f))
        unknown = labels - {row["label"] for row in rows}
        if unknown:
            # A misspelt label would otherwise measure a smaller mix without saying so.
            raise ValueError(f"--label: no file of {manifest} has label(s) {sorted(unknown)}")
        wanted = {row["file"] for row in rows if row["label"] in labels}
        files = [f for f in files if Path(f).name in wanted]
    return files[:limit] if limit else files


def run_analysis_bench(
    files: list[str],
    worker_counts: list[int],
    registry: dict,
    overrides: list[str],
    repeat: int = 1,
    variants: dict[str, list[str]] | None = None,
) -> list[AnalysisBenchResult]:
    """One result per worker count. Each round measures every count in turn (floors, then the
    pipeline of every variant, on a Ray started for that count), so all counts and variants are
    measured in the same minutes and a slow spell of the machine cannot land on one of them only."""
    import ray

    variants = variants or {"": []}
    workflows = {name: load_workflow("analysis", registry, overrides + extra) for name, extra in variants.items()}
    stage = next(iter(workflows.values())).stage("visual_analysis")
    infos: dict[str, MediaInfo] = {f: probe_media(f) for f in files}
    model = resolve("face_landmarker")
    runs: dict[int, list[RoundFigures]] = {w: [] for w in worker_counts}
    variant_walls: dict[int, dict[str, list[float]]] = {w: {name: [] for name in variants} for w in worker_counts}
    landmarked_shares: dict[int, float] = {}
    frames = 0
    names = list(workflows)  # the first is the reference
    for round_index in range(max(1, repeat)):
        order = round_order(names, round_index)
        for workers in worker_counts:
            settings = (stage.analysis_short_side, stage.analysis_fps, stage.decode_threads, workers, model)
            if ray.is_initialized():
                ray.shutdown()
            with confined_to_cpus(workers):
                start_ray(None, workers)
                _warm_up_ray(workers)
                floors = {}
                for decoder in dict.fromkeys((stage.decoder, "ffmpeg")):
                    decode_s, frames = measure_floor("decode", infos, *settings, decoder=decoder)
                    model_s, _ = measure_floor("model", infos, *settings, decoder=decoder)
                    floors[decoder] = (decode_s, model_s)
                timings = {name: _time_pipeline(files, workflows[name], workers) for name in order}
                ray.shutdown()
            for name, (wall, *_) in timings.items():
                variant_walls[workers][name].append(wall)
            wall, _, _, landmarked = timings[names[0]]
            runs[workers].append(
                RoundFigures(
                    *floors[stage.decoder],
                    *floors["ffmpeg"],
                    wall,
                    max(t[1] for t in timings.values()),
                    max(t[2] for t in timings.values()),
                )
            )
            landmarked_shares[workers] = landmarked
    results = [best_of_rounds(workers, runs[workers], files, infos, frames) for workers in worker_counts]
    for result in results:
        result.landmarked_frac = landmarked_shares[result.workers]
    if len(variants) > 1:
        for result in results:
            walls = variant_walls[result.workers]
            result.variant_all_wall_seconds = {name: tuple(w) for name, w in walls.items()}
            result.variant_wall_seconds = {name: min(w) for name, w in walls.items()}
    return results


def round_order(names: list[str], round_index: int) -> list[str]:
    """The order the variants run in, round ``round_index``: rotated by one each round. Whichever
    runs first in a round pays for the cold start left after the floors (measured: with
    ``no_ocr`` always first, its three runs took 30.1-34.3 s and the heavier ``now`` 28.7-30.4 s)."""
    shift = round_index % max(1, len(names))
    return names[shift:] + names[:shift]


def best_of_rounds(
    workers: int, runs: list[RoundFigures], files: list[str], infos: dict[str, MediaInfo], frames: int
) -> AnalysisBenchResult:
    """One worker count's result from its rounds: the fastest of each time, the largest memory."""
    return AnalysisBenchResult(
        workers=workers,
        files=len(files),
        video_seconds=sum(i.duration_s for i in infos.values()),
        frames=frames,
        wall_seconds=min(r.wall for r in runs),
        decode_floor_seconds=min(r.decode_floor for r in runs),
        model_floor_seconds=min(r.model_floor for r in runs),
        peak_rss_mb=max(r.peak_rss_mb for r in runs),
        peak_total_rss_mb=max(r.peak_total_rss_mb for r in runs),
        repeat=len(runs),
        all_wall_seconds=tuple(r.wall for r in runs),
        all_model_floor_seconds=tuple(r.model_floor for r in runs),
        ffmpeg_decode_floor_seconds=min(r.ffmpeg_decode_floor for r in runs),
        ffmpeg_model_floor_seconds=min(r.ffmpeg_model_floor for r in runs),
        all_ffmpeg_model_floor_seconds=tuple(r.ffmpeg_model_floor for r in runs),
    )


@contextmanager
def confined_to_cpus(n: int) -> Iterator[set[int]]:
    """This process, and every process it starts meanwhile, runs on ``n`` of its allowed CPUs."""
    allowed = os.sched_getaffinity(0)
    chosen = set(sorted(allowed)[: max(1, n)])
    os.sched_setaffinity(0, chosen)
    try:
        yield chosen
    finally:
        os.sched_setaffinity(0, allowed)


def _warm_up_ray(workers: int) -> None:
    """One trivial job: the first task workers start outside the clock, as on a cluster that has
    run a job before."""
    from curation.execution.ray_executor import RayExecutor

    list(RayExecutor(workers=workers).map(abs, list(range(-workers, 0))))


def _time_pipeline(files: list[str], workflow: Workflow, workers: int) -> tuple[float, float, float, float]:
    """(wall seconds, peak RSS of the largest process, peak RSS of the tree, share of the analysis
    frames the landmarker ran on) of one analysis run."""
    with tempfile.TemporaryDirectory(prefix="lpm-bench-") as tmp:
        listing = Path(tmp) / "inputs.txt"
        listing.write_text("\n".join(files))
        request = RunRequest(input=str(listing), out=str(Path(tmp) / "run"), workflow=workflow, workers=workers)
        with RssSampler() as rss:
            started = time.perf_counter()
            result = run_pipeline(request)
            wall = time.perf_counter() - started
        landmarked = landmarked_share(RunStore(request.out))
    if result.accounting.failed:
        raise RuntimeError(f"{result.accounting.failed} video(s) failed during the benchmark: {result.accounting}")
    return wall, rss.peak_process_mb, rss.peak_total_mb, landmarked


def landmarked_share(store: RunStore) -> float:
    """The share of the run's analysis frames the FaceLandmarker ran on (the shots manifest's
    ``landmarked_frac`` weighted by each shot's frames)."""
    shots = read_rows(store, ShotRow)
    frames = sum(s.n_frames or 0 for s in shots)
    landmarked = sum((s.n_frames or 0) * (s.landmarked_frac or 0.0) for s in shots)
    return landmarked / frames if frames else 0.0
