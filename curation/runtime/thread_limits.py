"""A stage gets as many BLAS and OpenMP threads as the CPUs it declares, in every executor.

Ray starts each worker with ``OMP_NUM_THREADS`` set to the CPUs it reserved, so numpy's OpenBLAS
runs one thread in a one-CPU stage there. The local executor and the in-process benchmarks run
the same stages in the driver, whose OpenBLAS starts one thread per core, and small products then
cost far more than they compute: the 32x288 @ 288x512 product of the pHash resize took 46 ms of
CPU instead of 0.34 ms with two threads on a busy two-core machine (the threads spin waiting on
each other; measured here at load 10). Limiting the thread pools for the length of a stage's
``process`` gives the local executor Ray's behaviour. The pools are listed again whenever
Python has imported modules since the last listing (1.3 ms a listing): a library loaded after the
first stage, such as a second OpenBLAS brought in by a later stage's imports, would otherwise keep
one thread per core.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

_listed: tuple[int, ThreadpoolController] | None = None


def _controller() -> ThreadpoolController:
    """The loaded thread pools, listed again once imports have changed since the last call."""
    global _listed
    # Native libraries arrive with imports, so the module count is a cheap sign of new pools.
    if _listed is None or _listed[0] != len(sys.modules):
        _listed = (len(sys.modules), ThreadpoolController())
    return _listed[1]


@contextmanager
def threads_for(cpus: float) -> Iterator[None]:
    """BLAS and OpenMP pools limited to ``cpus`` threads (at least one) inside the block."""
    with _controller().limit(limits=max(1, int(cpus))):
        yield
