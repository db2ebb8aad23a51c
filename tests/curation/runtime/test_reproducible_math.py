"""MKL's code path is pinned when ``curation`` is imported: AVX2 where the CPU has it, AUTO where
not, a user's own choice kept."""

import os
import subprocess
import sys
from pathlib import Path

from curation.runtime.reproducible_math import MKL_BRANCH_ENV, pin_mkl_branch

ROOT = Path(__file__).resolve().parents[3]


def _cpuinfo(tmp_path: Path, flags: str) -> Path:
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: test\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: {flags}\n")
    return path


def test_avx2_where_the_cpu_has_it_auto_where_not(tmp_path, monkeypatch):
    monkeypatch.delenv(MKL_BRANCH_ENV, raising=False)
    assert pin_mkl_branch(_cpuinfo(tmp_path, "fpu sse2 avx avx2 fma")) == "AVX2"
    monkeypatch.delenv(MKL_BRANCH_ENV)
    assert pin_mkl_branch(_cpuinfo(tmp_path, "fpu sse2 avx avx512f_not_avx2")) == "AUTO"
    monkeypatch.delenv(MKL_BRANCH_ENV)
    assert pin_mkl_branch(tmp_path / "absent") == "AUTO"


def test_a_value_the_user_set_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv(MKL_BRANCH_ENV, "COMPATIBLE")
    assert pin_mkl_branch(_cpuinfo(tmp_path, "avx2")) == "COMPATIBLE" == os.environ[MKL_BRANCH_ENV]


def test_importing_curation_pins_it_in_a_fresh_process():
    env = {k: v for k, v in os.environ.items() if k != MKL_BRANCH_ENV} | {"PYTHONPATH": str(ROOT)}
    code = "import os, curation; print(os.environ['MKL_CBWR'])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    expected = "AVX2" if "avx2" in Path("/proc/cpuinfo").read_text().split() else "AUTO"
    assert done.stdout.strip() == expected
