"""``benchmarks/gpu_pool_check.py`` on a machine without CUDA: the project's Ray executor on a local
Ray that declares one GPU it does not have (placement by declared resources), and the slimmed Ray
wheel the GPU machine installs (``benchmarks/slim_ray_wheel.py``)."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from benchmarks.gpu_pool_check import most_at_once, problems
from benchmarks.gpu_pool_stages import GPU_SHARE
from benchmarks.slim_ray_wheel import slim

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECK = REPO_ROOT / "benchmarks" / "gpu_pool_check.py"


@pytest.mark.timeout(300)
def test_without_cuda_the_gpu_pool_gets_the_declared_gpu_and_falls_back_to_the_cpu(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    # Its own process: the test session may hold a CPU-only Ray; the check starts a private one.
    # Each video holds its GPU actor 2 s (a stand-in for a model's work): a pool hands videos to its actors
    # as they come up, and without a hold the first one up took all of them.
    args = ["--videos", "8", "--frames", "4", "--size", "32", "--reps", "1", "--hold-s", "2", "--workers", "3",
            "--out", str(out)]
    done = subprocess.run(
        [sys.executable, str(CHECK), *args],
        capture_output=True,
        text=True,
        timeout=280,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert 'mode: "cpu only: placement by declared resources"' in done.stdout
    report = json.loads(out.read_text())
    assert report["cluster"]["GPU"] == 1.0 and report["problems"] == []
    assert [pool["stages"] for pool in report["pools"]] == [["npy_probe"], ["conv_features"]]
    assert report["pools"][1]["resources"]["gpus"] == GPU_SHARE
    assert report["pools"][1]["actors_now_most"] == [4, 4]  # four quarter-GPU actors on the one GPU
    rows = report["per_video"].values()
    assert len(rows) == 8 and all(row["state"] == "kept" for row in rows)
    for row in rows:
        gpu, cpu = row["conv_features"], row["npy_probe"]
        assert gpu["gpu_ids"] == ["0"] and gpu["cuda_visible_devices"] == "0"
        assert gpu["assigned"] == {"CPU": 0.5, "GPU": GPU_SHARE}
        assert gpu["device"] == "cpu" and gpu["cuda_device_name"] is None  # auto: no CUDA here
        assert cpu["gpu_ids"] == [] and "GPU" not in cpu["assigned"]
        assert set(row["stage_wall_s"]) == {"npy_probe", "conv_features"}
        assert row["max_abs_diff_vs_cpu"] == 0.0  # the same computation on the same device
    assert not set(report["gpu_actor_pids"]) & set(report["cpu_actor_pids"]), "separate pools"
    assert report["gpu_actors_held_at_once"] == 4  # all four up on the one GPU, each with its share:
    held = report["gpu_actors_held"]
    assert all(up["gpu_ids"] == ["0"] and up["assigned"] == {"CPU": 0.5, "GPU": GPU_SHARE} for up in held)
    assert set(report["gpu_actor_pids"]) <= {up["pid"] for up in held}
    assert len(report["gpu_actor_pids"]) >= 2  # the videos spread over the pool's actors


def test_most_at_once_counts_overlapping_spans_and_not_ones_that_touch() -> None:
    assert most_at_once([]) == 0
    assert most_at_once([(0, 2), (1, 3), (1.5, 4), (3, 5)]) == 3
    assert most_at_once([(0, 1), (1, 2)]) == 1


def test_a_gpu_actor_without_cuda_on_a_cuda_machine_is_a_problem_and_so_is_one_given_no_gpu() -> None:
    def row(device: str, gpu_ids: list[str], assigned: dict[str, float]) -> dict:
        note = {"pid": 7, "device": device, "gpu_ids": gpu_ids, "assigned": assigned}
        return {"state": "kept", "detail": None, "conv_features": note}

    placed = row("cpu", ["0"], {"CPU": 0.5, "GPU": GPU_SHARE})
    report = {"cluster": {"CPU": 16.0, "GPU": 1.0}, "per_video": {"v0": placed}}
    assert problems(report, has_cuda=False, videos=1) == []  # the CPU fallback of a CPU-only machine
    assert problems(report, has_cuda=True, videos=1) == ["v0: the GPU-declared actor 7 resolved cpu, not cuda"]
    report["per_video"]["v1"] = row("cuda", [], {"CPU": 0.5})
    assert problems(report, has_cuda=False, videos=2) == [
        "v1: the GPU-declared actor 7 was given no GPU ({'CPU': 0.5})"
    ]
    stopped = {"cluster": {"CPU": 16.0}, "per_video": {}, "error": "RuntimeError: no GPU"}
    assert problems(stopped, has_cuda=True, videos=1) == [
        "the pools stopped: RuntimeError: no GPU",
        "torch sees CUDA but the local Ray found no GPU",
        "0 outcomes for 1 videos",
    ]


def test_the_slimmed_wheel_leaves_out_the_jars_and_libraries_and_its_record_says_so(tmp_path: Path) -> None:
    source = tmp_path / "ray-2.60.0-cp312-cp312-manylinux2014_x86_64.whl"
    kept = ["ray/__init__.py", "ray/core/src/ray/raylet/raylet", "ray/dashboard/agent.py"]
    gone = ["ray/jars/ray_dist.jar", "ray/rllib/algo.py", "ray/dashboard/client/build/main.js", "ray/x.js.map"]
    with zipfile.ZipFile(source, "w") as wheel:
        for name in kept + gone:
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100755 << 16
            wheel.writestr(info, b"x")
        record = "".join(f"{name},sha256=x,1\n" for name in kept + gone) + "ray-2.60.0.dist-info/RECORD,,\n"
        wheel.writestr("ray-2.60.0.dist-info/RECORD", record)
    target = slim(source, tmp_path / "slim")
    assert target.name == source.name
    with zipfile.ZipFile(target) as wheel:
        assert sorted(wheel.namelist()) == sorted([*kept, "ray-2.60.0.dist-info/RECORD"])
        assert wheel.getinfo("ray/core/src/ray/raylet/raylet").external_attr >> 16 == 0o100755
        listed = [line.split(",")[0] for line in wheel.read("ray-2.60.0.dist-info/RECORD").decode().splitlines()]
    assert listed == [*kept, "ray-2.60.0.dist-info/RECORD"]
    with pytest.raises(ValueError, match="overwrite"):
        slim(target, tmp_path / "slim")
