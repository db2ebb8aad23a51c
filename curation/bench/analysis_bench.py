"""``lpm-curate bench analysis``: analysis throughput against the decode and model floors.

For each worker count, on the same files in one invocation: the decode floor, the
decode-plus-landmarker floor (both in that many parallel processes), and the real pipeline
(probe + visual analysis + performer filter on the embedded Ray with that many CPUs). Peak RSS
is sampled over the pipeline's whole process tree.
"""

import csv
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curation.bench.floors import measure_floor
from curation.bench.rss_sampler import RssSampler
from curation.config.workflow import load_workflow
from curation.ingest.discovery import discover_inputs
from curation.media.probe import MediaInfo, probe_media
from curation.models.registry import resolve
from curation.run.pipeline import RunRequest, run_pipeline
from curation.runtime.ray_executor import start_ray


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

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["ratio_to_floor"] = self.wall_seconds / self.decode_floor_seconds
        data["ratio_to_model_floor"] = self.wall_seconds / self.model_floor_seconds
        data["realtime"] = self.video_seconds / self.wall_seconds
        data["realtime_per_core"] = self.video_seconds / self.wall_seconds / self.workers
        return data


def select_files(input_dir: str, label: str | None, limit: int | None) -> list[str]:
    files = discover_inputs(input_dir)
    manifest = Path(input_dir) / "MANIFEST.csv"
    if label:
        if not manifest.exists():
            raise FileNotFoundError(f"--label needs {manifest}")
        with manifest.open() as f:
            wanted = {row["file"] for row in csv.DictReader(f) if row["label"] == label}
        files = [f for f in files if Path(f).name in wanted]
    return files[:limit] if limit else files


def run_analysis_bench(files: list[str], workers: int, registry: dict, overrides: list[str]) -> AnalysisBenchResult:
    import ray

    workflow = load_workflow("analysis", registry, overrides)
    stage = workflow.stage("visual_analysis")
    infos: dict[str, MediaInfo] = {f: probe_media(f) for f in files}
    model = resolve("face_landmarker")
    decode_s, frames = measure_floor(
        "decode", infos, stage.analysis_short_side, stage.analysis_fps, stage.decode_threads, workers, model
    )
    model_s, _ = measure_floor(
        "model", infos, stage.analysis_short_side, stage.analysis_fps, stage.decode_threads, workers, model
    )
    if ray.is_initialized():
        ray.shutdown()
    start_ray(None, workers)
    with tempfile.TemporaryDirectory(prefix="lpm-bench-") as tmp:
        listing = Path(tmp) / "inputs.txt"
        listing.write_text("\n".join(files))
        request = RunRequest(input=str(listing), out=str(Path(tmp) / "run"), workflow=workflow, workers=workers)
        with RssSampler() as rss:
            started = time.perf_counter()
            result = run_pipeline(request)
            wall = time.perf_counter() - started
    ray.shutdown()
    if result.accounting.failed:
        raise RuntimeError(f"{result.accounting.failed} video(s) failed during the benchmark: {result.accounting}")
    return AnalysisBenchResult(
        workers=workers,
        files=len(files),
        video_seconds=sum(i.duration_s for i in infos.values()),
        frames=frames,
        wall_seconds=wall,
        decode_floor_seconds=decode_s,
        model_floor_seconds=model_s,
        peak_rss_mb=rss.peak_process_mb,
        peak_total_rss_mb=rss.peak_total_mb,
    )
