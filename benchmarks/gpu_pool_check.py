"""The curation actor pools on a GPU, in one short run: do GPU-declared actors really get CUDA?

The project's own executor path (``RayExecutor.run_videos``: ``stage_groups``, ``pool_sizes``,
``actor_pools.stream_videos``, the run store) on an embedded local Ray started by ``start_ray``,
over a handful of tiny synthetic videos (raw uint8 frames in ``.npy`` files: no ffmpeg, no media):

- ``npy_probe`` (CPU pool, ``Resources(cpus=0.5)``): reads the video through ``local_media`` and
  fills the record's ``video`` (``MediaInfo``), as the real probe does;
- ``conv_features`` (GPU pool, ``Resources(cpus=0.5, gpus=0.25)``): needs ``video``; its setup
  resolves ``resolve_device("auto")`` and loads a small seeded conv net there; ``process`` runs it
  on the video's frames. Each actor notes its pid, ``CUDA_VISIBLE_DEVICES``, Ray's GPU ids and
  assigned resources, the device and the CUDA device's name, the span of each video's work and
  the output features.

The driver then reads the outcomes (states, per-stage walls from the records' ``timings``), how
many GPU actors there were and how many ran a video at the same moment (four of 0.25 share the
one GPU), and computes the same features on the CPU: max |gpu - cpu|.

With CUDA in the driver Ray finds the GPUs itself (the path a real run takes). Without, the local
Ray is made to declare one GPU (``RAY_OVERRIDE_RESOURCES``, read by Ray at start) and the check
says "cpu only: placement by declared resources": actors still get the GPU resource and its id,
and ``auto`` falls back to the CPU. Exit status 1 when a video did not come back kept, when a
GPU-declared actor was given no GPU, or, on a machine with CUDA, when one did not run on CUDA.

``python benchmarks/gpu_pool_check.py --out runs/gpu_pool.json``: one line a fact, JSON to --out.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import gpu_pool_stages
from benchmarks.gpu_pool_stages import GPU_SHARE, ConvFeatures, NpyProbe, features, make_net, synthetic_videos
from curation.execution.ray_executor import RayExecutor, group_resources, pool_sizes, stage_groups
from curation.execution.video_task import VideoTask
from curation.runtime.device import cuda_visible
from curation.runtime.stage import Stage


def most_at_once(spans: list[tuple[float, float]]) -> int:
    """The most spans open at one moment (an end before a start at the same instant)."""
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans], key=lambda e: (e[0], e[1]))
    now = best = 0
    for _, step in events:
        now += step
        best = max(best, now)
    return best


def check(
    videos: int, frames: int, size: int, workers: int | None, reps: int = 1, tf32: bool = True, hold_s: float = 0.0
) -> dict[str, Any]:
    import ray
    import torch

    has_cuda = cuda_visible()
    os.environ.pop("RAY_ADDRESS", None)  # an embedded local Ray, never a cluster named outside
    if not has_cuda:
        # Ray reads this at start: the local node declares one GPU it does not have.
        os.environ["RAY_OVERRIDE_RESOURCES"] = json.dumps({"GPU": 1})
    report: dict[str, Any] = {
        "mode": "cuda" if has_cuda else "cpu only: placement by declared resources",
        "driver_cuda_device": torch.cuda.get_device_name() if has_cuda else None,
        "torch": torch.__version__,
        "ray": ray.__version__,
        "python": sys.version.split()[0],
        "tf32": tf32,
        "videos": videos,
        "reps": reps,
        "frames_per_video": [frames, size, size, 3],
    }
    started = time.perf_counter()
    executor = RayExecutor(workers=workers)  # start_ray: the CLI's embedded local Ray
    report["ray_start_s"] = round(time.perf_counter() - started, 2)
    # The stages (and this module) travel to the workers by value: the script is not importable there.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.cloudpickle.register_pickle_by_value(gpu_pool_stages)
    cluster = ray.cluster_resources()
    report["cluster"] = {k: cluster[k] for k in ("CPU", "GPU") if k in cluster}
    per_video: dict[str, dict[str, Any]] = {}
    spans: list[tuple[float, float]] = []
    diffs: list[float] = []
    scales: list[float] = []
    with tempfile.TemporaryDirectory(prefix="gpu-pool-") as tmp:
        notes, run_dir = Path(tmp, "notes"), Path(tmp, "run")
        notes.mkdir()
        paths = synthetic_videos(Path(tmp), videos, frames, size)
        gpu_stage = ConvFeatures(notes_dir=str(notes), tf32=tf32, reps=reps, hold_s=hold_s)
        stages: list[Stage] = [NpyProbe(notes_dir=str(notes)), gpu_stage]
        groups = stage_groups(stages)
        resources = [group_resources(g) for g in groups]
        report["pools"] = [
            {"stages": [s.name for s in g], "resources": vars(r), "actors_now_most": list(size_)}
            for g, r, size_ in zip(groups, resources, pool_sizes(resources, cluster, videos, None), strict=True)
        ]
        names = tuple(s.name for s in stages)
        tasks = [VideoTask(str(p), p.stem, str(run_dir), 0, True, names) for p in paths]
        started = time.perf_counter()
        try:
            outcomes = list(executor.run_videos(stages, tasks))
        except Exception as err:  # no GPU in Ray's cluster, a setup that failed: said, not a traceback
            report["error"] = f"{type(err).__name__}: {err}"
            outcomes = []
        report["pools_wall_s"] = round(time.perf_counter() - started, 2)
        pools_ended = time.time()

        net = make_net()
        for outcome in sorted(outcomes, key=lambda o: o.video_id):
            vid = outcome.video_id
            row: dict[str, Any] = {
                "state": outcome.state,
                "detail": outcome.detail,
                "stage_wall_s": {k: round(v, 4) for k, v in outcome.timings.items()},
            }
            for stage in names:
                note = Path(notes, f"{vid}-{stage}.json")
                row[stage] = json.loads(note.read_text()) if note.exists() else None
            gpu_note, output = row["conv_features"], Path(notes, f"{vid}-conv_features.npy")
            if gpu_note is not None and output.exists():
                spans.append((gpu_note.pop("start"), gpu_note.pop("end")))
                reference = features(net, np.load(Path(tmp, f"{vid}.npy")), "cpu")
                diffs.append(float(np.abs(np.load(output) - reference).max()))
                scales.append(float(np.abs(reference).max()))
                row["max_abs_diff_vs_cpu"] = diffs[-1]
            per_video[vid] = row
        ups = [json.loads(path.read_text()) for path in sorted(notes.glob("up-*.json"))]
    gpu_notes = [row["conv_features"] for row in per_video.values() if row["conv_features"]]
    cpu_notes = [row["npy_probe"] for row in per_video.values() if row["npy_probe"]]
    report["per_video"] = per_video
    report["gpu_actor_pids"] = sorted({n["pid"] for n in gpu_notes})
    report["cpu_actor_pids"] = sorted({n["pid"] for n in cpu_notes})
    # Actors hold their share until the pools end (killed together): those up by then were all held
    # at once, each with what Ray gave it (its up note); "computing" is the most whose videos' work
    # overlapped.
    held = [up for up in ups if up["up_at"] <= pools_ended]
    report["gpu_actors_held_at_once"] = len({up["pid"] for up in held})
    facts = ("pid", "gpu_ids", "cuda_visible_devices", "assigned")
    report["gpu_actors_held"] = [{k: up[k] for k in facts} for up in held]
    report["gpu_actors_computing_at_once"] = most_at_once(spans)
    report["gpu_devices"] = sorted({n["device"] for n in gpu_notes})
    report["gpu_cuda_visible_devices"] = sorted({str(n["cuda_visible_devices"]) for n in gpu_notes})
    report["cpu_cuda_visible_devices"] = sorted({str(n["cuda_visible_devices"]) for n in cpu_notes})
    report["max_abs_diff_vs_cpu"] = max(diffs) if diffs else None
    report["output_scale"] = max(scales) if scales else None
    report["problems"] = problems(report, has_cuda, videos)
    return report


def problems(report: dict[str, Any], has_cuda: bool, videos: int) -> list[str]:
    found = [f"the pools stopped: {report['error']}"] if "error" in report else []
    if has_cuda and not report["cluster"].get("GPU"):
        found.append("torch sees CUDA but the local Ray found no GPU")
    for vid, row in report["per_video"].items():
        if row["state"] != "kept":
            found.append(f"{vid}: {row['state']} ({row['detail']})")
        note = row["conv_features"]
        if note is None:
            found.append(f"{vid}: the GPU stage left no note")
            continue
        if not note["gpu_ids"] or note["assigned"].get("GPU") != GPU_SHARE:
            found.append(f"{vid}: the GPU-declared actor {note['pid']} was given no GPU ({note['assigned']})")
        if has_cuda and note["device"] != "cuda":
            found.append(f"{vid}: the GPU-declared actor {note['pid']} resolved {note['device']}, not cuda")
    if len(report["per_video"]) != videos:
        found.append(f"{len(report['per_video'])} outcomes for {videos} videos")
    return found


FACTS = (
    "mode",
    "driver_cuda_device",
    "python",
    "torch",
    "ray",
    "cluster",
    "ray_start_s",
    "pools",
    "pools_wall_s",
    "error",
    "cpu_actor_pids",
    "cpu_cuda_visible_devices",
    "gpu_actor_pids",
    "gpu_cuda_visible_devices",
    "gpu_devices",
    "gpu_actors_held_at_once",
    "gpu_actors_computing_at_once",
    "max_abs_diff_vs_cpu",
    "output_scale",
)


def video_line(row: dict[str, Any]) -> str:
    gpu, cpu = row["conv_features"] or {}, row["npy_probe"] or {}
    return (
        f"{row['state']}; cpu actor {cpu.get('pid')} -> gpu actor {gpu.get('pid')} "
        f"CUDA_VISIBLE_DEVICES={gpu.get('cuda_visible_devices')} gpu_ids={gpu.get('gpu_ids')} "
        f"assigned={json.dumps(gpu.get('assigned'))} device={gpu.get('device')} "
        f"name={gpu.get('cuda_device_name')} nvml_processes={gpu.get('gpu_processes_seen')}; "
        f"setup {gpu.get('setup_s')} s, compute {gpu.get('compute_s')} s; "
        f"stage walls {json.dumps(row['stage_wall_s'])}; max|gpu-cpu| {row.get('max_abs_diff_vs_cpu')}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--frames", type=int, default=32, help="frames per video")
    parser.add_argument("--size", type=int, default=160, help="frame width and height (a multiple of 8)")
    parser.add_argument("--workers", type=int, help="CPUs of the local Ray (default: the machine's)")
    parser.add_argument("--reps", type=int, help="forward passes of the GPU stage a video (default 10 on CUDA, else 1)")
    parser.add_argument("--hold-s", type=float, default=0.0, help="the least seconds a video holds its GPU actor")
    parser.add_argument("--no-tf32", action="store_true", help="full fp32 on the GPU (no TF32 convolutions)")
    parser.add_argument("--out", type=Path, help="write the report as JSON here")
    args = parser.parse_args(argv)
    reps = args.reps if args.reps is not None else (10 if cuda_visible() else 1)
    report = check(args.videos, args.frames, args.size, args.workers, reps, tf32=not args.no_tf32, hold_s=args.hold_s)
    for key in (key for key in FACTS if key in report):
        print(f"{key}: {json.dumps(report[key])}", flush=True)
    for vid, row in report["per_video"].items():
        print(f"{vid}: {video_line(row)}", flush=True)
    for line in report["problems"]:
        print(f"PROBLEM: {line}", flush=True)
    print("ok" if not report["problems"] else f"FAILED: {len(report['problems'])} problem(s)", flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
