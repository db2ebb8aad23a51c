"""GPU stages get their own actor pool with Ray's ``num_gpus``; the device choice is a unit.

No GPU is needed: a Ray node declares one as a resource, Ray assigns its id to the GPU pool's
actors (``CUDA_VISIBLE_DEVICES``) and to no other worker. Whether the models then run fast on a
real GPU is not measured here (README, "What never ran on a GPU")."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pipeline_runs import cli_env

from curation.config.workflow import load_workflow
from curation.execution.ray_executor import group_resources, pool_bounds, stage_groups
from curation.runtime.device import DeviceError, onnx_providers, resolve_device, whisper_compute_type
from curation.runtime.resources import Resources
from stages.workflow_stages import WORKFLOW_STAGES

DRIVER = Path(__file__).with_name("gpu_placement_driver.py")


def test_auto_picks_cuda_only_where_a_gpu_is_visible() -> None:
    assert resolve_device("auto", cuda_available=True) == "cuda"
    assert resolve_device("auto", cuda_available=False) == "cpu"
    assert resolve_device("cpu", cuda_available=True) == "cpu"
    with pytest.raises(DeviceError, match="sees no CUDA GPU"):
        resolve_device("cuda", cuda_available=False)
    assert (whisper_compute_type("cuda"), whisper_compute_type("cpu")) == ("float16", "int8")
    gpu_build = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert onnx_providers("cuda", gpu_build) == ("CUDAExecutionProvider", "CPUExecutionProvider")
    assert onnx_providers("cpu", gpu_build) == ("CPUExecutionProvider",)
    with pytest.raises(DeviceError, match=r"lpm-curation\[gpu\]"):
        onnx_providers("cuda", ["CPUExecutionProvider"])


def test_a_stage_given_gpus_runs_in_a_pool_of_its_own() -> None:
    workflow = load_workflow("default", WORKFLOW_STAGES, ["speech.gpus=1", "speech.device=cuda"])
    block0 = workflow.stages[:6]  # probe .. states, before the first run-scope stage
    groups = [[s.name for s in g] for g in stage_groups(block0)]
    assert groups == [["probe", "visual_analysis", "performer_filter", "audio_analysis"], ["speech"], ["states"]]
    assert group_resources(stage_groups(block0)[1]) == Resources(cpus=1, gpus=1.0)


def test_pools_start_with_what_the_cluster_holds_and_may_grow_to_max_workers() -> None:
    cpu, gpu = Resources(cpus=1), Resources(cpus=1, gpus=0.5)
    assert pool_bounds(cpu, {"CPU": 8}, n_videos=100, max_workers=None) == (8, 8)
    assert pool_bounds(cpu, {"CPU": 8}, n_videos=100, max_workers=64) == (8, 64)
    assert pool_bounds(cpu, {"CPU": 8}, n_videos=3, max_workers=64) == (3, 3)
    assert pool_bounds(gpu, {"CPU": 8, "GPU": 2}, n_videos=100, max_workers=None) == (4, 4)


@pytest.mark.timeout(300)
def test_gpu_pool_actors_get_the_declared_gpu_and_cpu_actors_none(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(DRIVER), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=280,
        stdin=subprocess.DEVNULL,
        env=cli_env(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["groups"] == [["cpu"], ["gpu"]]
    by_stage = {label: [r for r in report["seen"] if r["stage"] == label] for label in ("cpu", "gpu")}
    assert len(by_stage["cpu"]) == len(by_stage["gpu"]) == 4  # every video went through both pools
    assert all(r["gpu_ids"] == [] and r["device"] == "cpu" for r in by_stage["cpu"])
    assert all(r["gpu_ids"] == ["0"] and r["cuda_visible_devices"] == "0" for r in by_stage["gpu"])
    assert all(r["device"] == "cuda" for r in by_stage["gpu"])
    assert not {r["pid"] for r in by_stage["cpu"]} & {r["pid"] for r in by_stage["gpu"]}, "separate actors"
