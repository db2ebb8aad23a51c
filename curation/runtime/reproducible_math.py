"""One MKL code path for every process of a run, so a video gets the same labels on any worker.

Torch's CPU matrix products go through Intel MKL, which by default picks its kernels as it goes
(the CPU's widest instructions, its buffers' alignment, its threads), and two identical calls in
one process can round differently. Measured on a 2-core AMD EPYC: Resemblyzer's LSTM, called on
the same mel frames by the ``states`` labeller of two runs in one process, gave two voice vectors,
and the segment's lip-sync score moved in the 8th digit (``infinitetalk_ref_video.mp4``:
2.7792526253 against 2.7792526067); with ``MKL_CBWR`` set, never. ``MKL_CBWR=AVX2`` is MKL's
conditional numerical reproducibility on its AVX2 branch: fixed kernels, fixed reductions, and the
same results on every x86 machine with AVX2 (AMD and Intel, AVX-512 ones included), so the nodes
of a mixed cluster agree too. It cost nothing measurable here (Resemblyzer's vector of 10 s of
audio: 0.078 CPU s either way). A machine without AVX2 gets ``AUTO`` (reproducible on that
machine); a value the user set is kept. MKL reads the variable at its first call, so it is set when
``curation`` is imported, before any model runs.
"""

import os
from pathlib import Path

MKL_BRANCH_ENV = "MKL_CBWR"


def pin_mkl_branch(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """Set ``MKL_CBWR`` unless it is set; returns the value in force."""
    if MKL_BRANCH_ENV not in os.environ:
        os.environ[MKL_BRANCH_ENV] = "AVX2" if _has_avx2(cpuinfo) else "AUTO"
    return os.environ[MKL_BRANCH_ENV]


def _has_avx2(cpuinfo: Path) -> bool:
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return "avx2" in line.split(":", 1)[-1].split()
    except OSError:
        pass
    return False
