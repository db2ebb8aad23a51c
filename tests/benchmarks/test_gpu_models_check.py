"""``benchmarks/gpu_models_check.py`` on a machine without CUDA: every wrapper runs through the
check on the CPU and the GPU columns stay empty (the GPU run's figures are in docs/benchmarks.md)."""

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks import gpu_models_check
from benchmarks.gpu_models_check import main, relative_max_difference, smallest_cosine


def test_without_cuda_each_model_has_a_cpu_time_and_no_gpu_figures(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    assert main(["--models", "transnet,voice", "--reps", "1", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["auto_device"] == "cpu" and report["cuda_device"] is None
    for name in ("transnet", "voice"):
        row = report["models"][name]
        assert row["cpu_s"] > 0 and "error" not in row
        assert "cuda_s" not in row and "agreement" not in row


def test_a_failing_model_is_reported_beside_the_others_and_the_exit_code_says_so(tmp_path: Path, monkeypatch) -> None:
    def broken(device: str, workdir: Path, reps: int):
        raise RuntimeError("weights do not fit")

    monkeypatch.setitem(gpu_models_check.CASES, "voice", (broken, *gpu_models_check.CASES["voice"][1:]))
    out = tmp_path / "report.json"
    assert main(["--models", "voice,transnet", "--reps", "1", "--out", str(out)]) == 1
    models = json.loads(out.read_text())["models"]
    assert models["voice"]["error"] == "RuntimeError: weights do not fit"
    assert models["transnet"]["cpu_s"] > 0


def test_an_unknown_model_name_is_refused_before_anything_runs(capsys) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["--models", "transnet,no_such_model"])
    assert refused.value.code == 2 and "no such model: no_such_model" in capsys.readouterr().err


def test_the_agreements_measure_what_they_say() -> None:
    cpu = np.array([[1.0, 0.0], [0.0, 2.0]], np.float32)
    assert smallest_cosine(cpu, cpu) == 1.0
    assert abs(smallest_cosine(cpu, np.array([[1.0, 1.0], [0.0, 2.0]])) - np.sqrt(0.5)) < 1e-6
    assert abs(relative_max_difference(cpu, cpu + 0.1) - 0.1 / np.sqrt(1.25)) < 1e-6  # rms of (1, 0, 0, 2)
